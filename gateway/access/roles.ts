// Who may do what: the permission matrix of the README, as code. Every operation names one
// permission; fields holding direct identifiers are shown only to roles with `identifiers`.

import { API_ROLES, type ApiRole } from '../../api/v1alpha1/index.ts';

export const ROLES = API_ROLES;
export type Role = ApiRole;

export const PERMISSIONS = {
  'profiles:read': 'read a profile: traits, identities, computed traits, persona, segments, consent',
  identifiers: 'see direct identifiers (email addresses, phone numbers, names, IP addresses) instead of "[redacted]"',
  'events:read': "read a profile's event timeline",
  'segments:read': 'list Segments with their sizes and history',
  'segments:export': "export a Segment's members (NDJSON, CSV)",
  'segments:write': 'create, edit and delete Segments',
  'activations:read': 'list and read Activations',
  'activations:write': 'create, edit and delete Activations',
  'recommendations:read': "read a profile's recommendations and an item's similar items",
  'decisions:read': "read what personalizes a page: a profile's segments, persona and recommendations, without traits",
  'decisions:decide': 'ask what a visitor sees in placements (Personalization resources): the chosen variant and its rendered content; browsers by anonymousId only',
  'personalizations:read': 'read placements (Personalization resources) with their exposures and lift over the holdout',
  'catalog:read': 'read product catalog items',
  'catalog:write': 'load and update product catalog items',
  'overview:read': "read the namespace's health: event volume per Source, freshness, lag, dead letters and refusals by cause, each resource's state",
  'sources:read': "read Sources: volume, tracking-plan violations, the snippet and the live stream of their newest events (payloads redacted without identifiers)",
  'sources:keys': "see a Source's write key (in the snippet to paste)",
  'models:read': 'read model versions: persona sizes and quality figures, recommendation quality',
  'identities:unmerge': "undo a link of a profile's identity graph (a wrong merge)",
  'pipelines:read': 'read Pipelines: status, lag, dead letters',
  'pipelines:replay': 'replay dead letters',
  'audit:read': 'read the audit log',
  'privacy:requests': 'make privacy requests (erase a person, or export what is held on them) and read their progress, signed receipts and exports',
  'consent:write': "record a change of a person's consent per purpose (a preference center)",
} as const;
export type Permission = keyof typeof PERMISSIONS;

const ALL = Object.keys(PERMISSIONS) as Permission[];

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  admin: ALL,
  marketer: ['overview:read', 'personalizations:read', 'sources:read', 'models:read', 'profiles:read', 'identifiers', 'events:read', 'segments:read', 'segments:export', 'segments:write', 'activations:read', 'activations:write', 'recommendations:read', 'decisions:read', 'decisions:decide', 'catalog:read', 'catalog:write'],
  analyst: ['overview:read', 'personalizations:read', 'sources:read', 'models:read', 'profiles:read', 'events:read', 'segments:read', 'segments:export', 'activations:read', 'recommendations:read', 'decisions:read', 'decisions:decide', 'catalog:read', 'pipelines:read'],
  privacy: ['overview:read', 'profiles:read', 'identifiers', 'events:read', 'segments:read', 'audit:read', 'privacy:requests', 'consent:write'],
  reader: ['overview:read', 'personalizations:read', 'models:read', 'profiles:read', 'segments:read', 'activations:read', 'recommendations:read', 'decisions:read', 'decisions:decide', 'catalog:read', 'pipelines:read'],
  // The only role fit for browsers: its key is public in a page's source, so it reads no profile at
  // all — it asks what a visitor sees, by the visitor's own anonymousId.
  decisions: ['decisions:decide'],
};

export const ROLE_DESCRIPTIONS: Record<Role, string> = {
  admin: 'everything, including dead-letter replay and the audit log',
  marketer: 'profiles with identifiers, Segments and Activations (read and write), exports',
  analyst: 'profiles and timelines without direct identifiers, Segments, exports, Pipelines (read only)',
  privacy: 'privacy requests (erasure with a signed receipt, access exports), recording consent changes, profiles with identifiers and timelines, the audit log',
  reader: 'read only, without direct identifiers and without exports or timelines',
  decisions: 'browsers: what a visitor sees in placements, by its anonymousId; reads no profile; only from its listed origins',
};

export function allows(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].includes(permission);
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
