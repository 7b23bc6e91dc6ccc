// ApiKey: a key for the namespace's API gateway (`uspa api`), with a role that says what it may do.
// The operator generates the key into a Secret; status carries only its hash, never the key.
import { createHash, randomBytes } from 'node:crypto';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import {
  type API_VERSION,
  type CommonSpec,
  type CommonStatus,
  DNS1123_SUBDOMAIN,
  array,
  customResourceDefinition,
  dateTime,
  enumOf,
  int32,
  object,
  required,
  specSchema,
  statusSchema,
  string,
} from './meta.ts';

export const API_ROLES = ['admin', 'marketer', 'analyst', 'privacy', 'reader', 'decisions'] as const;
export type ApiRole = (typeof API_ROLES)[number];

/** A browser origin: scheme://host[:port], no path, lowercase as browsers send it. */
export const ORIGIN = '^https?://[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?$';

export interface ApiKeyRateLimit {
  requestsPerSecond?: number;
  burst?: number;
}

export interface ApiKeySpec extends CommonSpec {
  role: ApiRole;
  /** RFC 3339; the key is refused from then on. */
  expiresAt?: string;
  /** Browser origins allowed to use the key (CORS); role decisions only, and required there. */
  origins?: string[];
  rateLimit?: ApiKeyRateLimit;
  description?: string;
  /** Absent: `uspa-apikey-<name>` (api/names.ts apiKeySecret). */
  secretName?: string;
}

export interface ApiKeyStatus extends CommonStatus {
  /** The Secret holding the key (data key `apiKey`). */
  secretName?: string;
  /** "sha256:<lowercase hex>" of the key string: what the gateway compares. */
  keyHash?: string;
  /** The first 12 hex characters of the hash, for display and audit. */
  keyId?: string;
  /** When the current key was generated (the Secret's creation). */
  keyCreatedAt?: string;
}

export interface ApiKey {
  apiVersion: typeof API_VERSION;
  kind: 'ApiKey';
  metadata: V1ObjectMeta;
  spec: ApiKeySpec;
  status?: ApiKeyStatus;
}

export const API_KEY_DEFAULTS = { rateLimit: { requestsPerSecond: 50, burst: 100 } } as const;

/** "sha256:<hex>" of a key: the only form of it that may be stored or shown. */
export function apiKeyHash(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}

/** The short id of a key hash (12 hex characters), safe to log and print. */
export function apiKeyId(hash: string): string {
  return hash.replace(/^sha256:/, '').slice(0, 12);
}

/** A new key: `uspa_` and 32 random bytes, base64url (the prefix makes leaked keys easy to scan for). */
export function generateApiKey(): string {
  return `uspa_${randomBytes(32).toString('base64url')}`;
}

const apiKeySpec = specSchema<ApiKeySpec>(
  'Desired state of the ApiKey.',
  {
    role: required(
      enumOf(
        'What the key may do through the API gateway: admin (everything), marketer (Segments and Activations), analyst (read queries over profiles and events), privacy (data subject requests: export and delete), reader (read only), decisions (browser-facing decisions for one visitor; requires spec.origins).',
        API_ROLES,
      ),
    ),
    expiresAt: dateTime('When the key stops working (RFC 3339, e.g. "2027-01-01T00:00:00Z"). The ApiKey is then Ready=False with reason Expired. Never when omitted.'),
    origins: array(
      'Browser origins allowed to call the gateway with this key (CORS), as scheme://host[:port] without a path, e.g. "https://shop.example.com". Required when role is decisions, not allowed otherwise. 1 to 20.',
      string('A browser origin.', { maxLength: 256, pattern: ORIGIN }),
      { minItems: 1, maxItems: 20, 'x-kubernetes-list-type': 'set' },
    ),
    rateLimit: object<ApiKeyRateLimit>(
      'Cap on requests per second the gateway accepts with this key (token bucket); over it, HTTP 429 with Retry-After.',
      {
        requestsPerSecond: int32('Sustained requests per second (refill rate of the bucket).', { minimum: 1, maximum: 10000, default: API_KEY_DEFAULTS.rateLimit.requestsPerSecond }),
        burst: int32('Bucket size: requests accepted at once after a quiet period.', { minimum: 1, maximum: 100000, default: API_KEY_DEFAULTS.rateLimit.burst }),
      },
      { default: {} },
    ),
    description: string('What the key is for and who holds it, for the people reading it. Not used by the operator.', { maxLength: 256 }),
    secretName: string('Name of the Secret (same namespace) the operator keeps the key in, under data key apiKey. Default uspa-apikey-<name>. Deleting the Secret rotates the key.', {
      minLength: 1,
      maxLength: 253,
      pattern: DNS1123_SUBDOMAIN,
    }),
  },
  {
    validations: [
      { rule: "self.role != 'decisions' || has(self.origins)", message: 'spec.origins is required when role is decisions: list the browser origins allowed to use the key', fieldPath: '.origins', reason: 'FieldValueRequired' },
      { rule: "!has(self.origins) || self.role == 'decisions'", message: 'spec.origins is only allowed when role is decisions', fieldPath: '.origins', reason: 'FieldValueForbidden' },
    ],
  },
);

const apiKeyStatus = statusSchema<ApiKeyStatus>('Observed state of the ApiKey, written by the operator. The key itself never appears here.', {
  secretName: string('Name of the Secret (same namespace) holding the key under data key apiKey.'),
  keyHash: string('SHA-256 of the key string, as "sha256:<lowercase hex>": what the gateway checks a presented key against.', { pattern: '^sha256:[0-9a-f]{64}$' }),
  keyId: string('The first 12 hex characters of keyHash: names the key in logs and audit records.', { pattern: '^[0-9a-f]{12}$' }),
  keyCreatedAt: dateTime('When the current key was generated; a rotated key (its Secret deleted) gets a new time.'),
});

export const apiKeyCrd = customResourceDefinition({
  kind: 'ApiKey',
  plural: 'apikeys',
  singular: 'apikey',
  shortNames: ['ak'],
  description:
    'An ApiKey lets a client call the namespace\'s API gateway (Service uspa-api) with a role. The operator generates the key into a Secret (uspa-apikey-<name>, data key apiKey); deleting the Secret rotates it. Status shows the key\'s hash and id, never the key.',
  spec: apiKeySpec,
  status: apiKeyStatus,
  printerColumns: [
    { name: 'Role', type: 'string', jsonPath: '.spec.role', description: 'What the key may do.' },
    { name: 'Expires', type: 'date', jsonPath: '.spec.expiresAt', description: 'When the key stops working.' },
    { name: 'Key', type: 'string', jsonPath: '.status.keyId', description: 'Id of the current key (the start of its hash).' },
    { name: 'Secret', type: 'string', jsonPath: '.status.secretName', description: 'Secret holding the key.', priority: 1 },
  ],
});
