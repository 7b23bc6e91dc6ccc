import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEvent } from './event.ts';

const event = { type: 'track', event: 'Signed Up', messageId: 'm-1', timestamp: '2026-01-01T00:00:00.000Z', receivedAt: '2026-01-01T00:00:01.000Z', userId: 'u-1', source: 'web', properties: {}, traits: {}, context: {}, integrations: {} };
const parse = (value: unknown) => parseEvent(Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)));

test('event envelope: a canonical event passes as it is', () => {
  assert.deepEqual(parse(event), { ok: true, event });
});

test('event envelope: what is wrong is said by field, with the payload kept for the dead letter', () => {
  assert.deepEqual(parse('{"type":'), { ok: false, reason: 'invalid_json', errors: [`record value is not JSON: ${(() => { try { JSON.parse('{"type":'); } catch (e) { return (e as Error).message; } })()}`], payload: '{"type":' });
  const { userId, ...anonymous } = event;
  assert.equal(userId, 'u-1');
  const noIdentity = parse(anonymous);
  assert.equal(noIdentity.ok, false);
  assert.ok(!noIdentity.ok && noIdentity.reason === 'invalid_event' && noIdentity.errors.includes('anonymousId: is required') && noIdentity.errors.includes('userId: is required'), JSON.stringify(noIdentity));
  const bad = parse({ ...event, type: 'purchase', timestamp: 'yesterday' });
  assert.ok(!bad.ok);
  assert.deepEqual(bad.errors, ['type: must be equal to one of the allowed values (track, identify, page, screen, group, alias)', 'timestamp: must match format "date-time"']);
  assert.deepEqual(bad.payload, { ...event, type: 'purchase', timestamp: 'yesterday' });
  assert.equal(parseEvent(null).ok, false);
});
