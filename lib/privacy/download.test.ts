import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AccessExport } from '../../api/privacy.ts';
import { DOWNLOADED_ANNOTATION, type PrivacyRequest } from '../../api/v1alpha1/privacyrequest.ts';
import { downloadedPatch, exportAvailability } from './download.ts';

const NOW = new Date('2026-12-03T12:00:00Z');
const exported = { id: 'u1', expiresAt: '2026-12-04T12:00:00.000Z', files: [], bytes: 0 } as unknown as AccessExport;
const request = (over: { spec?: Partial<PrivacyRequest['spec']>; status?: PrivacyRequest['status']; annotations?: Record<string, string> } = {}): PrivacyRequest => ({
  apiVersion: 'uspa.tech/v1alpha1',
  kind: 'PrivacyRequest',
  metadata: { name: 'ada', annotations: over.annotations },
  spec: { identity: 'email:ada@example.com', action: 'access', ...over.spec },
  status: 'status' in over ? over.status : { phase: 'Completed', export: exported },
});

test('a completed access export, not downloaded nor expired, may be downloaded', () => {
  assert.deepEqual(exportAvailability(request(), NOW), { ok: true, export: exported });
});

test('refusals say why, with 409 for not (yet) possible and 410 for gone', () => {
  const refusal = (r: PrivacyRequest, now = NOW) => {
    const a = exportAvailability(r, now);
    assert.equal(a.ok, false);
    return a.ok ? undefined : [a.status, a.reason];
  };
  assert.deepEqual(refusal(request({ spec: { action: 'erase' } }))?.[0], 409);
  assert.match(String(refusal(request({ spec: { action: undefined } }))?.[1]), /is an erasure \(action erase\)/);
  assert.match(String(refusal(request({ status: { phase: 'Running', step: 'exporting' } }))?.[1]), /not ready yet \(Running: exporting\)/);
  assert.match(String(refusal(request({ status: undefined }))?.[1]), /not ready yet \(Pending\)/);
  assert.match(String(refusal(request({ status: { phase: 'Failed', conditions: [{ type: 'Degraded', status: 'True', reason: 'Failed', message: 'table x undecided', lastTransitionTime: '' }] } }))?.[1]), /failed: table x undecided/);
  assert.deepEqual(refusal(request({ annotations: { [DOWNLOADED_ANNOTATION]: '2026-12-03T11:00:00Z' } })), [410, 'the export of PrivacyRequest ada was downloaded at 2026-12-03T11:00:00Z; it is downloaded once — make a new access request for another copy']);
  assert.deepEqual(refusal(request(), new Date('2026-12-04T12:00:00Z'))?.[0], 410, 'expired at expiresAt');
});

test('the download mark is written at the version read, so a second writer is refused', () => {
  assert.deepEqual(downloadedPatch('42', NOW), { metadata: { resourceVersion: '42', annotations: { [DOWNLOADED_ANNOTATION]: '2026-12-03T12:00:00.000Z' } } });
});
