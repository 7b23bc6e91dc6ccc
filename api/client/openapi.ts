// GENERATED from the API's OpenAPI document by openapi-typescript — do not edit.
// Regenerate with `npm run gen:client` after changing an operation (test/api/contract.test.ts fails until then).
export interface paths {
    "/v1/activations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Activations of the namespace, by name
         * @description Permission `activations:read` (list and read Activations): roles admin, marketer, analyst, reader.
         */
        get: operations["listActivations"];
        put?: never;
        /**
         * Create a Activation (the custom resource, as kubectl apply would)
         * @description Permission `activations:write` (create, edit and delete Activations): roles admin, marketer.
         */
        post: operations["createActivation"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/activations/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One Activation: spec and status
         * @description Permission `activations:read` (list and read Activations): roles admin, marketer, analyst, reader.
         */
        get: operations["getActivation"];
        /**
         * Replace a Activation's spec
         * @description Permission `activations:write` (create, edit and delete Activations): roles admin, marketer.
         */
        put: operations["replaceActivation"];
        post?: never;
        /**
         * Delete a Activation
         * @description Permission `activations:write` (create, edit and delete Activations): roles admin, marketer.
         */
        delete: operations["deleteActivation"];
        options?: never;
        head?: never;
        /**
         * Change part of a Activation's spec (JSON merge patch)
         * @description The body is a JSON merge patch (RFC 7386) of the resource, sent as application/merge-patch+json or application/json: keys of spec given replace those stored, null removes one, others stay. The result must be a valid spec.
         *
         *     Permission `activations:write` (create, edit and delete Activations): roles admin, marketer.
         */
        patch: operations["patchActivation"];
        trace?: never;
    };
    "/v1/activations/{name}/results": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * An Activation's results: sends, failures and suppressions over time, why, each variant's lift over the holdout, recent deliveries
         * @description Permission `activations:read` (list and read Activations): roles admin, marketer, analyst, reader.
         */
        get: operations["getActivationResults"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/audit": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The audit log: reads of personal data, writes and exports, newest first
         * @description One record per audited call that reached its handler, whatever its status (a 404 of a profile read is recorded, an export the client cut off is status 499; a call refused before it — 401, 403, 429, 400 — touched no data and is not). Records hold who, which key id, what operation and target id, when, from where and the status — never the data nor a key. Records are written in batches: a call shows up within about a second.
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
    "/v1/catalog/items": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Load or update catalog items (1 to 1000 per call)
         * @description Each item replaces the stored item of the same id. Valid items are stored even when others in the call are refused: `rejected` lists those, by index, with every problem at its field. Decisions see the change within seconds. Events `Product Updated` (and `Product Created`) with the same properties keep the catalog current from a Source too.
         *
         *     Permission `catalog:write` (load and update product catalog items): roles admin, marketer.
         */
        put: operations["upsertCatalogItems"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/catalog/items/{item}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One catalog item
         * @description Permission `catalog:read` (read product catalog items): roles admin, marketer, analyst, reader.
         */
        get: operations["getCatalogItem"];
        put?: never;
        post?: never;
        /**
         * Remove an item from the catalog
         * @description It is no longer recommended or given to templates; a later load or catalog event of the same id brings it back.
         *
         *     Permission `catalog:write` (load and update product catalog items): roles admin, marketer.
         */
        delete: operations["deleteCatalogItem"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/decisions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * What a visitor sees in one or several placements
         * @description For each placement (a Personalization resource), the variant chosen for the visitor and its rendered content, or `fallback: true` with the reason (holdout, no match, no consent, budget, render failed, unknown placement, invalid placement, suspended): the page keeps its own content, or shows `content` when the fallback template gives one. An unknown visitor is not an error: it gets what a visitor with no profile gets. Each decision is recorded as a `Personalization Exposed` event of the visitor, from which the lift in the resource's status is computed. Keys of role decisions (browsers) may decide by `anonymousId:` only.
         *
         *     Permission `decisions:decide` (ask what a visitor sees in placements (Personalization resources): the chosen variant and its rendered content; browsers by anonymousId only): roles admin, marketer, analyst, reader, decisions.
         */
        post: operations["decide"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/items/{item}/similar": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * An item's similar items, most similar first
         * @description Cosine similarity over views and purchases, from the newest complete recommendations model version.
         *
         *     Permission `recommendations:read` (read a profile's recommendations and an item's similar items): roles admin, marketer, analyst, reader.
         */
        get: operations["getSimilarItems"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The trained model versions, newest first: personas and recommendations with their quality figures
         * @description Permission `models:read` (read model versions: persona sizes and quality figures, recommendation quality): roles admin, marketer, analyst, reader.
         */
        get: operations["listModels"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/overview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The namespace's health: volume, freshness, lag, dead letters, refusals and every resource's state
         * @description Volume and freshness come from the stored events (received_at: when the collector accepted an event; ingested_at: when ClickHouse stored it), dead letters from the dead-letter table, lag from each Pipeline's status, refusals from sampling the collector's metrics every 15 s while this is being read (so only since the first read, at most an hour; under several collector replicas, the replica the Service answered with).
         *
         *     Permission `overview:read` (read the namespace's health: event volume per Source, freshness, lag, dead letters and refusals by cause, each resource's state): roles admin, marketer, analyst, privacy, reader.
         */
        get: operations["getOverview"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/personalizations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Every placement (Personalization resource) with its exposures over time per arm and its lift over the holdout
         * @description Lift is what the operator last wrote in the resource's status (recomputed every minute); exposures come from the Personalization Exposed events in the window.
         *
         *     Permission `personalizations:read` (read placements (Personalization resources) with their exposures and lift over the holdout): roles admin, marketer, analyst, reader.
         */
        get: operations["listPersonalizations"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/pipelines": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The namespace's Pipelines: Sources, status, lag and dead-letter counts
         * @description Permission `pipelines:read` (read Pipelines: status, lag, dead letters): roles admin, analyst, reader.
         */
        get: operations["listPipelines"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/pipelines/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One Pipeline: Sources, status, lag and dead-letter counts
         * @description Permission `pipelines:read` (read Pipelines: status, lag, dead letters): roles admin, analyst, reader.
         */
        get: operations["getPipeline"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/pipelines/{name}/dead-letters": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Dead letters of the Pipeline's Sources, newest first, with their causes
         * @description Payloads are what was received, i.e. personal data: they are included only for roles that see identifiers; for the others payload is left out and payloadNote says so.
         *
         *     Permission `pipelines:read` (read Pipelines: status, lag, dead letters): roles admin, analyst, reader.
         */
        get: operations["listDeadLetters"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/pipelines/{name}/dead-letters/replay": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send the Pipeline's dead letters through again, after a fix (as uspa dlq replay)
         * @description One, a selection (messageIds) or every dead letter matching a filter: each matching dead letter not replayed before goes back to its Source's topic once and is recorded as replayed; letters without an event (unparseable input) are skipped with why. dryRun: only say what would happen.
         *
         *     Permission `pipelines:replay` (replay dead letters): roles admin.
         */
        post: operations["replayDeadLetters"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/privacy-requests": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * PrivacyRequests of the namespace, by name
         * @description Permission `privacy:requests` (make privacy requests (erase a person, or export what is held on them) and read their progress, signed receipts and exports): roles admin, privacy.
         */
        get: operations["listPrivacyRequests"];
        put?: never;
        /**
         * Create a PrivacyRequest (the custom resource, as kubectl apply would)
         * @description Permission `privacy:requests` (make privacy requests (erase a person, or export what is held on them) and read their progress, signed receipts and exports): roles admin, privacy.
         */
        post: operations["createPrivacyRequest"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/privacy-requests/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One PrivacyRequest: spec and status
         * @description Permission `privacy:requests` (make privacy requests (erase a person, or export what is held on them) and read their progress, signed receipts and exports): roles admin, privacy.
         */
        get: operations["getPrivacyRequest"];
        put?: never;
        post?: never;
        /**
         * Delete a PrivacyRequest
         * @description Permission `privacy:requests` (make privacy requests (erase a person, or export what is held on them) and read their progress, signed receipts and exports): roles admin, privacy.
         */
        delete: operations["deletePrivacyRequest"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/privacy-requests/{name}/export": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Download an access request's export, once (tar.gz)
         * @description The archive of everything held on the person: README.md, manifest.json (every file with rows, bytes and SHA-256), person.json and stores/<table>.ndjson for each store. It can be downloaded once, until status.export.expiresAt; after that (or a second time) the answer is 410 and a new access request makes a new export.
         *
         *     Permission `privacy:requests` (make privacy requests (erase a person, or export what is held on them) and read their progress, signed receipts and exports): roles admin, privacy.
         */
        get: operations["downloadPrivacyExport"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/profiles/{identity}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A profile by any of its identities
         * @description Traits with the time and Source each was set, identities, computed traits, interests, persona, Segment memberships with since when, consent. Roles without `identifiers` see "[redacted]" in place of direct identifiers, listed in `redacted`.
         *
         *     Permission `profiles:read` (read a profile: traits, identities, computed traits, persona, segments, consent): roles admin, marketer, analyst, privacy, reader.
         */
        get: operations["getProfile"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/profiles/{identity}/consent": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A profile's consent per purpose, and every change of it
         * @description The purposes the namespace's Pipelines declare (spec.consent.purposes), each granted, denied or unknown (unknown is no consent) as the profile holds it now, and the history of statements recorded for the profile's identities, newest first (at most 1000): when, granted or not, from which Source and channel (context: context.consent.categoryPreferences; traits: consent traits).
         *
         *     Permission `profiles:read` (read a profile: traits, identities, computed traits, persona, segments, consent): roles admin, marketer, analyst, privacy, reader.
         */
        get: operations["getProfileConsent"];
        /**
         * Record a change of a profile's consent (a preference center)
         * @description Each purpose named is granted (true) or withdrawn (false); others stay as they are. The change is sent as a track "Segment Consent Preference Updated" through a Source (the one named, else the first read by a Pipeline declaring the purposes) and recorded by the pipeline like consent from any event: GET of the same path shows it within seconds. 202: accepted by Kafka.
         *
         *     Permission `consent:write` (record a change of a person's consent per purpose (a preference center)): roles admin, privacy.
         */
        put: operations["recordProfileConsent"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/profiles/{identity}/decisions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * What personalizes a page for a profile: its Segments, persona and top recommendations
         * @description Nothing that names a person: no traits, no identities. The call a browser makes with a decisions key.
         *
         *     Permission `decisions:read` (read what personalizes a page: a profile's segments, persona and recommendations, without traits): roles admin, marketer, analyst, reader.
         */
        get: operations["getProfileDecisions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/profiles/{identity}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A profile's event timeline, newest first
         * @description Events of every identity of the profile, newest first (by event time, then message id), filtered by event name, type and time range.
         *
         *     Permission `events:read` (read a profile's event timeline): roles admin, marketer, analyst, privacy.
         */
        get: operations["listProfileEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/profiles/{identity}/merges": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A profile's identity graph: the links that joined its identities, refused merges and undone links, oldest first
         * @description Permission `profiles:read` (read a profile: traits, identities, computed traits, persona, segments, consent): roles admin, marketer, analyst, privacy, reader.
         */
        get: operations["listProfileMerges"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/profiles/{identity}/recommendations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A profile's recommended items, best first
         * @description From the newest complete recommendations model version.
         *
         *     Permission `recommendations:read` (read a profile's recommendations and an item's similar items): roles admin, marketer, analyst, reader.
         */
        get: operations["getProfileRecommendations"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/profiles/{identity}/unmerge": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Undo one link of a profile's identity graph (a wrong merge); answers once the Pipeline applied it
         * @description The link's two sides become separate profiles again, each with the events and traits of its own identities. Waits up to 30 s for the Pipeline's worker to apply it (504 when it did not: it may still). A refused undo answers 409 with the worker's reason.
         *
         *     Permission `identities:unmerge` (undo a link of a profile's identity graph (a wrong merge)): roles admin.
         */
        post: operations["unmergeProfile"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/segments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The namespace's Segments with their current size
         * @description In name order. Size and version come from the newest complete computation (realtime Segments: the live membership).
         *
         *     Permission `segments:read` (list Segments with their sizes and history): roles admin, marketer, analyst, privacy, reader.
         */
        get: operations["listSegments"];
        put?: never;
        /**
         * Create a Segment (the custom resource, as kubectl apply would)
         * @description Permission `segments:write` (create, edit and delete Segments): roles admin, marketer.
         */
        post: operations["createSegment"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/segments/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A Segment with its size history
         * @description history: computed versions newest first; next_cursor pages back through older ones.
         *
         *     Permission `segments:read` (list Segments with their sizes and history): roles admin, marketer, analyst, privacy, reader.
         */
        get: operations["getSegment"];
        /**
         * Replace a Segment's spec
         * @description Permission `segments:write` (create, edit and delete Segments): roles admin, marketer.
         */
        put: operations["replaceSegment"];
        post?: never;
        /**
         * Delete a Segment
         * @description Permission `segments:write` (create, edit and delete Segments): roles admin, marketer.
         */
        delete: operations["deleteSegment"];
        options?: never;
        head?: never;
        /**
         * Change part of a Segment's spec (JSON merge patch)
         * @description The body is a JSON merge patch (RFC 7386) of the resource, sent as application/merge-patch+json or application/json: keys of spec given replace those stored, null removes one, others stay. The result must be a valid spec.
         *
         *     Permission `segments:write` (create, edit and delete Segments): roles admin, marketer.
         */
        patch: operations["patchSegment"];
        trace?: never;
    };
    "/v1/segments/{name}/members": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A Segment's current members: streamed as NDJSON or CSV, or paged JSON
         * @description format=ndjson streams one {profileId, identities} object a line; format=csv streams RFC 4180 CSV with a header row (profile_id, identities space-separated); both send every member of the newest version (realtime: the live membership) once and take neither limit nor cursor. format=json (default) answers pages in profile id order (limit ≤ 1000, next_cursor); a paged read stays on the version it began with. identities=false leaves identities out (faster). A Segment not computed yet answers 409 (error.field path.name) rather than an empty list that would look like an empty audience. Every call is written to the audit log as an export of the Segment.
         *
         *     Permission `segments:export` (export a Segment's members (NDJSON, CSV)): roles admin, marketer, analyst.
         */
        get: operations["exportSegmentMembers"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sources": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The namespace's Sources with their state and last day's volume
         * @description Permission `sources:read` (read Sources: volume, tracking-plan violations, the snippet and the live stream of their newest events (payloads redacted without identifiers)): roles admin, marketer, analyst.
         */
        get: operations["listSources"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sources/{name}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * One Source: volume over time, tracking-plan violations and the snippet to paste
         * @description Permission `sources:read` (read Sources: volume, tracking-plan violations, the snippet and the live stream of their newest events (payloads redacted without identifiers)): roles admin, marketer, analyst.
         */
        get: operations["getSource"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/sources/{name}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A Source's newest stored events, for a live view: poll with after = the previous answer's cursor
         * @description Newest first, by the time ClickHouse stored them. Without after: the newest limit events. With after: only those stored since (at most limit; more: the answer says truncated). Properties, traits and context are redacted for roles without identifiers, as in a profile timeline.
         *
         *     Permission `sources:read` (read Sources: volume, tracking-plan violations, the snippet and the live stream of their newest events (payloads redacted without identifiers)): roles admin, marketer, analyst.
         */
        get: operations["tailSourceEvents"];
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
                code: "invalid_request" | "unauthenticated" | "key_expired" | "forbidden" | "origin_not_allowed" | "not_found" | "conflict" | "gone" | "rate_limited" | "unavailable" | "internal";
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
    listActivations: {
        parameters: {
            query?: {
                /** @description next_cursor of the previous page. */
                cursor?: string;
                /** @description Items per page, 1–500 (default 100). */
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of Activations. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            /** Format: date-time */
                            createdAt: string;
                            /** @description Counts spec changes; status.observedGeneration says which one the operator acted on. */
                            generation: number;
                            name: string;
                            /** @description Pass back with PUT or PATCH to write only if nobody wrote in between. */
                            resourceVersion: string;
                            spec: {
                                consent?: {
                                    category: string;
                                };
                                destination: {
                                    email?: {
                                        from: string;
                                        smtpSecretRef: {
                                            key?: string;
                                            name: string;
                                        };
                                        subject: string;
                                        to?: string;
                                    };
                                    kafka?: {
                                        topic: string;
                                    };
                                    /** @enum {string} */
                                    type: "webhook" | "kafka" | "email";
                                    webhook?: {
                                        headers?: {
                                            [key: string]: string;
                                        };
                                        secretHeaders?: {
                                            name: string;
                                            valueFrom: {
                                                secretKeyRef: {
                                                    key: string;
                                                    name: string;
                                                };
                                            };
                                        }[];
                                        signingSecretRef?: {
                                            key?: string;
                                            name: string;
                                        };
                                        timeoutSeconds?: number;
                                        url: string;
                                    };
                                };
                                frequencyCap?: {
                                    max: number;
                                    per: string;
                                };
                                holdoutPercent?: number;
                                quietHours?: {
                                    defaultTimeZone?: string;
                                    end: string;
                                    start: string;
                                    timeZoneTrait?: string;
                                };
                                segment?: string;
                                suspend?: boolean;
                                template?: {
                                    body?: string;
                                };
                                trigger: {
                                    delay?: string;
                                    event?: {
                                        name: string;
                                        where?: {
                                            /** @enum {string} */
                                            op: "eq" | "neq" | "gt" | "gte" | "lt" | "lte" | "in" | "contains" | "exists";
                                            property: string;
                                            value?: {
                                                [key: string]: unknown;
                                            };
                                        }[];
                                    };
                                    schedule?: {
                                        cron?: string;
                                        interval?: string;
                                    };
                                    /** @enum {string} */
                                    sync?: "full" | "diff";
                                    /** @enum {string} */
                                    type: "event" | "segmentEntered" | "segmentExited" | "schedule";
                                    unless?: {
                                        event: string;
                                        within: string;
                                    };
                                };
                                variants?: {
                                    name: string;
                                    template?: {
                                        body?: string;
                                    };
                                    weight: number;
                                }[];
                            };
                            /** @description Written by the operator; {} until it has seen the Activation. */
                            status: {
                                conditions?: {
                                    /** Format: date-time */
                                    lastTransitionTime: string;
                                    message: string;
                                    observedGeneration?: number;
                                    reason: string;
                                    /** @enum {string} */
                                    status: "True" | "False" | "Unknown";
                                    type: string;
                                }[];
                                failed?: number;
                                /** Format: date-time */
                                lastSentAt?: string;
                                observedGeneration?: number;
                                schedule?: string;
                                sent?: number;
                                suppressed?: number;
                                workers?: {
                                    component: string;
                                    generation: number;
                                    message?: string;
                                    reason?: string;
                                    /** Format: date-time */
                                    since: string;
                                    /** @enum {string} */
                                    state: "Live" | "Stalled";
                                }[];
                            };
                            uid: string;
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
    createActivation: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Name of the resource: lowercase letters, digits and "-", at most 63 (other resources refer to it by name). */
                    name: string;
                    spec: {
                        consent?: {
                            category: string;
                        };
                        destination: {
                            email?: {
                                from: string;
                                smtpSecretRef: {
                                    key?: string;
                                    name: string;
                                };
                                subject: string;
                                to?: string;
                            };
                            kafka?: {
                                topic: string;
                            };
                            /** @enum {string} */
                            type: "webhook" | "kafka" | "email";
                            webhook?: {
                                headers?: {
                                    [key: string]: string;
                                };
                                secretHeaders?: {
                                    name: string;
                                    valueFrom: {
                                        secretKeyRef: {
                                            key: string;
                                            name: string;
                                        };
                                    };
                                }[];
                                signingSecretRef?: {
                                    key?: string;
                                    name: string;
                                };
                                timeoutSeconds?: number;
                                url: string;
                            };
                        };
                        frequencyCap?: {
                            max: number;
                            per: string;
                        };
                        holdoutPercent?: number;
                        quietHours?: {
                            defaultTimeZone?: string;
                            end: string;
                            start: string;
                            timeZoneTrait?: string;
                        };
                        segment?: string;
                        suspend?: boolean;
                        template?: {
                            body?: string;
                        };
                        trigger: {
                            delay?: string;
                            event?: {
                                name: string;
                                where?: {
                                    /** @enum {string} */
                                    op: "eq" | "neq" | "gt" | "gte" | "lt" | "lte" | "in" | "contains" | "exists";
                                    property: string;
                                    value?: {
                                        [key: string]: unknown;
                                    };
                                }[];
                            };
                            schedule?: {
                                cron?: string;
                                interval?: string;
                            };
                            /** @enum {string} */
                            sync?: "full" | "diff";
                            /** @enum {string} */
                            type: "event" | "segmentEntered" | "segmentExited" | "schedule";
                            unless?: {
                                event: string;
                                within: string;
                            };
                        };
                        variants?: {
                            name: string;
                            template?: {
                                body?: string;
                            };
                            weight: number;
                        }[];
                    };
                };
            };
        };
        responses: {
            /** @description The Activation as the Kubernetes API server stored it (defaults filled in). */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** Format: date-time */
                        createdAt: string;
                        /** @description Counts spec changes; status.observedGeneration says which one the operator acted on. */
                        generation: number;
                        name: string;
                        /** @description Pass back with PUT or PATCH to write only if nobody wrote in between. */
                        resourceVersion: string;
                        spec: {
                            consent?: {
                                category: string;
                            };
                            destination: {
                                email?: {
                                    from: string;
                                    smtpSecretRef: {
                                        key?: string;
                                        name: string;
                                    };
                                    subject: string;
                                    to?: string;
                                };
                                kafka?: {
                                    topic: string;
                                };
                                /** @enum {string} */
                                type: "webhook" | "kafka" | "email";
                                webhook?: {
                                    headers?: {
                                        [key: string]: string;
                                    };
                                    secretHeaders?: {
                                        name: string;
                                        valueFrom: {
                                            secretKeyRef: {
                                                key: string;
                                                name: string;
                                            };
                                        };
                                    }[];
                                    signingSecretRef?: {
                                        key?: string;
                                        name: string;
                                    };
                                    timeoutSeconds?: number;
                                    url: string;
                                };
                            };
                            frequencyCap?: {
                                max: number;
                                per: string;
                            };
                            holdoutPercent?: number;
                            quietHours?: {
                                defaultTimeZone?: string;
                                end: string;
                                start: string;
                                timeZoneTrait?: string;
                            };
                            segment?: string;
                            suspend?: boolean;
                            template?: {
                                body?: string;
                            };
                            trigger: {
                                delay?: string;
                                event?: {
                                    name: string;
                                    where?: {
                                        /** @enum {string} */
                                        op: "eq" | "neq" | "gt" | "gte" | "lt" | "lte" | "in" | "contains" | "exists";
                                        property: string;
                                        value?: {
                                            [key: string]: unknown;
                                        };
                                    }[];
                                };
                                schedule?: {
                                    cron?: string;
                                    interval?: string;
                                };
                                /** @enum {string} */
                                sync?: "full" | "diff";
                                /** @enum {string} */
                                type: "event" | "segmentEntered" | "segmentExited" | "schedule";
                                unless?: {
                                    event: string;
                                    within: string;
                                };
                            };
                            variants?: {
                                name: string;
                                template?: {
                                    body?: string;
                                };
                                weight: number;
                            }[];
                        };
                        /** @description Written by the operator; {} until it has seen the Activation. */
                        status: {
                            conditions?: {
                                /** Format: date-time */
                                lastTransitionTime: string;
                                message: string;
                                observedGeneration?: number;
                                reason: string;
                                /** @enum {string} */
                                status: "True" | "False" | "Unknown";
                                type: string;
                            }[];
                            failed?: number;
                            /** Format: date-time */
                            lastSentAt?: string;
                            observedGeneration?: number;
                            schedule?: string;
                            sent?: number;
                            suppressed?: number;
                            workers?: {
                                component: string;
                                generation: number;
                                message?: string;
                                reason?: string;
                                /** Format: date-time */
                                since: string;
                                /** @enum {string} */
                                state: "Live" | "Stalled";
                            }[];
                        };
                        uid: string;
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
            /** @description A Activation of that name exists. */
            409: {
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
    getActivation: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Name of the resource: lowercase letters, digits and "-", at most 63 (other resources refer to it by name). */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The Activation. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** Format: date-time */
                        createdAt: string;
                        /** @description Counts spec changes; status.observedGeneration says which one the operator acted on. */
                        generation: number;
                        name: string;
                        /** @description Pass back with PUT or PATCH to write only if nobody wrote in between. */
                        resourceVersion: string;
                        spec: {
                            consent?: {
                                category: string;
                            };
                            destination: {
                                email?: {
                                    from: string;
                                    smtpSecretRef: {
                                        key?: string;
                                        name: string;
                                    };
                                    subject: string;
                                    to?: string;
                                };
                                kafka?: {
                                    topic: string;
                                };
                                /** @enum {string} */
                                type: "webhook" | "kafka" | "email";
                                webhook?: {
                                    headers?: {
                                        [key: string]: string;
                                    };
                                    secretHeaders?: {
                                        name: string;
                                        valueFrom: {
                                            secretKeyRef: {
                                                key: string;
                                                name: string;
                                            };
                                        };
                                    }[];
                                    signingSecretRef?: {
                                        key?: string;
                                        name: string;
                                    };
                                    timeoutSeconds?: number;
                                    url: string;
                                };
                            };
                            frequencyCap?: {
                                max: number;
                                per: string;
                            };
                            holdoutPercent?: number;
                            quietHours?: {
                                defaultTimeZone?: string;
                                end: string;
                                start: string;
                                timeZoneTrait?: string;
                            };
                            segment?: string;
                            suspend?: boolean;
                            template?: {
                                body?: string;
                            };
                            trigger: {
                                delay?: string;
                                event?: {
                                    name: string;
                                    where?: {
                                        /** @enum {string} */
                                        op: "eq" | "neq" | "gt" | "gte" | "lt" | "lte" | "in" | "contains" | "exists";
                                        property: string;
                                        value?: {
                                            [key: string]: unknown;
                                        };
                                    }[];
                                };
                                schedule?: {
                                    cron?: string;
                                    interval?: string;
                                };
                                /** @enum {string} */
                                sync?: "full" | "diff";
                                /** @enum {string} */
                                type: "event" | "segmentEntered" | "segmentExited" | "schedule";
                                unless?: {
                                    event: string;
                                    within: string;
                                };
                            };
                            variants?: {
                                name: string;
                                template?: {
                                    body?: string;
                                };
                                weight: number;
                            }[];
                        };
                        /** @description Written by the operator; {} until it has seen the Activation. */
                        status: {
                            conditions?: {
                                /** Format: date-time */
                                lastTransitionTime: string;
                                message: string;
                                observedGeneration?: number;
                                reason: string;
                                /** @enum {string} */
                                status: "True" | "False" | "Unknown";
                                type: string;
                            }[];
                            failed?: number;
                            /** Format: date-time */
                            lastSentAt?: string;
                            observedGeneration?: number;
                            schedule?: string;
                            sent?: number;
                            suppressed?: number;
                            workers?: {
                                component: string;
                                generation: number;
                                message?: string;
                                reason?: string;
                                /** Format: date-time */
                                since: string;
                                /** @enum {string} */
                                state: "Live" | "Stalled";
                            }[];
                        };
                        uid: string;
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
            /** @description Not found. */
            404: {
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
    replaceActivation: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Name of the resource: lowercase letters, digits and "-", at most 63 (other resources refer to it by name). */
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Only write if the resource is still at this resourceVersion (409 otherwise); omit to write whatever the current one is. */
                    resourceVersion?: string;
                    spec: {
                        consent?: {
                            category: string;
                        };
                        destination: {
                            email?: {
                                from: string;
                                smtpSecretRef: {
                                    key?: string;
                                    name: string;
                                };
                                subject: string;
                                to?: string;
                            };
                            kafka?: {
                                topic: string;
                            };
                            /** @enum {string} */
                            type: "webhook" | "kafka" | "email";
                            webhook?: {
                                headers?: {
                                    [key: string]: string;
                                };
                                secretHeaders?: {
                                    name: string;
                                    valueFrom: {
                                        secretKeyRef: {
                                            key: string;
                                            name: string;
                                        };
                                    };
                                }[];
                                signingSecretRef?: {
                                    key?: string;
                                    name: string;
                                };
                                timeoutSeconds?: number;
                                url: string;
                            };
                        };
                        frequencyCap?: {
                            max: number;
                            per: string;
                        };
                        holdoutPercent?: number;
                        quietHours?: {
                            defaultTimeZone?: string;
                            end: string;
                            start: string;
                            timeZoneTrait?: string;
                        };
                        segment?: string;
                        suspend?: boolean;
                        template?: {
                            body?: string;
                        };
                        trigger: {
                            delay?: string;
                            event?: {
                                name: string;
                                where?: {
                                    /** @enum {string} */
                                    op: "eq" | "neq" | "gt" | "gte" | "lt" | "lte" | "in" | "contains" | "exists";
                                    property: string;
                                    value?: {
                                        [key: string]: unknown;
                                    };
                                }[];
                            };
                            schedule?: {
                                cron?: string;
                                interval?: string;
                            };
                            /** @enum {string} */
                            sync?: "full" | "diff";
                            /** @enum {string} */
                            type: "event" | "segmentEntered" | "segmentExited" | "schedule";
                            unless?: {
                                event: string;
                                within: string;
                            };
                        };
                        variants?: {
                            name: string;
                            template?: {
                                body?: string;
                            };
                            weight: number;
                        }[];
                    };
                };
            };
        };
        responses: {
            /** @description The Activation as stored. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** Format: date-time */
                        createdAt: string;
                        /** @description Counts spec changes; status.observedGeneration says which one the operator acted on. */
                        generation: number;
                        name: string;
                        /** @description Pass back with PUT or PATCH to write only if nobody wrote in between. */
                        resourceVersion: string;
                        spec: {
                            consent?: {
                                category: string;
                            };
                            destination: {
                                email?: {
                                    from: string;
                                    smtpSecretRef: {
                                        key?: string;
                                        name: string;
                                    };
                                    subject: string;
                                    to?: string;
                                };
                                kafka?: {
                                    topic: string;
                                };
                                /** @enum {string} */
                                type: "webhook" | "kafka" | "email";
                                webhook?: {
                                    headers?: {
                                        [key: string]: string;
                                    };
                                    secretHeaders?: {
                                        name: string;
                                        valueFrom: {
                                            secretKeyRef: {
                                                key: string;
                                                name: string;
                                            };
                                        };
                                    }[];
                                    signingSecretRef?: {
                                        key?: string;
                                        name: string;
                                    };
                                    timeoutSeconds?: number;
                                    url: string;
                                };
                            };
                            frequencyCap?: {
                                max: number;
                                per: string;
                            };
                            holdoutPercent?: number;
                            quietHours?: {
                                defaultTimeZone?: string;
                                end: string;
                                start: string;
                                timeZoneTrait?: string;
                            };
                            segment?: string;
                            suspend?: boolean;
                            template?: {
                                body?: string;
                            };
                            trigger: {
                                delay?: string;
                                event?: {
                                    name: string;
                                    where?: {
                                        /** @enum {string} */
                                        op: "eq" | "neq" | "gt" | "gte" | "lt" | "lte" | "in" | "contains" | "exists";
                                        property: string;
                                        value?: {
                                            [key: string]: unknown;
                                        };
                                    }[];
                                };
                                schedule?: {
                                    cron?: string;
                                    interval?: string;
                                };
                                /** @enum {string} */
                                sync?: "full" | "diff";
                                /** @enum {string} */
                                type: "event" | "segmentEntered" | "segmentExited" | "schedule";
                                unless?: {
                                    event: string;
                                    within: string;
                                };
                            };
                            variants?: {
                                name: string;
                                template?: {
                                    body?: string;
                                };
                                weight: number;
                            }[];
                        };
                        /** @description Written by the operator; {} until it has seen the Activation. */
                        status: {
                            conditions?: {
                                /** Format: date-time */
                                lastTransitionTime: string;
                                message: string;
                                observedGeneration?: number;
                                reason: string;
                                /** @enum {string} */
                                status: "True" | "False" | "Unknown";
                                type: string;
                            }[];
                            failed?: number;
                            /** Format: date-time */
                            lastSentAt?: string;
                            observedGeneration?: number;
                            schedule?: string;
                            sent?: number;
                            suppressed?: number;
                            workers?: {
                                component: string;
                                generation: number;
                                message?: string;
                                reason?: string;
                                /** Format: date-time */
                                since: string;
                                /** @enum {string} */
                                state: "Live" | "Stalled";
                            }[];
                        };
                        uid: string;
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
            /** @description Not found. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description resourceVersion is not the current one; error.problems names the current one. */
            409: {
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
    deleteActivation: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Name of the resource: lowercase letters, digits and "-", at most 63 (other resources refer to it by name). */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted; the operator removes what it ran for it. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
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
            /** @description Not found. */
            404: {
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
    patchActivation: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Name of the resource: lowercase letters, digits and "-", at most 63 (other resources refer to it by name). */
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Only write if the resource is still at this resourceVersion (409 otherwise); omit to write whatever the current one is. */
                    resourceVersion?: string;
                    /** @description Merge patch of spec. */
                    spec?: Record<string, never>;
                };
                "application/merge-patch+json": {
                    /** @description Only write if the resource is still at this resourceVersion (409 otherwise); omit to write whatever the current one is. */
                    resourceVersion?: string;
                    /** @description Merge patch of spec. */
                    spec?: Record<string, never>;
                };
            };
        };
        responses: {
            /** @description The Activation as stored. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** Format: date-time */
                        createdAt: string;
                        /** @description Counts spec changes; status.observedGeneration says which one the operator acted on. */
                        generation: number;
                        name: string;
                        /** @description Pass back with PUT or PATCH to write only if nobody wrote in between. */
                        resourceVersion: string;
                        spec: {
                            consent?: {
                                category: string;
                            };
                            destination: {
                                email?: {
                                    from: string;
                                    smtpSecretRef: {
                                        key?: string;
                                        name: string;
                                    };
                                    subject: string;
                                    to?: string;
                                };
                                kafka?: {
                                    topic: string;
                                };
                                /** @enum {string} */
                                type: "webhook" | "kafka" | "email";
                                webhook?: {
                                    headers?: {
                                        [key: string]: string;
                                    };
                                    secretHeaders?: {
                                        name: string;
                                        valueFrom: {
                                            secretKeyRef: {
                                                key: string;
                                                name: string;
                                            };
                                        };
                                    }[];
                                    signingSecretRef?: {
                                        key?: string;
                                        name: string;
                                    };
                                    timeoutSeconds?: number;
                                    url: string;
                                };
                            };
                            frequencyCap?: {
                                max: number;
                                per: string;
                            };
                            holdoutPercent?: number;
                            quietHours?: {
                                defaultTimeZone?: string;
                                end: string;
                                start: string;
                                timeZoneTrait?: string;
                            };
                            segment?: string;
                            suspend?: boolean;
                            template?: {
                                body?: string;
                            };
                            trigger: {
                                delay?: string;
                                event?: {
                                    name: string;
                                    where?: {
                                        /** @enum {string} */
                                        op: "eq" | "neq" | "gt" | "gte" | "lt" | "lte" | "in" | "contains" | "exists";
                                        property: string;
                                        value?: {
                                            [key: string]: unknown;
                                        };
                                    }[];
                                };
                                schedule?: {
                                    cron?: string;
                                    interval?: string;
                                };
                                /** @enum {string} */
                                sync?: "full" | "diff";
                                /** @enum {string} */
                                type: "event" | "segmentEntered" | "segmentExited" | "schedule";
                                unless?: {
                                    event: string;
                                    within: string;
                                };
                            };
                            variants?: {
                                name: string;
                                template?: {
                                    body?: string;
                                };
                                weight: number;
                            }[];
                        };
                        /** @description Written by the operator; {} until it has seen the Activation. */
                        status: {
                            conditions?: {
                                /** Format: date-time */
                                lastTransitionTime: string;
                                message: string;
                                observedGeneration?: number;
                                reason: string;
                                /** @enum {string} */
                                status: "True" | "False" | "Unknown";
                                type: string;
                            }[];
                            failed?: number;
                            /** Format: date-time */
                            lastSentAt?: string;
                            observedGeneration?: number;
                            schedule?: string;
                            sent?: number;
                            suppressed?: number;
                            workers?: {
                                component: string;
                                generation: number;
                                message?: string;
                                reason?: string;
                                /** Format: date-time */
                                since: string;
                                /** @enum {string} */
                                state: "Live" | "Stalled";
                            }[];
                        };
                        uid: string;
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
            /** @description Not found. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description resourceVersion is not the current one; error.problems names the current one. */
            409: {
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
    getActivationResults: {
        parameters: {
            query?: {
                /** @description Items per page, 1–200 (default 20). */
                limit?: number;
                /** @description How far back, in minutes (5 to 10080, a week; default 60). */
                minutes?: number;
            };
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The results. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description All time: people per arm and how many converted (the conversion event within the attribution window). */
                        lift: {
                            /** @description A variant ("" without variants), or "(holdout)". */
                            arm: string;
                            converted: number;
                            /** @description People in the arm (Activations: sent to or held out; placements: shown it). */
                            exposed: number;
                            /** @description rate / holdout rate − 1 (absent: no holdout, or it never converted). */
                            lift?: number;
                            /** @description 95% interval of the lift, high end. */
                            liftHigh?: number;
                            /** @description 95% interval of the lift, low end. */
                            liftLow?: number;
                            rate: number;
                        }[];
                        name: string;
                        /** @description The Ready condition as the operator reports it (null before it did). */
                        ready: {
                            message: string;
                            reason: string;
                            /** @enum {string} */
                            status: "True" | "False" | "Unknown";
                        } | null;
                        /** @description Why not sent, in the window, most frequent first. */
                        reasons: {
                            count: number;
                            outcome: string;
                            reason: string;
                        }[];
                        recent: {
                            /** Format: date-time */
                            at: string;
                            attempt: number;
                            outcome: string;
                            profileId: string;
                            reason: string;
                            variant: string;
                        }[];
                        series: {
                            failed: number;
                            holdout: number;
                            sent: number;
                            suppressed: number;
                            /** Format: date-time */
                            t: string;
                        }[];
                        /** @description All time, as the operator reports it. */
                        status: {
                            failed: number;
                            /** Format: date-time */
                            lastSentAt: string | null;
                            sent: number;
                            suppressed: number;
                        };
                        /** @description In the window. */
                        totals: {
                            failed: number;
                            holdout: number;
                            sent: number;
                            suppressed: number;
                        };
                        window: {
                            bucketSeconds: number;
                            /** Format: date-time */
                            from: string;
                            /** Format: date-time */
                            to: string;
                        };
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
            /** @description Not found. */
            404: {
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
    upsertCatalogItems: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    items: Record<string, never>[];
                };
            };
        };
        responses: {
            /** @description What was stored and what was refused. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        rejected: {
                            id?: string;
                            index: number;
                            problems: string[];
                        }[];
                        upserted: number;
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
    getCatalogItem: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The item id (product_id or sku). */
                item: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The item. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        attributes: {
                            [key: string]: string | number | boolean;
                        };
                        available: boolean;
                        /** @description Broadest first. */
                        category: string[];
                        currency?: string;
                        id: string;
                        image?: string;
                        price?: number;
                        tags: string[];
                        title: string;
                        /**
                         * Format: date-time
                         * @description The API's clock for API and file loads; the event time for a catalog event.
                         */
                        updatedAt: string;
                        url?: string;
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
            /** @description Not found. */
            404: {
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
    deleteCatalogItem: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The item id (product_id or sku). */
                item: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
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
            /** @description Not found. */
            404: {
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
    decide: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    context?: {
                        /** @description The item the page shows: recommendations are of items like it. */
                        item?: string;
                        /** @description Where the visitor is (path, url, referrer, title). */
                        page?: {
                            [key: string]: string;
                        };
                    };
                    /** @description The visitor, "type:value": anonymousId:… from a browser; any identity from a server. */
                    identity: string;
                    placements: string[];
                };
            };
        };
        responses: {
            /** @description The decision. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        decisionId: string;
                        /** @description False when nothing about the visitor was used (no personalization consent, or the budget ran out before the profile was found). */
                        personalized: boolean;
                        placements: {
                            [key: string]: {
                                /** @description The rendered HTML or text; null when the page keeps its own. */
                                content: string | null;
                                fallback: boolean;
                                reason: string;
                                /** @description The variant, "(holdout)" for the control group, null for other fallbacks. */
                                variant: string | null;
                            };
                        };
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
    getSimilarItems: {
        parameters: {
            query?: {
                /** @description Items per page, 1–100 (default 20). */
                limit?: number;
            };
            header?: never;
            path: {
                /** @description product_id (or sku) */
                item: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The similar items. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        item: string;
                        /** @description The model version the items come from; null before the first training run. */
                        model: {
                            /** Format: date-time */
                            trainedAt: string;
                            version: number;
                        };
                        similar: {
                            item: string;
                            /** @description 1 = best */
                            rank: number;
                            score: number;
                        }[];
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
            /** @description Not found. */
            404: {
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
    listModels: {
        parameters: {
            query?: {
                /** @description Items per page, 1–100 (default 20). */
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Per model, its newest versions. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        personas: {
                            /** @description The inputs it was trained with (k or kRange, seed, features, topN …). */
                            params: Record<string, never>;
                            /** @description Personas versions: each persona with its size and share of the profiles, best rank first (DBSCAN: noise last); empty for recommendations. */
                            personas: {
                                label: string;
                                share: number;
                                size: number;
                            }[];
                            /** @description As recorded (without the clusters, which are in personas): personas — algorithm, k, silhouette, inertia, n, candidates; recommendations — items, pairs, coverage, profiles, offline precision/recall against a popularity baseline. */
                            quality: Record<string, never>;
                            /** Format: date-time */
                            trainedAt: string;
                            version: number;
                        }[];
                        recommendations: {
                            /** @description The inputs it was trained with (k or kRange, seed, features, topN …). */
                            params: Record<string, never>;
                            /** @description Personas versions: each persona with its size and share of the profiles, best rank first (DBSCAN: noise last); empty for recommendations. */
                            personas: {
                                label: string;
                                share: number;
                                size: number;
                            }[];
                            /** @description As recorded (without the clusters, which are in personas): personas — algorithm, k, silhouette, inertia, n, candidates; recommendations — items, pairs, coverage, profiles, offline precision/recall against a popularity baseline. */
                            quality: Record<string, never>;
                            /** Format: date-time */
                            trainedAt: string;
                            version: number;
                        }[];
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
    getOverview: {
        parameters: {
            query?: {
                /** @description How far back, in minutes (5 to 10080, a week; default 60). */
                minutes?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The overview. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        deadLetters: {
                            byCause: {
                                count: number;
                                reason: string;
                                source: string;
                            }[];
                            /** @description One point per bucket that had any; missing buckets are zero. */
                            series: {
                                n: number;
                                /**
                                 * Format: date-time
                                 * @description Start of the bucket.
                                 */
                                t: string;
                            }[];
                            total: number;
                        };
                        /** @description Seconds from the collector accepting an event to ClickHouse storing it (queryable). */
                        freshness: {
                            /** @description The last 5 minutes. */
                            recent: {
                                events: number;
                                p50Seconds: number | null;
                                p95Seconds: number | null;
                            };
                            series: {
                                p50Seconds: number;
                                p95Seconds: number;
                                /** Format: date-time */
                                t: string;
                            }[];
                        };
                        pipelines: {
                            consumerLag: number | null;
                            /** Format: date-time */
                            lagUpdatedAt: string | null;
                            name: string;
                            /** @description The Ready condition as the operator reports it (null before it did). */
                            ready: {
                                message: string;
                                reason: string;
                                /** @enum {string} */
                                status: "True" | "False" | "Unknown";
                            } | null;
                            sources: string[];
                        }[];
                        /** @description Requests the collector answered with 4xx or 5xx (bad write key, too large, rate limited …): they store nothing. */
                        refusals: {
                            byStatus: {
                                count: number;
                                route: string;
                                status: number;
                            }[];
                            problem?: string;
                            reachable: boolean;
                            /** @description One point per bucket that had any; missing buckets are zero. */
                            series: {
                                n: number;
                                /**
                                 * Format: date-time
                                 * @description Start of the bucket.
                                 */
                                t: string;
                            }[];
                            /**
                             * Format: date-time
                             * @description Sampling started then; nothing before is known.
                             */
                            since: string | null;
                        };
                        /** @description Every USPA custom resource of the namespace (the first 500 of each kind). */
                        resources: {
                            generation: number;
                            kind: string;
                            name: string;
                            observedGeneration: number | null;
                            /** @description The Ready condition as the operator reports it (null before it did). */
                            ready: {
                                message: string;
                                reason: string;
                                /** @enum {string} */
                                status: "True" | "False" | "Unknown";
                            } | null;
                        }[];
                        /** @description Events received per Source (every Source of the namespace's Pipelines, with or without events). */
                        sources: {
                            /** @description Over the last full minute. */
                            perSecond: number;
                            /** @description One point per bucket that had any; missing buckets are zero. */
                            series: {
                                n: number;
                                /**
                                 * Format: date-time
                                 * @description Start of the bucket.
                                 */
                                t: string;
                            }[];
                            source: string;
                            total: number;
                        }[];
                        window: {
                            bucketSeconds: number;
                            /** Format: date-time */
                            from: string;
                            /** Format: date-time */
                            to: string;
                        };
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
    listPersonalizations: {
        parameters: {
            query?: {
                /** @description How far back, in minutes (5 to 10080, a week; default 60). */
                minutes?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The placements, by name. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        placements: {
                            conversion: {
                                event: string;
                                within: string;
                            };
                            description?: string;
                            /** @description Exposures in the window, per bucket and arm. */
                            exposures: {
                                arm: string;
                                n: number;
                                /** Format: date-time */
                                t: string;
                            }[];
                            holdoutPercent: number;
                            lift: {
                                /** @description A variant ("" without variants), or "(holdout)". */
                                arm: string;
                                converted: number;
                                /** @description People in the arm (Activations: sent to or held out; placements: shown it). */
                                exposed: number;
                                /** @description rate / holdout rate − 1 (absent: no holdout, or it never converted). */
                                lift?: number;
                                /** @description 95% interval of the lift, high end. */
                                liftHigh?: number;
                                /** @description 95% interval of the lift, low end. */
                                liftLow?: number;
                                rate: number;
                            }[];
                            /** Format: date-time */
                            liftComputedAt: string | null;
                            name: string;
                            /** @description The Ready condition as the operator reports it (null before it did). */
                            ready: {
                                message: string;
                                reason: string;
                                /** @enum {string} */
                                status: "True" | "False" | "Unknown";
                            } | null;
                            strategy: string;
                            variants: string[];
                        }[];
                        window: {
                            bucketSeconds: number;
                            /** Format: date-time */
                            from: string;
                            /** Format: date-time */
                            to: string;
                        };
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
    listPipelines: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every Pipeline of the namespace (a handful: no pages). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            deadLetters: {
                                /** Format: date-time */
                                lastFailedAt: string | null;
                                /** @description Of those, the ones a replay would still send (not replayed before). */
                                pending: number;
                                /** @description Dead letters of the Pipeline's Sources. */
                                total: number;
                            };
                            generation: number;
                            name: string;
                            sources: string[];
                            /** @description As the operator reports it on the resource. */
                            status: {
                                apiUrl?: string;
                                conditions: {
                                    /** Format: date-time */
                                    lastTransitionTime?: string;
                                    message: string;
                                    reason: string;
                                    /** @enum {string} */
                                    status: "True" | "False" | "Unknown";
                                    type: string;
                                }[];
                                /** @description Events in the Sources' topics not processed yet. */
                                consumerLag?: number;
                                /** Format: date-time */
                                lagUpdatedAt?: string;
                                observedGeneration?: number;
                                readyReplicas?: number;
                                replicas?: number;
                            };
                            suspend: boolean;
                        }[];
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
    getPipeline: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Name of the Pipeline. */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The Pipeline. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        deadLetters: {
                            /** Format: date-time */
                            lastFailedAt: string | null;
                            /** @description Of those, the ones a replay would still send (not replayed before). */
                            pending: number;
                            /** @description Dead letters of the Pipeline's Sources. */
                            total: number;
                        };
                        generation: number;
                        name: string;
                        sources: string[];
                        /** @description As the operator reports it on the resource. */
                        status: {
                            apiUrl?: string;
                            conditions: {
                                /** Format: date-time */
                                lastTransitionTime?: string;
                                message: string;
                                reason: string;
                                /** @enum {string} */
                                status: "True" | "False" | "Unknown";
                                type: string;
                            }[];
                            /** @description Events in the Sources' topics not processed yet. */
                            consumerLag?: number;
                            /** Format: date-time */
                            lagUpdatedAt?: string;
                            observedGeneration?: number;
                            readyReplicas?: number;
                            replicas?: number;
                        };
                        suspend: boolean;
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
            /** @description Not found. */
            404: {
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
    listDeadLetters: {
        parameters: {
            query?: {
                /** @description next_cursor of the previous page. */
                cursor?: string;
                /** @description Items per page, 1–1000 (default 100). */
                limit?: number;
                /** @description Only dead letters with this reason, e.g. tracking_plan_violation. */
                reason?: string;
                /** @description true: only replayed ones; false: only those a replay would still send. */
                replayed?: boolean;
                /** @description Only dead letters that failed at or after this time (RFC 3339). */
                since?: string;
                /** @description Only dead letters of this Source (one of the Pipeline's). */
                source?: string;
                /** @description Only dead letters that failed at or before this time (RFC 3339). */
                until?: string;
            };
            header?: never;
            path: {
                /** @description Name of the Pipeline. */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of dead letters. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            /** @description What was wrong, field by field. */
                            errors: string[];
                            /** Format: date-time */
                            failedAt: string;
                            /** @description Empty when the input had none (it cannot be replayed). */
                            messageId: string;
                            offset: string;
                            partition: number;
                            /** @description What was received (personal data): only for roles that see identifiers. */
                            payload?: unknown;
                            /** @description The cause, e.g. tracking_plan_violation, invalid_json, invalid_event. */
                            reason: string;
                            /** @description Whether a replay has sent it through again. */
                            replayed: boolean;
                            source: string;
                            /** @description Where it failed: collector, or pipeline:<name>. */
                            stage: string;
                            /** @description Where the record was read. */
                            topic: string;
                        }[];
                        /** @description Pass as cursor to get the next page; null on the last page. */
                        next_cursor: string | null;
                        payloadNote?: string;
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
            /** @description Not found. */
            404: {
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
    replayDeadLetters: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Name of the Pipeline. */
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @default false */
                    dryRun?: boolean;
                    /** @description Only these dead letters (one, or a selection), by message id; combined with the other filters. */
                    messageIds?: string[];
                    /** @description Only dead letters with this reason, e.g. tracking_plan_violation. */
                    reason?: string;
                    /**
                     * Format: date-time
                     * @description Only dead letters that failed at or after this time (RFC 3339).
                     */
                    since?: string;
                    /** @description Only dead letters of this Source (one of the Pipeline's). */
                    source?: string;
                    /**
                     * Format: date-time
                     * @description Only dead letters that failed at or before this time (RFC 3339).
                     */
                    until?: string;
                };
            };
        };
        responses: {
            /** @description What was replayed (or, with dryRun, what would be) and what was skipped, per Source and cause. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        dryRun: boolean;
                        groups: {
                            replayed: {
                                count: number;
                                /** @description The first few. */
                                messageIds: string[];
                                reason: string;
                                source: string;
                                /** @description Why they are skipped. */
                                why?: string;
                            }[];
                            skipped: {
                                count: number;
                                /** @description The first few. */
                                messageIds: string[];
                                reason: string;
                                source: string;
                                /** @description Why they are skipped. */
                                why?: string;
                            }[];
                        };
                        /** @description Events sent (with dryRun: that would be sent). */
                        replayed: number;
                        skipped: number;
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
            /** @description Not found. */
            404: {
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
    listPrivacyRequests: {
        parameters: {
            query?: {
                /** @description next_cursor of the previous page. */
                cursor?: string;
                /** @description Items per page, 1–500 (default 100). */
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of PrivacyRequests. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            /** Format: date-time */
                            createdAt: string;
                            /** @description Counts spec changes; status.observedGeneration says which one the operator acted on. */
                            generation: number;
                            name: string;
                            /** @description Pass back with PUT or PATCH to write only if nobody wrote in between. */
                            resourceVersion: string;
                            spec: {
                                /** @enum {string} */
                                action?: "erase" | "access";
                                expiresInHours?: number;
                                identity: string;
                                /** @enum {string} */
                                mode?: "suppress" | "delete" | "suppress_with_delete";
                                reference?: string;
                                suspend?: boolean;
                            };
                            /** @description Written by the operator; {} until it has seen the PrivacyRequest. */
                            status: {
                                /** Format: date-time */
                                completedAt?: string;
                                conditions?: {
                                    /** Format: date-time */
                                    lastTransitionTime: string;
                                    message: string;
                                    observedGeneration?: number;
                                    reason: string;
                                    /** @enum {string} */
                                    status: "True" | "False" | "Unknown";
                                    type: string;
                                }[];
                                export?: {
                                    [key: string]: unknown;
                                };
                                identities?: number;
                                observedGeneration?: number;
                                /** @enum {string} */
                                phase?: "Pending" | "Running" | "Completed" | "Failed";
                                receipt?: {
                                    [key: string]: unknown;
                                };
                                rowsDeleted?: number;
                                /** Format: date-time */
                                startedAt?: string;
                                step?: string;
                                stores?: number;
                                storesDone?: number;
                                workers?: {
                                    component: string;
                                    generation: number;
                                    message?: string;
                                    reason?: string;
                                    /** Format: date-time */
                                    since: string;
                                    /** @enum {string} */
                                    state: "Live" | "Stalled";
                                }[];
                                workflowId?: string;
                            };
                            uid: string;
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
    createPrivacyRequest: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Name of the resource: lowercase letters, digits and "-", at most 63 (other resources refer to it by name). */
                    name: string;
                    spec: {
                        /** @enum {string} */
                        action?: "erase" | "access";
                        expiresInHours?: number;
                        identity: string;
                        /** @enum {string} */
                        mode?: "suppress" | "delete" | "suppress_with_delete";
                        reference?: string;
                        suspend?: boolean;
                    };
                };
            };
        };
        responses: {
            /** @description The PrivacyRequest as the Kubernetes API server stored it (defaults filled in). */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** Format: date-time */
                        createdAt: string;
                        /** @description Counts spec changes; status.observedGeneration says which one the operator acted on. */
                        generation: number;
                        name: string;
                        /** @description Pass back with PUT or PATCH to write only if nobody wrote in between. */
                        resourceVersion: string;
                        spec: {
                            /** @enum {string} */
                            action?: "erase" | "access";
                            expiresInHours?: number;
                            identity: string;
                            /** @enum {string} */
                            mode?: "suppress" | "delete" | "suppress_with_delete";
                            reference?: string;
                            suspend?: boolean;
                        };
                        /** @description Written by the operator; {} until it has seen the PrivacyRequest. */
                        status: {
                            /** Format: date-time */
                            completedAt?: string;
                            conditions?: {
                                /** Format: date-time */
                                lastTransitionTime: string;
                                message: string;
                                observedGeneration?: number;
                                reason: string;
                                /** @enum {string} */
                                status: "True" | "False" | "Unknown";
                                type: string;
                            }[];
                            export?: {
                                [key: string]: unknown;
                            };
                            identities?: number;
                            observedGeneration?: number;
                            /** @enum {string} */
                            phase?: "Pending" | "Running" | "Completed" | "Failed";
                            receipt?: {
                                [key: string]: unknown;
                            };
                            rowsDeleted?: number;
                            /** Format: date-time */
                            startedAt?: string;
                            step?: string;
                            stores?: number;
                            storesDone?: number;
                            workers?: {
                                component: string;
                                generation: number;
                                message?: string;
                                reason?: string;
                                /** Format: date-time */
                                since: string;
                                /** @enum {string} */
                                state: "Live" | "Stalled";
                            }[];
                            workflowId?: string;
                        };
                        uid: string;
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
            /** @description A PrivacyRequest of that name exists. */
            409: {
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
    getPrivacyRequest: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Name of the resource: lowercase letters, digits and "-", at most 63 (other resources refer to it by name). */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The PrivacyRequest. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** Format: date-time */
                        createdAt: string;
                        /** @description Counts spec changes; status.observedGeneration says which one the operator acted on. */
                        generation: number;
                        name: string;
                        /** @description Pass back with PUT or PATCH to write only if nobody wrote in between. */
                        resourceVersion: string;
                        spec: {
                            /** @enum {string} */
                            action?: "erase" | "access";
                            expiresInHours?: number;
                            identity: string;
                            /** @enum {string} */
                            mode?: "suppress" | "delete" | "suppress_with_delete";
                            reference?: string;
                            suspend?: boolean;
                        };
                        /** @description Written by the operator; {} until it has seen the PrivacyRequest. */
                        status: {
                            /** Format: date-time */
                            completedAt?: string;
                            conditions?: {
                                /** Format: date-time */
                                lastTransitionTime: string;
                                message: string;
                                observedGeneration?: number;
                                reason: string;
                                /** @enum {string} */
                                status: "True" | "False" | "Unknown";
                                type: string;
                            }[];
                            export?: {
                                [key: string]: unknown;
                            };
                            identities?: number;
                            observedGeneration?: number;
                            /** @enum {string} */
                            phase?: "Pending" | "Running" | "Completed" | "Failed";
                            receipt?: {
                                [key: string]: unknown;
                            };
                            rowsDeleted?: number;
                            /** Format: date-time */
                            startedAt?: string;
                            step?: string;
                            stores?: number;
                            storesDone?: number;
                            workers?: {
                                component: string;
                                generation: number;
                                message?: string;
                                reason?: string;
                                /** Format: date-time */
                                since: string;
                                /** @enum {string} */
                                state: "Live" | "Stalled";
                            }[];
                            workflowId?: string;
                        };
                        uid: string;
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
            /** @description Not found. */
            404: {
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
    deletePrivacyRequest: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Name of the resource: lowercase letters, digits and "-", at most 63 (other resources refer to it by name). */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted; the operator removes what it ran for it. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
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
            /** @description Not found. */
            404: {
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
    downloadPrivacyExport: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The archive (application/gzip: a tar.gz). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/gzip": string;
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
            /** @description No such PrivacyRequest. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Not an access request, not done yet, or failed (error.message says which). */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description Downloaded already, or expired: make a new access request. */
            410: {
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
    getProfile: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Any identity of the profile, "type:value": userId:u-1, email:ada@example.com, anonymousId:…; or profileId:<its id> */
                identity: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The profile. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        computed: {
                            eventCount: number;
                            eventCounts: {
                                [key: string]: number;
                            };
                            /** Format: date-time */
                            firstSeen: string;
                            /** Format: date-time */
                            lastOrderAt: string | null;
                            /** Format: date-time */
                            lastSeen: string;
                            lifetimeRevenue: number;
                            orderCount: number;
                            rfm: {
                                frequency: number;
                                monetary: number;
                                recency: number;
                            };
                        };
                        /** @description Each category the traits decide (the rules the activations follow); an absent category is no consent. */
                        consent: {
                            [key: string]: boolean;
                        };
                        /** @description "type:value", highest priority first. */
                        identities: string[];
                        /** @description Interest key (a category word, tag or page topic, lower case) → the recency-weighted share of the profile's interactions about it, 0–1 (half-life 30 days); at most 50, rebuilt with the profile. Segment rules read them: {interest: "shoes", op: "gte", value: 0.6}. */
                        interests: {
                            [key: string]: number;
                        };
                        /** @description From the newest complete personas model version; null when none assigned one. */
                        persona: {
                            cluster: number;
                            label: string;
                            modelVersion: number;
                        } | null;
                        profileId: string;
                        /** @description Paths of the fields shown as "[redacted]": the role lacks the identifiers permission. */
                        redacted: string[];
                        segments: {
                            segment: string;
                            /**
                             * Format: date-time
                             * @description Realtime Segments: when it last entered. Batch Segments: when the oldest version of the unbroken run of kept versions holding it was computed.
                             */
                            since: string;
                        }[];
                        traits: {
                            [key: string]: {
                                messageId: string;
                                /**
                                 * Format: date-time
                                 * @description Event time of the event that set it.
                                 */
                                setAt: string;
                                /** @description Source of that event ("" when no longer stored). */
                                source: string;
                                /** @description Any JSON value. */
                                value: unknown;
                            };
                        };
                        /**
                         * Format: date-time
                         * @description When the pipeline last rebuilt the profile.
                         */
                        updatedAt: string;
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
            /** @description Not found. */
            404: {
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
    getProfileConsent: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Any identity of the profile, "type:value": userId:u-1, email:ada@example.com, anonymousId:…; or profileId:<its id> */
                identity: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Consent now, and its history. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        history: {
                            /** Format: date-time */
                            at: string;
                            /** @enum {string} */
                            channel: "context" | "traits";
                            granted: boolean;
                            messageId: string;
                            purpose: string;
                            source: string;
                        }[];
                        profileId: string;
                        purposes: {
                            description: string | null;
                            name: string;
                            /** @enum {string} */
                            state: "granted" | "denied" | "unknown";
                        }[];
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
            /** @description Not found. */
            404: {
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
    recordProfileConsent: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Any identity of the profile, "type:value": userId:u-1, email:ada@example.com, anonymousId:…; or profileId:<its id> */
                identity: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Purpose → granted, e.g. {"marketing": false}. */
                    purposes: {
                        [key: string]: boolean;
                    };
                    /** @description The Source to send the change through (default: the first fit). */
                    source?: string;
                };
            };
        };
        responses: {
            /** @description The change is on its way to the pipeline. */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        messageId: string;
                        profileId: string;
                        purposes: {
                            [key: string]: boolean;
                        };
                        source: string;
                    };
                };
            };
            /** @description A purpose the namespace does not declare, or no Source to send it through (error.field says which). */
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
            /** @description Not found. */
            404: {
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
    getProfileDecisions: {
        parameters: {
            query?: {
                /** @description Items per page, 1–10 (default 10). */
                limit?: number;
            };
            header?: never;
            path: {
                /** @description Any identity of the profile, "type:value": userId:u-1, email:ada@example.com, anonymousId:…; or profileId:<its id> */
                identity: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The decisions. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description The persona label. */
                        persona: string | null;
                        /** @description False when the namespace declares the purpose personalization and the profile has not granted it: the page shows its defaults (no Segments, persona or recommendations are given). */
                        personalized: boolean;
                        recommendations: {
                            item: string;
                            score: number;
                        }[];
                        /** @description Names of the Segments it is a member of. */
                        segments: string[];
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
            /** @description Not found. */
            404: {
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
    listProfileEvents: {
        parameters: {
            query?: {
                /** @description next_cursor of the previous page. */
                cursor?: string;
                /** @description Only track events of this name. */
                event?: string;
                /** @description Items per page, 1–1000 (default 100). */
                limit?: number;
                /** @description Only events at or after this time. */
                since?: string;
                /** @description Only events of this type. */
                type?: "track" | "identify" | "page" | "screen" | "group" | "alias";
                /** @description Only events before this time. */
                until?: string;
            };
            header?: never;
            path: {
                /** @description Any identity of the profile, "type:value": userId:u-1, email:ada@example.com, anonymousId:…; or profileId:<its id> */
                identity: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description One page of events. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        events: {
                            anonymousId: string;
                            context: Record<string, never>;
                            device: {
                                browser: string;
                                browserVersion: string;
                                os: string;
                                osVersion: string;
                                type: string;
                            };
                            /** @description Track event name ("" for other types). */
                            event: string;
                            geo: {
                                city: string;
                                country: string;
                                region: string;
                            };
                            ip: string;
                            messageId: string;
                            /** @description Page or screen name. */
                            name: string;
                            page: {
                                path: string;
                                topics: string[];
                            };
                            properties: Record<string, never>;
                            /** Format: date-time */
                            receivedAt: string;
                            /** @description Paths of the fields shown as "[redacted]": the role lacks the identifiers permission. */
                            redacted: string[];
                            revenue: number;
                            source: string;
                            /** Format: date-time */
                            timestamp: string;
                            traits: Record<string, never>;
                            /** @enum {string} */
                            type: "track" | "identify" | "page" | "screen" | "group" | "alias";
                            userId: string;
                        }[];
                        /** @description Pass as cursor to get the next page; null on the last page. */
                        next_cursor: string | null;
                        profileId: string;
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
            /** @description Not found. */
            404: {
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
    listProfileMerges: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Any identity of the profile, "type:value": userId:u-1, email:ada@example.com, anonymousId:…; or profileId:<its id> */
                identity: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The edges (at most 1000). */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        edges: {
                            /** @description An identity ("[redacted]" for email/phone without identifiers). */
                            a: string;
                            /** @description link (joined a and b), refused (a merge over the limit), unlink (an undo), unlink_failed. */
                            action: string;
                            b: string;
                            /** Format: date-time */
                            eventTime: string;
                            id: string;
                            /** @description For a link that merged two profiles: the profile folded away. */
                            mergeFrom: string;
                            mergeInto: string;
                            /** @description The event that made the link. */
                            messageId: string;
                            reason: string;
                            /** Format: date-time */
                            recordedAt: string;
                            /** @description What linked them: identify, alias, an event carrying both … */
                            rule: string;
                            /** @description For an unlink: the link it undid. */
                            undoes: string;
                            /** @description Whether a later unlink undid this link. */
                            undone: boolean;
                        }[];
                        profileId: string;
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
            /** @description Not found. */
            404: {
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
    getProfileRecommendations: {
        parameters: {
            query?: {
                /** @description Items per page, 1–100 (default 20). */
                limit?: number;
            };
            header?: never;
            path: {
                /** @description Any identity of the profile, "type:value": userId:u-1, email:ada@example.com, anonymousId:…; or profileId:<its id> */
                identity: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The items; empty when the model has none for the profile. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: {
                            item: string;
                            /** @description 1 = best */
                            rank: number;
                            score: number;
                        }[];
                        /** @description The model version the items come from; null before the first training run. */
                        model: {
                            /** Format: date-time */
                            trainedAt: string;
                            version: number;
                        } | null;
                        profileId: string;
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
            /** @description Not found. */
            404: {
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
    unmergeProfile: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Any identity of the profile, "type:value": userId:u-1, email:ada@example.com, anonymousId:…; or profileId:<its id> */
                identity: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description id of a link edge of this profile (GET …/merges). */
                    edgeId: string;
                    /** @description The Pipeline whose worker applies it; needed only when the namespace has several. */
                    pipeline?: string;
                    /** @description Why: recorded on the undo. */
                    reason: string;
                };
            };
        };
        responses: {
            /** @description The unlink edge the worker recorded. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description An identity ("[redacted]" for email/phone without identifiers). */
                        a: string;
                        /** @description link (joined a and b), refused (a merge over the limit), unlink (an undo), unlink_failed. */
                        action: string;
                        b: string;
                        /** Format: date-time */
                        eventTime: string;
                        id: string;
                        /** @description For a link that merged two profiles: the profile folded away. */
                        mergeFrom: string;
                        mergeInto: string;
                        /** @description The event that made the link. */
                        messageId: string;
                        reason: string;
                        /** Format: date-time */
                        recordedAt: string;
                        /** @description What linked them: identify, alias, an event carrying both … */
                        rule: string;
                        /** @description For an unlink: the link it undid. */
                        undoes: string;
                        /** @description Whether a later unlink undid this link. */
                        undone: boolean;
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
            /** @description Not found. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The Pipeline's worker refused the undo (its reason is in the message). */
            409: {
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
            /** @description The worker did not apply it in time (it may still). */
            504: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
        };
    };
    listSegments: {
        parameters: {
            query?: {
                /** @description next_cursor of the previous page. */
                cursor?: string;
                /** @description Items per page, 1–1000 (default 100). */
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of Segments. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description Pass as cursor to get the next page; null on the last page. */
                        next_cursor: string | null;
                        segments: {
                            /** @description false until a first version completed (realtime: or the pipeline evaluated it); members then answer 409. */
                            computed: boolean;
                            /** Format: date-time */
                            createdAt: string;
                            description?: string;
                            /**
                             * Format: date-time
                             * @description When the newest version was computed.
                             */
                            lastComputedAt: string | null;
                            /** @enum {string} */
                            mode: "batch" | "realtime";
                            name: string;
                            /** @description The Segment's Ready condition (null until the operator reported one). */
                            ready: {
                                /** Format: date-time */
                                lastTransitionTime?: string;
                                message: string;
                                reason: string;
                                /** @enum {string} */
                                status: "True" | "False" | "Unknown";
                            } | null;
                            /** @description spec.rule as written. */
                            rule: Record<string, never>;
                            /** @description Current members: the newest version's size (batch), live members (realtime). null when not computed. */
                            size: number | null;
                            suspended: boolean;
                            /** @description Newest complete version. */
                            version: number | null;
                        }[];
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
    createSegment: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Name of the resource: lowercase letters, digits and "-", at most 63 (other resources refer to it by name). */
                    name: string;
                    spec: {
                        description?: string;
                        /** @enum {string} */
                        mode?: "batch" | "realtime";
                        refresh?: {
                            cron?: string;
                            interval?: string;
                        };
                        rule: {
                            [key: string]: unknown;
                        };
                        suspend?: boolean;
                    };
                };
            };
        };
        responses: {
            /** @description The Segment as the Kubernetes API server stored it (defaults filled in). */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** Format: date-time */
                        createdAt: string;
                        /** @description Counts spec changes; status.observedGeneration says which one the operator acted on. */
                        generation: number;
                        name: string;
                        /** @description Pass back with PUT or PATCH to write only if nobody wrote in between. */
                        resourceVersion: string;
                        spec: {
                            description?: string;
                            /** @enum {string} */
                            mode?: "batch" | "realtime";
                            refresh?: {
                                cron?: string;
                                interval?: string;
                            };
                            rule: {
                                [key: string]: unknown;
                            };
                            suspend?: boolean;
                        };
                        /** @description Written by the operator; {} until it has seen the Segment. */
                        status: {
                            compiledQuery?: string;
                            conditions?: {
                                /** Format: date-time */
                                lastTransitionTime: string;
                                message: string;
                                observedGeneration?: number;
                                reason: string;
                                /** @enum {string} */
                                status: "True" | "False" | "Unknown";
                                type: string;
                            }[];
                            dependsOn?: string[];
                            /** Format: date-time */
                            lastComputedAt?: string;
                            observedGeneration?: number;
                            schedule?: string;
                            size?: number;
                            version?: number;
                            workers?: {
                                component: string;
                                generation: number;
                                message?: string;
                                reason?: string;
                                /** Format: date-time */
                                since: string;
                                /** @enum {string} */
                                state: "Live" | "Stalled";
                            }[];
                        };
                        uid: string;
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
            /** @description A Segment of that name exists. */
            409: {
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
    getSegment: {
        parameters: {
            query?: {
                /** @description next_cursor of the previous page. */
                cursor?: string;
                /** @description Items per page, 1–1000 (default 20). */
                history_limit?: number;
            };
            header?: never;
            path: {
                /** @description Name of the Segment resource. */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The Segment. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description false until a first version completed (realtime: or the pipeline evaluated it); members then answer 409. */
                        computed: boolean;
                        /** Format: date-time */
                        createdAt: string;
                        description?: string;
                        history: {
                            /** Format: date-time */
                            computedAt: string;
                            size: number;
                            version: number;
                        }[];
                        /**
                         * Format: date-time
                         * @description When the newest version was computed.
                         */
                        lastComputedAt: string | null;
                        /** @enum {string} */
                        mode: "batch" | "realtime";
                        name: string;
                        /** @description Pass as cursor to get the next page; null on the last page. */
                        next_cursor: string | null;
                        /** @description The Segment's Ready condition (null until the operator reported one). */
                        ready: {
                            /** Format: date-time */
                            lastTransitionTime?: string;
                            message: string;
                            reason: string;
                            /** @enum {string} */
                            status: "True" | "False" | "Unknown";
                        } | null;
                        /** @description spec.rule as written. */
                        rule: Record<string, never>;
                        /** @description Current members: the newest version's size (batch), live members (realtime). null when not computed. */
                        size: number | null;
                        suspended: boolean;
                        /** @description Newest complete version. */
                        version: number | null;
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
            /** @description No such Segment (error.field path.name). */
            404: {
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
    replaceSegment: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Name of the resource: lowercase letters, digits and "-", at most 63 (other resources refer to it by name). */
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Only write if the resource is still at this resourceVersion (409 otherwise); omit to write whatever the current one is. */
                    resourceVersion?: string;
                    spec: {
                        description?: string;
                        /** @enum {string} */
                        mode?: "batch" | "realtime";
                        refresh?: {
                            cron?: string;
                            interval?: string;
                        };
                        rule: {
                            [key: string]: unknown;
                        };
                        suspend?: boolean;
                    };
                };
            };
        };
        responses: {
            /** @description The Segment as stored. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** Format: date-time */
                        createdAt: string;
                        /** @description Counts spec changes; status.observedGeneration says which one the operator acted on. */
                        generation: number;
                        name: string;
                        /** @description Pass back with PUT or PATCH to write only if nobody wrote in between. */
                        resourceVersion: string;
                        spec: {
                            description?: string;
                            /** @enum {string} */
                            mode?: "batch" | "realtime";
                            refresh?: {
                                cron?: string;
                                interval?: string;
                            };
                            rule: {
                                [key: string]: unknown;
                            };
                            suspend?: boolean;
                        };
                        /** @description Written by the operator; {} until it has seen the Segment. */
                        status: {
                            compiledQuery?: string;
                            conditions?: {
                                /** Format: date-time */
                                lastTransitionTime: string;
                                message: string;
                                observedGeneration?: number;
                                reason: string;
                                /** @enum {string} */
                                status: "True" | "False" | "Unknown";
                                type: string;
                            }[];
                            dependsOn?: string[];
                            /** Format: date-time */
                            lastComputedAt?: string;
                            observedGeneration?: number;
                            schedule?: string;
                            size?: number;
                            version?: number;
                            workers?: {
                                component: string;
                                generation: number;
                                message?: string;
                                reason?: string;
                                /** Format: date-time */
                                since: string;
                                /** @enum {string} */
                                state: "Live" | "Stalled";
                            }[];
                        };
                        uid: string;
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
            /** @description Not found. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description resourceVersion is not the current one; error.problems names the current one. */
            409: {
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
    deleteSegment: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Name of the resource: lowercase letters, digits and "-", at most 63 (other resources refer to it by name). */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Deleted; the operator removes what it ran for it. */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
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
            /** @description Not found. */
            404: {
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
    patchSegment: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Name of the resource: lowercase letters, digits and "-", at most 63 (other resources refer to it by name). */
                name: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @description Only write if the resource is still at this resourceVersion (409 otherwise); omit to write whatever the current one is. */
                    resourceVersion?: string;
                    /** @description Merge patch of spec. */
                    spec?: Record<string, never>;
                };
                "application/merge-patch+json": {
                    /** @description Only write if the resource is still at this resourceVersion (409 otherwise); omit to write whatever the current one is. */
                    resourceVersion?: string;
                    /** @description Merge patch of spec. */
                    spec?: Record<string, never>;
                };
            };
        };
        responses: {
            /** @description The Segment as stored. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** Format: date-time */
                        createdAt: string;
                        /** @description Counts spec changes; status.observedGeneration says which one the operator acted on. */
                        generation: number;
                        name: string;
                        /** @description Pass back with PUT or PATCH to write only if nobody wrote in between. */
                        resourceVersion: string;
                        spec: {
                            description?: string;
                            /** @enum {string} */
                            mode?: "batch" | "realtime";
                            refresh?: {
                                cron?: string;
                                interval?: string;
                            };
                            rule: {
                                [key: string]: unknown;
                            };
                            suspend?: boolean;
                        };
                        /** @description Written by the operator; {} until it has seen the Segment. */
                        status: {
                            compiledQuery?: string;
                            conditions?: {
                                /** Format: date-time */
                                lastTransitionTime: string;
                                message: string;
                                observedGeneration?: number;
                                reason: string;
                                /** @enum {string} */
                                status: "True" | "False" | "Unknown";
                                type: string;
                            }[];
                            dependsOn?: string[];
                            /** Format: date-time */
                            lastComputedAt?: string;
                            observedGeneration?: number;
                            schedule?: string;
                            size?: number;
                            version?: number;
                            workers?: {
                                component: string;
                                generation: number;
                                message?: string;
                                reason?: string;
                                /** Format: date-time */
                                since: string;
                                /** @enum {string} */
                                state: "Live" | "Stalled";
                            }[];
                        };
                        uid: string;
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
            /** @description Not found. */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description resourceVersion is not the current one; error.problems names the current one. */
            409: {
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
    exportSegmentMembers: {
        parameters: {
            query?: {
                /** @description format=json: next_cursor of the previous page. */
                cursor?: string;
                /** @description json (paged), ndjson or csv (streamed). */
                format?: "json" | "ndjson" | "csv";
                /** @description Include each member's identities. */
                identities?: boolean;
                /** @description format=json: members per page, 1–1000 (default 100). */
                limit?: number;
            };
            header?: never;
            path: {
                /** @description Name of the Segment resource. */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The members. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        members: {
                            /** @description "type:value"; email and phone values are "[redacted]" for roles without identifiers. [] for a profile merged away. */
                            identities?: string[];
                            profileId: string;
                        }[];
                        /** @enum {string} */
                        mode: "batch" | "realtime";
                        /** @description Pass as cursor to get the next page; null on the last page. */
                        next_cursor: string | null;
                        segment: string;
                        /** @description The version read (null: realtime live membership). */
                        version: number | null;
                    };
                    "application/x-ndjson": {
                        /** @description "type:value"; email and phone values are "[redacted]" for roles without identifiers. [] for a profile merged away. */
                        identities?: string[];
                        profileId: string;
                    };
                    "text/csv": string;
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
            /** @description No such Segment (error.field path.name). */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Error"];
                };
            };
            /** @description The Segment has not been computed yet (error.field path.name). */
            409: {
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
    listSources: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every Source, by name. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        sources: {
                            /** @description Collector path that accepts its events. */
                            endpoint: string | null;
                            last24h: {
                                deadLetters: number;
                                events: number;
                                /** @description Events the tracking plan refused (dead letters of reason tracking_plan_violation). */
                                violations: number;
                            };
                            /**
                             * Format: date-time
                             * @description When the collector received its newest stored event.
                             */
                            lastEventAt: string | null;
                            name: string;
                            /** @description The Ready condition as the operator reports it (null before it did). */
                            ready: {
                                message: string;
                                reason: string;
                                /** @enum {string} */
                                status: "True" | "False" | "Unknown";
                            } | null;
                            suspended: boolean;
                            /** @description Whether it has a tracking plan. */
                            trackingPlan: boolean;
                            type: string;
                        }[];
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
    getSource: {
        parameters: {
            query?: {
                /** @description How far back, in minutes (5 to 10080, a week; default 60). */
                minutes?: number;
            };
            header?: never;
            path: {
                /** @description Name of the Source. */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The Source. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description Where the collector answers (null: not found). */
                        collectorUrl: string | null;
                        /** @description Collector path that accepts its events. */
                        endpoint: string | null;
                        last24h: {
                            deadLetters: number;
                            events: number;
                            /** @description Events the tracking plan refused (dead letters of reason tracking_plan_violation). */
                            violations: number;
                        };
                        /**
                         * Format: date-time
                         * @description When the collector received its newest stored event.
                         */
                        lastEventAt: string | null;
                        name: string;
                        /** @description The Ready condition as the operator reports it (null before it did). */
                        ready: {
                            message: string;
                            reason: string;
                            /** @enum {string} */
                            status: "True" | "False" | "Unknown";
                        } | null;
                        /** @description One point per bucket that had any; missing buckets are zero. */
                        series: {
                            n: number;
                            /**
                             * Format: date-time
                             * @description Start of the bucket.
                             */
                            t: string;
                        }[];
                        /** @description The HTML to paste into a page (web Sources), or a curl line (others). */
                        snippet: string;
                        suspended: boolean;
                        /** @description Whether it has a tracking plan. */
                        trackingPlan: boolean;
                        type: string;
                        /** @description Tracking-plan violations in the window, by event and what was wrong, most frequent first (at most 50). */
                        violations: {
                            count: number;
                            error: string;
                            event: string;
                            /** Format: date-time */
                            lastAt: string;
                        }[];
                        window: {
                            bucketSeconds: number;
                            /** Format: date-time */
                            from: string;
                            /** Format: date-time */
                            to: string;
                        };
                        /** @description Only for roles with sources:keys (admin); null otherwise. */
                        writeKey: string | null;
                        /** @description Where the write key is, when it is not shown. */
                        writeKeyNote: string;
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
            /** @description Not found. */
            404: {
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
    tailSourceEvents: {
        parameters: {
            query?: {
                /** @description cursor of a previous answer. */
                after?: string;
                /** @description Items per page, 1–200 (default 50). */
                limit?: number;
            };
            header?: never;
            path: {
                /** @description Name of the Source. */
                name: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The newest events. */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        /** @description Pass as after next time. */
                        cursor: string;
                        events: {
                            event: {
                                anonymousId: string;
                                context: Record<string, never>;
                                device: {
                                    browser: string;
                                    browserVersion: string;
                                    os: string;
                                    osVersion: string;
                                    type: string;
                                };
                                /** @description Track event name ("" for other types). */
                                event: string;
                                geo: {
                                    city: string;
                                    country: string;
                                    region: string;
                                };
                                ip: string;
                                messageId: string;
                                /** @description Page or screen name. */
                                name: string;
                                page: {
                                    path: string;
                                    topics: string[];
                                };
                                properties: Record<string, never>;
                                /** Format: date-time */
                                receivedAt: string;
                                /** @description Paths of the fields shown as "[redacted]": the role lacks the identifiers permission. */
                                redacted: string[];
                                revenue: number;
                                source: string;
                                /** Format: date-time */
                                timestamp: string;
                                traits: Record<string, never>;
                                /** @enum {string} */
                                type: "track" | "identify" | "page" | "screen" | "group" | "alias";
                                userId: string;
                            };
                            /** Format: date-time */
                            storedAt: string;
                        }[];
                        /** @description More events were stored since after than limit: the oldest of them are not in this answer. */
                        truncated: boolean;
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
            /** @description Not found. */
            404: {
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
                        permissions: ("profiles:read" | "identifiers" | "events:read" | "segments:read" | "segments:export" | "segments:write" | "activations:read" | "activations:write" | "recommendations:read" | "decisions:read" | "decisions:decide" | "personalizations:read" | "catalog:read" | "catalog:write" | "overview:read" | "sources:read" | "sources:keys" | "models:read" | "identities:unmerge" | "pipelines:read" | "pipelines:replay" | "audit:read" | "privacy:requests" | "consent:write")[];
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
