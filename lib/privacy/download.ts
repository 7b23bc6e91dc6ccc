// Whether an access request's export may be downloaded now: it is an access request, done, not
// expired, and nobody downloaded it yet. The API and the CLI both ask this, then mark the request
// downloaded (an annotation written at the resourceVersion they read, so of two racing downloads
// one wins) before they stream the archive.
import type { Writable } from 'node:stream';
import type { AccessExport } from '../../api/privacy.ts';
import { DOWNLOADED_ANNOTATION, type PrivacyRequest } from '../../api/v1alpha1/privacyrequest.ts';
import type { Warehouse } from '../clickhouse.ts';
import { dropExport, writeArchive } from './export.ts';

export type Availability = { ok: true; export: AccessExport } | { ok: false; status: 409 | 410; reason: string };

export function exportAvailability(request: PrivacyRequest, now: Date): Availability {
  const name = request.metadata.name;
  if (request.spec.action !== 'access') return { ok: false, status: 409, reason: `PrivacyRequest ${name} is an erasure (action ${request.spec.action ?? 'erase'}); only access requests have an export` };
  const downloaded = request.metadata.annotations?.[DOWNLOADED_ANNOTATION];
  if (downloaded) return { ok: false, status: 410, reason: `the export of PrivacyRequest ${name} was downloaded at ${downloaded}; it is downloaded once — make a new access request for another copy` };
  const s = request.status;
  if (s?.phase === 'Failed') return { ok: false, status: 409, reason: `PrivacyRequest ${name} failed: ${s.conditions?.find((c) => c.type === 'Degraded')?.message ?? 'see its conditions'}` };
  if (s?.phase !== 'Completed' || !s.export) return { ok: false, status: 409, reason: `the export of PrivacyRequest ${name} is not ready yet (${s?.phase ?? 'Pending'}${s?.step ? `: ${s.step}` : ''}); try again when status.phase is Completed` };
  if (Date.parse(s.export.expiresAt) <= now.getTime()) return { ok: false, status: 410, reason: `the export of PrivacyRequest ${name} expired at ${s.export.expiresAt} and was dropped; make a new access request` };
  return { ok: true, export: s.export };
}

/** The merge patch that marks a request downloaded, refused (409) unless it is still at resourceVersion. */
export function downloadedPatch(resourceVersion: string, now: Date): Record<string, unknown> {
  return { metadata: { resourceVersion, annotations: { [DOWNLOADED_ANNOTATION]: now.toISOString() } } };
}

/** The archive's top folder, and its file name. */
export const archiveRoot = (request: PrivacyRequest): string => `export-${request.metadata.name}`;
export const archiveName = (request: PrivacyRequest): string => `${archiveRoot(request)}.tar.gz`;

/** The one download, once the request is marked downloaded: the archive streamed into `out`, then its files dropped. */
export async function deliverExport(warehouse: Warehouse, request: PrivacyRequest, exported: AccessExport, out: Writable): Promise<{ files: number; bytes: number }> {
  const written = await writeArchive(warehouse, exported.id, out, archiveRoot(request));
  await dropExport(warehouse, exported.id);
  return written;
}
