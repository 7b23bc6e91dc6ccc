// One audit record: who (key, role), what (operation, target), when, from where, with what result.
// Never the data itself nor a key: targets are ids (a profile id, a Segment name), never an email.
import type { AuditKind } from '../http/operation.ts';
import type { Role } from '../access/roles.ts';

export interface AuditEntry {
  at: string;
  requestId: string;
  key: string;
  keyId: string;
  role: Role;
  operation: string;
  kind: AuditKind;
  method: string;
  /** The route template (/v1/profiles/{identity}), never the URL: URLs carry identities. */
  route: string;
  target: string;
  status: number;
  ip: string;
  userAgent: string;
}

export interface AuditSink {
  record(entry: AuditEntry): void;
}
