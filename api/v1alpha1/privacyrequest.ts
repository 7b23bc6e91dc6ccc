// PrivacyRequest: a data subject's request for one person, named by any of their identities: an
// erasure (GDPR Art. 17, CCPA deletion) or an access export (GDPR Art. 15, CCPA right to know). The
// operator runs it as a Temporal workflow in the namespace's privacy worker and writes its progress
// into status and, once done, the signed receipt or the export waiting to be downloaded.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { ERASURE_MODES, type AccessExport, type ErasureMode, type ErasureReceipt } from '../privacy.ts';
import { type API_VERSION, type CommonSpec, type CommonStatus, customResourceDefinition, dateTime, enumOf, freeformObject, int32, required, specSchema, statusSchema, string } from './meta.ts';

export const PRIVACY_ACTIONS = ['erase', 'access'] as const;
export type PrivacyAction = (typeof PRIVACY_ACTIONS)[number];

export const PRIVACY_PHASES = ['Pending', 'Running', 'Completed', 'Failed'] as const;
export type PrivacyPhase = (typeof PRIVACY_PHASES)[number];

/** Set on a PrivacyRequest when its access export was downloaded (by the API or the CLI): once only. */
export const DOWNLOADED_ANNOTATION = 'uspa.tech/export-downloaded-at';

/** How long an access export waits for its one download, by default and at most. */
export const EXPORT_HOURS = { default: 72, max: 720 } as const;

/** "<type>:<value>" as the identity graph names identities (userId:u-1, email:ada@example.com). */
export const IDENTITY_PATTERN = '^[A-Za-z][A-Za-z0-9_]*:.+$';

export interface PrivacyRequestSpec extends CommonSpec {
  /** Any identity of the person; the whole graph linked to it is covered. */
  identity: string;
  /** Default erase. */
  action?: PrivacyAction;
  /** Erasures only; default suppress_with_delete. */
  mode?: ErasureMode;
  /** Access only: hours the export waits for its one download (default 72). */
  expiresInHours?: number;
  /** Who asked and on what grounds (a ticket number); kept with the request, not used. */
  reference?: string;
}

export interface PrivacyRequestStatus extends CommonStatus {
  phase?: PrivacyPhase;
  /** The workflow carrying the request out. */
  workflowId?: string;
  /** Where it is: resolving, suppressing, waiting for suppression, erasing, sweeping, signing, done. */
  step?: string;
  /** Identities of the person's graph, once resolved. */
  identities?: number;
  storesDone?: number;
  stores?: number;
  /** Rows deleted across every store. */
  rowsDeleted?: number;
  startedAt?: string;
  completedAt?: string;
  /** The signed receipt (`uspa privacy verify` checks it). */
  receipt?: ErasureReceipt;
  /** An access request's export: its files, waiting to be downloaded once until expiresAt. */
  export?: AccessExport;
}

export interface PrivacyRequest {
  apiVersion: typeof API_VERSION;
  kind: 'PrivacyRequest';
  metadata: V1ObjectMeta;
  spec: PrivacyRequestSpec;
  status?: PrivacyRequestStatus;
}

const privacyRequestSpec = specSchema<PrivacyRequestSpec>(
  'The request. It cannot be changed once made: create another PrivacyRequest instead.',
  {
    identity: required(string('Any identity of the person, as <type>:<value> (email:ada@example.com, userId:u-1, anonymousId:…). Every identity linked to it in the identity graph is covered, and the receipt lists them.', { minLength: 3, maxLength: 1024, pattern: IDENTITY_PATTERN })),
    action: enumOf('What is asked: erase (the person\'s data, with a signed receipt) or access (an export of everything held on the person, downloadable once).', PRIVACY_ACTIONS, { default: 'erase' }),
    mode: enumOf('Erasures only (default suppress_with_delete). suppress: stop storing the person\'s events (nothing deleted); delete: delete what is stored (new events are stored again); suppress_with_delete: both.', ERASURE_MODES),
    expiresInHours: int32(`Access only: hours the export waits for its one download before it is dropped (default ${EXPORT_HOURS.default}).`, { minimum: 1, maximum: EXPORT_HOURS.max }),
    reference: string('Who asked and on what grounds, e.g. a ticket number. Kept with the request; not used.', { maxLength: 256 }),
  },
  {
    validations: [
      { rule: 'self == oldSelf', message: 'a PrivacyRequest cannot be changed once made: create another one' },
      { rule: "!has(self.action) || self.action != 'access' || !has(self.mode)", message: 'mode is for erasures; an access request has none' },
      { rule: "!has(self.expiresInHours) || (has(self.action) && self.action == 'access')", message: 'expiresInHours is for access requests (action: access)' },
    ],
  },
);

const privacyRequestStatus = statusSchema<PrivacyRequestStatus>('Observed state of the request, written by the operator.', {
  phase: enumOf('Pending (waiting for the privacy worker), Running, Completed (the receipt is in status.receipt) or Failed (see the Degraded condition).', PRIVACY_PHASES),
  workflowId: string('The Temporal workflow carrying the request out.'),
  step: string('Where the request is. Erasure: resolving, suppressing, waiting for suppression, erasing, sweeping, signing, done. Access: resolving, exporting, writing the manifest, done.'),
  identities: int32('Identities of the person\'s graph, once resolved.', { minimum: 0 }),
  storesDone: int32('Stores (ClickHouse tables) done.', { minimum: 0 }),
  stores: int32('Stores that can hold the person, found by scanning the schema.', { minimum: 0 }),
  rowsDeleted: int32('Rows deleted across every store.', { minimum: 0 }),
  startedAt: dateTime('When the workflow started.'),
  completedAt: dateTime('When the receipt was signed.'),
  export: freeformObject(`An access request's export: every file (a store's rows as NDJSON, person.json, manifest.json, README.md) with rows, bytes and SHA-256, and expiresAt. Downloaded once as tar.gz: GET /v1/privacy-requests/{name}/export or uspa privacy download; the annotation ${DOWNLOADED_ANNOTATION} says when.`),
  receipt: freeformObject('The signed erasure receipt: for each store the identities covered, rows before and after, the statement and the time; each Kafka topic\'s retention date; an HMAC-SHA256 signature with the namespace\'s key (Secret uspa-privacy-signing-key). `uspa privacy verify` re-counts and checks it.'),
});

export const privacyRequestCrd = customResourceDefinition({
  kind: 'PrivacyRequest',
  plural: 'privacyrequests',
  singular: 'privacyrequest',
  shortNames: ['pr'],
  description:
    'A PrivacyRequest erases one person (named by any of their identities) from the namespace — their whole identity graph is suppressed at collection and deleted from every ClickHouse table that can hold them, and status.receipt holds a signed receipt of what was removed — or (action: access) exports everything held on them, downloadable once.',
  spec: privacyRequestSpec,
  status: privacyRequestStatus,
  printerColumns: [
    { name: 'Action', type: 'string', jsonPath: '.spec.action', description: 'erase or access.' },
    { name: 'Mode', type: 'string', jsonPath: '.spec.mode', description: 'An erasure\'s mode: suppress, delete or suppress_with_delete.' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Pending, Running, Completed or Failed.' },
    { name: 'Step', type: 'string', jsonPath: '.status.step', description: 'Where a running request is.' },
    { name: 'Deleted', type: 'integer', jsonPath: '.status.rowsDeleted', description: 'Rows deleted.' },
    { name: 'Identity', type: 'string', jsonPath: '.spec.identity', description: 'The identity the request named.', priority: 1 },
  ],
});
