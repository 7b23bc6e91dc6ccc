// GENERATED from the API's OpenAPI document by openapi-typescript — do not edit.
// Regenerate with `npm run gen:client` after changing an operation (test/api/contract.test.ts fails until then).
export interface paths {
    "/v1/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The audit log: reads of personal data, writes and exports, newest first
         * @description One record per audited call that reached its handler, whatever its status (a 404 of a profile read is recorded; a call refused before it — 401, 403, 429, 400 — touched no data and is not). Records hold who, which key id, what operation and target id, when, from where and the status — never the data nor a key. Records are written in batches: a call shows up within about a second.
         *
         *     Permission `audit:read` (read the audit log): roles admin, privacy.
         */
        get: operations["listAudit"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/whoami": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The calling key's ApiKey, role and permissions
         * @description Any valid key.
         */
        get: operations["whoami"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        Error: {
            error: {
                /** @enum {string} */
                code: "invalid_request" | "unauthenticated" | "key_expired" | "forbidden" | "origin_not_allowed" | "not_found" | "conflict" | "rate_limited" | "unavailable" | "internal";
                /** @description The input to blame: query.<name>, path.<name>, body.<path>, header.<name> */
                field?: string;
                message: string;
                problems?: {
                    field: string;
                    message: string;
                }[];
                status: number;
            };
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    listAudit: {
        parameters: {
            query?: {
                /** @description Only calls with this ApiKey (its name). */
                apiKey?: string;
                /** @description next_cursor of the previous page. */
                cursor?: string;
                /** @description Only reads, writes or exports. */
                kind?: "read" | "write" | "export";
                /** @description Items per page, 1–1000 (default 100). */
                limit?: number;
                /** @description Only this operationId. */
                operation?: string;
                /** @description Only calls at or after this time. */
                since?: string;
                /** @description Only calls about this target (a profile id, a Segment name). */
                target?: string;
                /** @description Only calls before this time. */
                until?: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of audit records, newest first. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            /** @description Name of the ApiKey resource. */
                            apiKey: string;
                            /** Format: date-time */
                            at: string;
                            ip: string;
                            /** @description First characters of the key's SHA-256 (never the key). */
                            keyId: string;
                            /** @enum {string} */
                            kind: "read" | "write" | "export";
                            method: string;
                            /** @description operationId of the call. */
                            operation: string;
                            /** @description X-Request-Id of the call. */
                            requestId: string;
                            /** @enum {string} */
                            role: "admin" | "marketer" | "analyst" | "privacy" | "reader" | "decisions";
                            /** @description The path template, never the URL (URLs carry identities). */
                            route: string;
                            status: number;
                            /** @description What the call was about: a profile id, a Segment name (never an email); empty when the call failed before it was known. */
                            target: string;
                            userAgent: string;
                        }[];
                        /** @description Pass as cursor to get the next page; null on the last page. */
                        next_cursor: string | null;
                    };
                };
            };
            /** @description A parameter or the body is invalid; error.field names it. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No key, an unknown, rotated or revoked key, or an expired one. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The key's role lacks the permission, or the request's Origin is not one of the key's origins. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Over the key's rate limit; Retry-After says when to retry. */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description An engine the API needs is unavailable; retry. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    whoami: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The caller. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description Name of the ApiKey resource. */
                        apiKey: string;
                        /** @description First characters of the key's SHA-256 (never the key). */
                        keyId: string;
                        origins: string[];
                        permissions: ("profiles:read" | "identifiers" | "events:read" | "segments:read" | "segments:export" | "segments:write" | "activations:read" | "activations:write" | "recommendations:read" | "decisions:read" | "pipelines:read" | "pipelines:replay" | "audit:read")[];
                        /** @enum {string} */
                        role: "admin" | "marketer" | "analyst" | "privacy" | "reader" | "decisions";
                    };
                };
            };
            /** @description A parameter or the body is invalid; error.field names it. */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description No key, an unknown, rotated or revoked key, or an expired one. */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The key's role lacks the permission, or the request's Origin is not one of the key's origins. */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Over the key's rate limit; Retry-After says when to retry. */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description An engine the API needs is unavailable; retry. */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
}
