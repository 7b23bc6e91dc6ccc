import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseEvent, type CanonicalEvent, type EventType } from '../api/event.ts';
import { LIMITS, contentMessageId, jsonBytes, normalizeBatch, normalizeEvent, type FieldError, type NormalizeContext, type Normalized } from './tracking-api.ts';

const RECEIVED = '2024-03-01T12:00:10.000Z';

function makeCtx(over: Partial<NormalizeContext> = {}): NormalizeContext {
  let n = 0;
  return { source: 'web', receivedAt: new Date(RECEIVED), newMessageId: () => `gen-${++n}`, ...over };
}

function ok(result: Normalized): CanonicalEvent {
  if (!result.ok) assert.fail(`expected ok, got ${JSON.stringify(result.errors)}`);
  // What the collector writes is what every consumer of the topic accepts: the contract's envelope.
  const envelope = parseEvent(Buffer.from(JSON.stringify(result.event)));
  if (!envelope.ok) assert.fail(`the collector produced an event the envelope refuses: ${envelope.errors.join('; ')}`);
  return result.event;
}

function errs(result: Normalized): FieldError[] {
  if (result.ok) assert.fail(`expected errors, got ${JSON.stringify(result.event)}`);
  return result.errors;
}

function norm(type: EventType, body: unknown, ctx = makeCtx()): Normalized {
  return normalizeEvent(type, body, ctx);
}

describe('normalizeEvent: body', () => {
  test('must be a JSON object', () => {
    for (const body of [null, undefined, 'x', 42, [], [{ userId: 'u' }]]) {
      assert.deepEqual(errs(norm('track', body)), [{ path: 'body', message: 'must be a JSON object' }]);
    }
  });

  test('a minimal track becomes a complete canonical event', () => {
    const ev = ok(norm('track', { userId: 'u1', event: 'Signed Up' }));
    assert.deepEqual(ev, {
      type: 'track',
      messageId: 'gen-1',
      timestamp: RECEIVED,
      receivedAt: RECEIVED,
      userId: 'u1',
      event: 'Signed Up',
      properties: {},
      traits: {},
      context: {},
      integrations: {},
      source: 'web',
    });
  });

  test('rejects payloads over LIMITS.eventBytes', () => {
    const body = { userId: 'u', event: 'e', properties: { blob: 'x'.repeat(LIMITS.eventBytes) } };
    assert.deepEqual(errs(norm('track', body)), [{ path: 'body', message: `must be at most ${LIMITS.eventBytes} bytes` }]);
  });

  test('pathPrefix is prepended to every error path', () => {
    assert.deepEqual(errs(normalizeEvent('track', {}, makeCtx(), 'batch[2].')), [
      { path: 'batch[2].userId', message: 'is required unless anonymousId is set' },
      { path: 'batch[2].event', message: 'is required for track' },
    ]);
    assert.deepEqual(errs(normalizeEvent('track', 'nope', makeCtx(), 'batch[2].')), [{ path: 'batch[2]', message: 'must be a JSON object' }]);
  });

  test('collects all field errors, not just the first', () => {
    const result = norm('track', { userId: {}, event: 5, properties: [], context: 'c', timestamp: 'yesterday', messageId: '' });
    assert.deepEqual(errs(result), [
      { path: 'userId', message: 'must be a string' },
      { path: 'event', message: 'must be a string' },
      { path: 'properties', message: 'must be an object' },
      { path: 'context', message: 'must be an object' },
      { path: 'messageId', message: 'must be a non-empty string' },
      { path: 'timestamp', message: 'must be an ISO 8601 date-time' },
    ]);
  });
});

describe('normalizeEvent: identities', () => {
  test('every type needs userId or anonymousId', () => {
    const bodies: Record<EventType, object> = {
      track: { event: 'e' },
      identify: {},
      page: {},
      screen: {},
      group: { groupId: 'g' },
      alias: { previousId: 'p', userId: 'u' },
    };
    for (const type of ['track', 'identify', 'page', 'screen', 'group'] as const) {
      assert.deepEqual(errs(norm(type, bodies[type])), [{ path: 'userId', message: 'is required unless anonymousId is set' }], type);
      assert.equal(ok(norm(type, { ...bodies[type], anonymousId: 'a' })).anonymousId, 'a', type);
      assert.equal(ok(norm(type, { ...bodies[type], userId: 'u' })).userId, 'u', type);
    }
    assert.equal(ok(norm('alias', bodies.alias)).userId, 'u');
  });

  test('empty strings and null count as absent', () => {
    assert.deepEqual(errs(norm('identify', { userId: '', anonymousId: null })), [{ path: 'userId', message: 'is required unless anonymousId is set' }]);
    const ev = ok(norm('identify', { userId: '', anonymousId: 'a' }));
    assert.equal(ev.userId, undefined);
    assert.equal('userId' in ev, false);
    assert.equal(ev.anonymousId, 'a');
  });

  test('finite numbers are accepted and converted to strings', () => {
    const ev = ok(norm('identify', { userId: 42, anonymousId: 1.5 }));
    assert.equal(ev.userId, '42');
    assert.equal(ev.anonymousId, '1.5');
    assert.equal(ok(norm('group', { userId: 'u', groupId: 7 })).groupId, '7');
    assert.equal(ok(norm('alias', { userId: 1, previousId: 0 })).previousId, '0');
  });

  test('other types are rejected', () => {
    for (const bad of [true, {}, ['u'], Infinity, NaN]) {
      assert.deepEqual(errs(norm('identify', { userId: bad, anonymousId: 'a' })), [{ path: 'userId', message: 'must be a string' }]);
      assert.deepEqual(errs(norm('identify', { userId: 'u', anonymousId: bad })), [{ path: 'anonymousId', message: 'must be a string' }]);
    }
  });

  test('ids are at most 512 characters', () => {
    assert.equal(ok(norm('identify', { userId: 'u'.repeat(512) })).userId?.length, 512);
    assert.deepEqual(errs(norm('identify', { userId: 'u'.repeat(513) })), [{ path: 'userId', message: 'must be at most 512 characters' }]);
    assert.deepEqual(errs(norm('identify', { userId: 'u', anonymousId: 'a'.repeat(513) })), [
      { path: 'anonymousId', message: 'must be at most 512 characters' },
    ]);
  });
});

describe('normalizeEvent: type-specific fields', () => {
  test('track needs a non-empty string event of at most 200 characters', () => {
    assert.deepEqual(errs(norm('track', { userId: 'u' })), [{ path: 'event', message: 'is required for track' }]);
    assert.deepEqual(errs(norm('track', { userId: 'u', event: '' })), [{ path: 'event', message: 'is required for track' }]);
    assert.deepEqual(errs(norm('track', { userId: 'u', event: ['x'] })), [{ path: 'event', message: 'must be a string' }]);
    assert.deepEqual(errs(norm('track', { userId: 'u', event: 'e'.repeat(201) })), [{ path: 'event', message: 'must be at most 200 characters' }]);
    assert.equal(ok(norm('track', { userId: 'u', event: 'e'.repeat(200) })).event?.length, 200);
  });

  test('group needs groupId', () => {
    assert.deepEqual(errs(norm('group', { userId: 'u' })), [{ path: 'groupId', message: 'is required for group' }]);
    assert.deepEqual(errs(norm('group', { userId: 'u', groupId: '' })), [{ path: 'groupId', message: 'is required for group' }]);
    assert.deepEqual(errs(norm('group', { userId: 'u', groupId: {} })), [{ path: 'groupId', message: 'must be a string' }]);
    const ev = ok(norm('group', { userId: 'u', groupId: 'acme', traits: { plan: 'pro' } }));
    assert.equal(ev.groupId, 'acme');
    assert.deepEqual(ev.traits, { plan: 'pro' });
  });

  test('alias needs previousId and userId (anonymousId is not enough)', () => {
    assert.deepEqual(errs(norm('alias', { anonymousId: 'a' })), [
      { path: 'userId', message: 'is required for alias' },
      { path: 'previousId', message: 'is required for alias' },
    ]);
    const ev = ok(norm('alias', { userId: 'new', previousId: 'old' }));
    assert.equal(ev.userId, 'new');
    assert.equal(ev.previousId, 'old');
  });

  test('page and screen take optional string name and category', () => {
    for (const type of ['page', 'screen'] as const) {
      const ev = ok(norm(type, { userId: 'u', name: 'Home', category: 'Docs' }));
      assert.equal(ev.name, 'Home');
      assert.equal(ev.category, 'Docs');
      const bare = ok(norm(type, { userId: 'u' }));
      assert.equal('name' in bare, false);
      assert.equal('category' in bare, false);
      assert.deepEqual(errs(norm(type, { userId: 'u', name: 1, category: {} })), [
        { path: 'name', message: 'must be a string' },
        { path: 'category', message: 'must be a string' },
      ]);
    }
  });

  test('fields of other types are not copied', () => {
    const ev = ok(norm('identify', { userId: 'u', event: 'x', name: 'n', groupId: 'g', previousId: 'p' }));
    for (const key of ['event', 'name', 'groupId', 'previousId']) assert.equal(key in ev, false, key);
  });
});

describe('normalizeEvent: objects', () => {
  test('properties, traits, context, integrations default to {} (absent or null)', () => {
    for (const body of [{ userId: 'u' }, { userId: 'u', properties: null, traits: null, context: null, integrations: null }]) {
      const ev = ok(norm('page', body));
      assert.deepEqual([ev.properties, ev.traits, ev.context, ev.integrations], [{}, {}, {}, {}]);
    }
  });

  test('are kept when plain objects', () => {
    const body = {
      userId: 'u',
      event: 'Order Completed',
      properties: { revenue: 9.5, items: [{ sku: 'a' }] },
      traits: { email: 'a@b.c' },
      context: { locale: 'en-US', page: { url: 'https://x.test/' } },
      integrations: { All: false, Mixpanel: true },
    };
    const ev = ok(norm('track', body));
    assert.deepEqual(ev.properties, body.properties);
    assert.deepEqual(ev.traits, body.traits);
    assert.deepEqual(ev.context, body.context);
    assert.deepEqual(ev.integrations, body.integrations);
  });

  test('must be plain objects when present', () => {
    const result = norm('track', { userId: 'u', event: 'e', properties: [1], traits: 'x', context: 3, integrations: true });
    assert.deepEqual(errs(result), [
      { path: 'properties', message: 'must be an object' },
      { path: 'traits', message: 'must be an object' },
      { path: 'integrations', message: 'must be an object' },
      { path: 'context', message: 'must be an object' },
    ]);
    assert.deepEqual(errs(norm('identify', { userId: 'u', traits: new Date() })), [{ path: 'traits', message: 'must be an object' }]);
  });

  test('identify keeps traits and context.traits as sent', () => {
    const both = ok(norm('identify', { userId: 'u', traits: { a: 1 }, context: { traits: { b: 2 } } }));
    assert.deepEqual(both.traits, { a: 1 });
    assert.deepEqual(both.context.traits, { b: 2 });
    const contextOnly = ok(norm('identify', { userId: 'u', context: { traits: { b: 2 } } }));
    assert.deepEqual(contextOnly.traits, {});
    assert.deepEqual(contextOnly.context.traits, { b: 2 });
    assert.deepEqual(errs(norm('identify', { userId: 'u', context: { traits: 'x' } })), [{ path: 'context.traits', message: 'must be an object' }]);
  });
});

describe('normalizeEvent: messageId', () => {
  test('is kept when a non-empty string of at most 100 characters', () => {
    assert.equal(ok(norm('identify', { userId: 'u', messageId: 'm-1' })).messageId, 'm-1');
    assert.equal(ok(norm('identify', { userId: 'u', messageId: 'm'.repeat(100) })).messageId.length, 100);
  });

  test('is generated when absent', () => {
    const ctx = makeCtx();
    assert.equal(ok(norm('identify', { userId: 'u' }, ctx)).messageId, 'gen-1');
    assert.equal(ok(norm('identify', { userId: 'u', messageId: null }, ctx)).messageId, 'gen-2');
  });

  test('is rejected when empty, too long or not a string', () => {
    assert.deepEqual(errs(norm('identify', { userId: 'u', messageId: '' })), [{ path: 'messageId', message: 'must be a non-empty string' }]);
    assert.deepEqual(errs(norm('identify', { userId: 'u', messageId: 12 })), [{ path: 'messageId', message: 'must be a non-empty string' }]);
    assert.deepEqual(errs(norm('identify', { userId: 'u', messageId: 'm'.repeat(101) })), [{ path: 'messageId', message: 'must be at most 100 characters' }]);
  });
});

describe('normalizeEvent: timestamps', () => {
  const ts = (timestamp: unknown): Normalized => norm('identify', { userId: 'u', timestamp });

  test('accept ISO 8601 forms and output toISOString (ms, UTC)', () => {
    const cases: [string, string][] = [
      ['2024-03-01T10:00:00Z', '2024-03-01T10:00:00.000Z'],
      ['2024-03-01T10:00:00.123Z', '2024-03-01T10:00:00.123Z'],
      ['2024-03-01T10:00:00.123456Z', '2024-03-01T10:00:00.123Z'],
      ['2024-03-01T10:00:00.5+02:00', '2024-03-01T08:00:00.500Z'],
      ['2024-03-01T10:00:00-0530', '2024-03-01T15:30:00.000Z'],
      ['2024-03-01T10:00+01', '2024-03-01T09:00:00.000Z'],
      ['2024-03-01T10:00:00', '2024-03-01T10:00:00.000Z'],
      ['2024-03-01', '2024-03-01T00:00:00.000Z'],
      ['2024-02-29T23:59:59.999Z', '2024-02-29T23:59:59.999Z'],
      ['1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000Z'],
    ];
    for (const [input, expected] of cases) assert.equal(ok(ts(input)).timestamp, expected, input);
  });

  test('reject anything else with a field error', () => {
    const bad: unknown[] = [
      'yesterday',
      'March 7 2024',
      'Fri, 01 Mar 2024 10:00:00 GMT',
      '2024-3-1',
      '2023-02-29T00:00:00Z',
      '2024-04-31T00:00:00Z',
      '2024-13-01T00:00:00Z',
      '2024-03-01T24:00:00Z',
      '2024-03-01T10:60:00Z',
      '2024-03-01T10:00:00+25:00',
      '',
      1709287200000,
      {},
    ];
    for (const value of bad) {
      assert.deepEqual(errs(ts(value)), [{ path: 'timestamp', message: 'must be an ISO 8601 date-time' }], JSON.stringify(value));
    }
    assert.deepEqual(errs(norm('identify', { userId: 'u', originalTimestamp: 'x', sentAt: 'y' })), [
      { path: 'originalTimestamp', message: 'must be an ISO 8601 date-time' },
      { path: 'sentAt', message: 'must be an ISO 8601 date-time' },
    ]);
  });

  test('receivedAt is the collector time and timestamp defaults to it', () => {
    const ev = ok(norm('identify', { userId: 'u' }));
    assert.equal(ev.receivedAt, RECEIVED);
    assert.equal(ev.timestamp, RECEIVED);
    assert.equal('originalTimestamp' in ev, false);
    assert.equal('sentAt' in ev, false);
  });

  test('skew correction: timestamp = receivedAt − (sentAt − originalTimestamp)', () => {
    // Client clock 5 minutes fast: it stamped the event at 12:04:55 and sent it at 12:05:00 (its time);
    // we received it at 12:00:10, so the event really happened at 12:00:05.
    const ev = ok(norm('track', { userId: 'u', event: 'e', originalTimestamp: '2024-03-01T12:04:55.000Z', sentAt: '2024-03-01T12:05:00.000Z' }));
    assert.equal(ev.timestamp, '2024-03-01T12:00:05.000Z');
    assert.equal(ev.originalTimestamp, '2024-03-01T12:04:55.000Z');
    assert.equal(ev.sentAt, '2024-03-01T12:05:00.000Z');
    assert.equal(ev.receivedAt, RECEIVED);
  });

  test('skew correction works across offsets and for slow clocks', () => {
    // Client 1h slow and in UTC+02:00: sentAt − originalTimestamp = 90 s.
    const ev = ok(norm('track', { userId: 'u', event: 'e', originalTimestamp: '2024-03-01T12:58:40.250+02:00', sentAt: '2024-03-01T11:00:10.250Z' }));
    assert.equal(ev.timestamp, '2024-03-01T11:58:40.000Z');
    assert.equal(ev.originalTimestamp, '2024-03-01T10:58:40.250Z');
  });

  test('without originalTimestamp, timestamp is the original and gets corrected with sentAt', () => {
    const ev = ok(norm('track', { userId: 'u', event: 'e', timestamp: '2024-03-01T09:00:00Z', sentAt: '2024-03-01T09:00:30Z' }));
    assert.equal(ev.originalTimestamp, '2024-03-01T09:00:00.000Z');
    assert.equal(ev.timestamp, '2024-03-01T11:59:40.000Z');
  });

  test('originalTimestamp wins over timestamp for the correction', () => {
    const ev = ok(
      norm('track', { userId: 'u', event: 'e', timestamp: '2020-01-01T00:00:00Z', originalTimestamp: '2024-03-01T12:00:00Z', sentAt: '2024-03-01T12:00:01Z' }),
    );
    assert.equal(ev.originalTimestamp, '2024-03-01T12:00:00.000Z');
    assert.equal(ev.timestamp, '2024-03-01T12:00:09.000Z');
  });

  test('without sentAt, timestamp is body.timestamp, else receivedAt', () => {
    const withTs = ok(norm('track', { userId: 'u', event: 'e', timestamp: '2024-02-01T00:00:00+01:00' }));
    assert.equal(withTs.timestamp, '2024-01-31T23:00:00.000Z');
    assert.equal(withTs.originalTimestamp, '2024-01-31T23:00:00.000Z');
    const onlyOriginal = ok(norm('track', { userId: 'u', event: 'e', originalTimestamp: '2024-02-01T00:00:00Z' }));
    assert.equal(onlyOriginal.timestamp, RECEIVED);
    assert.equal(onlyOriginal.originalTimestamp, '2024-02-01T00:00:00.000Z');
    const onlySentAt = ok(norm('track', { userId: 'u', event: 'e', sentAt: '2024-02-01T00:00:00Z' }));
    assert.equal(onlySentAt.timestamp, RECEIVED);
    assert.equal(onlySentAt.sentAt, '2024-02-01T00:00:00.000Z');
  });
});

describe('normalizeEvent: context.ip, source and writeKey', () => {
  test('a client-provided context.ip is kept', () => {
    const ev = ok(norm('identify', { userId: 'u', context: { ip: '203.0.113.9' } }, makeCtx({ ip: '198.51.100.1' })));
    assert.equal(ev.context.ip, '203.0.113.9');
  });

  test('otherwise context.ip comes from the request', () => {
    const body = { userId: 'u', context: { locale: 'fr' } };
    const ev = ok(norm('identify', body, makeCtx({ ip: '198.51.100.1' })));
    assert.deepEqual(ev.context, { locale: 'fr', ip: '198.51.100.1' });
    assert.deepEqual(body.context, { locale: 'fr' }, 'the input is not mutated');
    assert.equal(ok(norm('identify', { userId: 'u', context: { ip: '' } }, makeCtx({ ip: '198.51.100.1' }))).context.ip, '198.51.100.1');
    assert.deepEqual(ok(norm('identify', { userId: 'u' })).context, {}, 'no ip when neither is known');
  });

  test('source is the Source name from the context', () => {
    assert.equal(ok(norm('identify', { userId: 'u' }, makeCtx({ source: 'ios-app' }))).source, 'ios-app');
  });

  test('writeKey never appears in the output', () => {
    const ev = ok(norm('track', { userId: 'u', event: 'e', writeKey: 'wk_SECRET', context: { writeKey: 'wk_SECRET' } }));
    assert.equal(JSON.stringify(ev).includes('wk_SECRET'), false);
    assert.equal(JSON.stringify(ev).includes('writeKey'), false);
  });

  test('unknown top-level fields are dropped', () => {
    const ev = ok(norm('track', { userId: 'u', event: 'e', type: 'identify', channel: 'server', _metadata: { x: 1 } }));
    assert.equal(ev.type, 'track');
    assert.deepEqual(Object.keys(ev).sort(), ['context', 'event', 'integrations', 'messageId', 'properties', 'receivedAt', 'source', 'timestamp', 'traits', 'type', 'userId']);
  });
});

describe('normalizeBatch', () => {
  test('body must be an object with a non-empty batch array', () => {
    assert.deepEqual(normalizeBatch([], makeCtx()), { results: [], errors: [{ path: 'body', message: 'must be a JSON object' }] });
    for (const batch of [undefined, [], {}, 'x']) {
      assert.deepEqual(normalizeBatch({ batch }, makeCtx()), { results: [], errors: [{ path: 'batch', message: 'must be a non-empty array' }] });
    }
  });

  test('batch-level context, integrations and sentAt are validated', () => {
    assert.deepEqual(normalizeBatch({ batch: [{ type: 'identify', userId: 'u' }], context: [], integrations: 1, sentAt: 'soon' }, makeCtx()), {
      results: [],
      errors: [
        { path: 'context', message: 'must be an object' },
        { path: 'integrations', message: 'must be an object' },
        { path: 'sentAt', message: 'must be an ISO 8601 date-time' },
      ],
    });
  });

  test('rejects batches over LIMITS.batchBytes', () => {
    const item = { type: 'track', userId: 'u', event: 'e', properties: { blob: 'x'.repeat(20 * 1024) } };
    const batch = Array.from({ length: 30 }, () => item);
    assert.ok(jsonBytes({ batch }) > LIMITS.batchBytes);
    assert.deepEqual(normalizeBatch({ batch }, makeCtx()), { results: [], errors: [{ path: 'body', message: `must be at most ${LIMITS.batchBytes} bytes` }] });
  });

  test(`at most LIMITS.batchEvents events: a batch of 10,001 empty objects is refused whole, not dead-lettered one by one`, () => {
    assert.equal(normalizeBatch({ batch: Array.from({ length: LIMITS.batchEvents }, () => ({})) }, makeCtx()).results.length, LIMITS.batchEvents);
    assert.deepEqual(normalizeBatch({ batch: Array.from({ length: LIMITS.batchEvents + 1 }, () => ({})) }, makeCtx()), { results: [], errors: [{ path: 'batch', message: 'holds 10001 events; the limit is 10000 per batch' }] });
  });

  test('one result per item; bad items do not sink good ones', () => {
    const { results, errors } = normalizeBatch(
      {
        batch: [
          { type: 'track', userId: 'u', event: 'A' },
          'nope',
          { userId: 'u' },
          { type: 'login', userId: 'u' },
          { type: 'track', anonymousId: 7 },
          { type: 'track', userId: 'u', event: 'big', properties: { blob: 'x'.repeat(LIMITS.eventBytes) } },
          { type: 'alias', userId: 'u', previousId: 'p' },
        ],
      },
      makeCtx(),
    );
    assert.deepEqual(errors, []);
    assert.equal(results.length, 7);
    assert.equal(ok(results[0]!).event, 'A');
    assert.deepEqual(errs(results[1]!), [{ path: 'batch[1]', message: 'must be an object' }]);
    const typeError = { path: 'batch[2].type', message: 'must be one of track, identify, page, screen, group, alias' };
    assert.deepEqual(errs(results[2]!), [typeError]);
    assert.deepEqual(errs(results[3]!), [{ ...typeError, path: 'batch[3].type' }]);
    assert.deepEqual(errs(results[4]!), [{ path: 'batch[4].event', message: 'is required for track' }]);
    const big = { type: 'track', userId: 'u', event: 'big', properties: { blob: 'x'.repeat(LIMITS.eventBytes) } };
    assert.deepEqual(errs(results[5]!), [{ path: 'batch[5]', message: `is ${jsonBytes(big)} bytes; the limit is ${LIMITS.eventBytes} bytes per event` }]);
    assert.equal(ok(results[6]!).type, 'alias');
  });

  test('item messageIds are kept or generated per item', () => {
    const { results } = normalizeBatch({ batch: [{ type: 'identify', userId: 'u', messageId: 'm1' }, { type: 'identify', userId: 'u' }] }, makeCtx());
    assert.deepEqual(results.map((r) => ok(r).messageId), ['m1', 'gen-1']);
  });

  test('batch context merges shallowly under item context; item keys win', () => {
    const body = {
      context: { library: { name: 'analytics-node', version: '3' }, locale: 'en', ip: '203.0.113.1' },
      batch: [
        { type: 'identify', userId: 'u' },
        { type: 'identify', userId: 'u', context: { locale: 'de', library: { name: 'custom' }, app: { build: '7' } } },
        { type: 'identify', userId: 'u', context: 'bad' },
      ],
    };
    const { results } = normalizeBatch(body, makeCtx({ ip: '198.51.100.1' }));
    assert.deepEqual(ok(results[0]!).context, body.context);
    assert.deepEqual(ok(results[1]!).context, { library: { name: 'custom' }, locale: 'de', ip: '203.0.113.1', app: { build: '7' } });
    assert.deepEqual(errs(results[2]!), [{ path: 'batch[2].context', message: 'must be an object' }]);
    assert.deepEqual(body.context, { library: { name: 'analytics-node', version: '3' }, locale: 'en', ip: '203.0.113.1' }, 'input not mutated');
  });

  test('request ip fills items without context.ip', () => {
    const { results } = normalizeBatch({ batch: [{ type: 'identify', userId: 'u' }, { type: 'identify', userId: 'u', context: { ip: '203.0.113.5' } }] }, makeCtx({ ip: '198.51.100.1' }));
    assert.deepEqual(results.map((r) => ok(r).context.ip), ['198.51.100.1', '203.0.113.5']);
  });

  test('batch integrations apply to items without their own; item integrations win whole', () => {
    const { results } = normalizeBatch(
      { integrations: { All: false, Amplitude: true }, batch: [{ type: 'identify', userId: 'u' }, { type: 'identify', userId: 'u', integrations: { Mixpanel: true } }] },
      makeCtx(),
    );
    assert.deepEqual(ok(results[0]!).integrations, { All: false, Amplitude: true });
    assert.deepEqual(ok(results[1]!).integrations, { Mixpanel: true });
  });

  test('batch sentAt drives skew correction for items without their own', () => {
    const { results } = normalizeBatch(
      {
        sentAt: '2024-03-01T12:05:00.000Z',
        batch: [
          { type: 'track', userId: 'u', event: 'e', timestamp: '2024-03-01T12:04:00.000Z' },
          { type: 'track', userId: 'u', event: 'e', timestamp: '2024-03-01T12:04:00.000Z', sentAt: '2024-03-01T12:04:30.000Z' },
          { type: 'track', userId: 'u', event: 'e' },
        ],
      },
      makeCtx(),
    );
    const [a, b, c] = results.map(ok);
    assert.equal(a!.timestamp, '2024-03-01T11:59:10.000Z');
    assert.equal(a!.sentAt, '2024-03-01T12:05:00.000Z');
    assert.equal(b!.timestamp, '2024-03-01T11:59:40.000Z');
    assert.equal(b!.sentAt, '2024-03-01T12:04:30.000Z');
    assert.equal(c!.timestamp, RECEIVED);
  });

  test('item field errors use the batch[i]. prefix and are all collected', () => {
    const { results } = normalizeBatch({ batch: [{ type: 'identify', userId: 'u' }, { type: 'group', userId: [], traits: 1, timestamp: 'x' }] }, makeCtx());
    assert.deepEqual(errs(results[1]!), [
      { path: 'batch[1].userId', message: 'must be a string' },
      { path: 'batch[1].groupId', message: 'is required for group' },
      { path: 'batch[1].traits', message: 'must be an object' },
      { path: 'batch[1].timestamp', message: 'must be an ISO 8601 date-time' },
    ]);
  });

  test('writeKey never appears in batch output', () => {
    const { results } = normalizeBatch(
      { writeKey: 'wk_SECRET', context: { writeKey: 'wk_SECRET' }, batch: [{ type: 'track', userId: 'u', event: 'e', writeKey: 'wk_SECRET' }] },
      makeCtx(),
    );
    assert.equal(results.length, 1);
    assert.equal(ok(results[0]!).event, 'e');
    assert.equal(JSON.stringify(results).includes('wk_SECRET'), false);
  });
});

describe('jsonBytes', () => {
  test('is the UTF-8 length of the JSON text', () => {
    assert.equal(jsonBytes({ a: 1 }), 7);
    assert.equal(jsonBytes('é'), 4);
    assert.equal(jsonBytes('😀'), 6);
    assert.equal(jsonBytes(undefined), 0);
  });
});

describe('normalizeEvent: the event time window', () => {
  const at = (body: Record<string, unknown>): Normalized => norm('track', { userId: 'u', event: 'e', ...body });
  const refused = (result: Normalized): { reason: string | undefined; errors: FieldError[]; event: CanonicalEvent | undefined } => {
    if (result.ok) assert.fail(`expected a refusal, got ${JSON.stringify(result.event)}`);
    return { reason: result.reason, errors: result.errors, event: result.event };
  };

  test('from 1970-01-01 to 24 h after receivedAt, both ends included', () => {
    assert.equal(ok(at({ timestamp: '1970-01-01T00:00:00.000Z' })).timestamp, '1970-01-01T00:00:00.000Z');
    assert.equal(ok(at({ timestamp: '2024-03-02T12:00:10.000Z' })).timestamp, '2024-03-02T12:00:10.000Z');
  });

  test('a time past 24 h ahead is refused as timestamp_out_of_window, with the event as it would have been stored', () => {
    const r = refused(at({ messageId: 'far', timestamp: '2099-01-01T00:00:00Z' }));
    assert.equal(r.reason, 'timestamp_out_of_window');
    assert.deepEqual(r.errors, [{ path: 'timestamp', message: `event time 2099-01-01T00:00:00.000Z is more than 24 h after the collector received it (${RECEIVED})` }]);
    assert.equal(r.event?.messageId, 'far');
    assert.equal(r.event?.timestamp, '2099-01-01T00:00:00.000Z');
    assert.equal(refused(at({ timestamp: '2024-03-02T12:00:10.001Z' })).reason, 'timestamp_out_of_window');
  });

  test('a time before 1970 is refused with the same reason; the path carries the batch prefix', () => {
    const r = normalizeEvent('track', { userId: 'u', event: 'e', timestamp: '1969-12-31T23:59:59.999Z' }, makeCtx(), 'batch[4].');
    assert.deepEqual(refused(r).errors, [{ path: 'batch[4].timestamp', message: 'event time 1969-12-31T23:59:59.999Z is before 1970-01-01, the earliest the collector accepts' }]);
  });

  test('the window applies to the skew-corrected time: a client clock in 2099 that sends sentAt is corrected, not refused', () => {
    const ev = ok(at({ originalTimestamp: '2099-01-01T00:00:00Z', sentAt: '2099-01-01T00:00:05Z' }));
    assert.equal(ev.timestamp, '2024-03-01T12:00:05.000Z');
    assert.equal(ev.originalTimestamp, '2099-01-01T00:00:00.000Z');
    // Queued 60 years on the device before sending: corrected, and still out of the window.
    const r = refused(at({ originalTimestamp: '1964-01-01T00:00:00Z', sentAt: '2024-03-01T12:00:10Z' }));
    assert.match(r.errors[0]!.message, /^event time 1964-01-01T00:00:00.000Z \(the client time corrected for clock skew with sentAt\) is before 1970-01-01/);
  });

  test('dates the event log cannot store (before 1900, after 2299) are invalid fields, in any date field', () => {
    const message = 'must be between 1900-01-01 and 2299-12-31 (the dates the event log can store)';
    for (const field of ['timestamp', 'originalTimestamp', 'sentAt']) {
      for (const value of ['1899-12-31T23:59:59Z', '0050-01-01T00:00:00Z', '2300-01-01T00:00:00Z', '9999-12-31T23:59:59Z']) {
        const r = refused(at({ [field]: value }));
        assert.equal(r.reason, undefined, `${field} ${value}`);
        assert.deepEqual(r.errors, [{ path: field, message }], `${field} ${value}`);
      }
    }
  });

  test('"NaN", numbers and out-of-range parts get a per-field cause', () => {
    for (const value of ['NaN', 'Invalid Date', '2024-00-10T00:00:00Z', '+275760-09-13T00:00:00Z', NaN, 1e21]) {
      assert.deepEqual(errs(at({ timestamp: value })), [{ path: 'timestamp', message: 'must be an ISO 8601 date-time' }], String(value));
    }
  });
});

describe('contentMessageId: the id of an event sent without one', () => {
  const event = { type: 'track', userId: 'u', event: 'Clicked', properties: { a: 1, b: [1, 2] }, context: { ip: '1.2.3.4' } };

  test('is stable: the same event sent again, keys in another order, a later sentAt or another writeKey field, gets the same id', () => {
    const id = contentMessageId('source-a', event);
    assert.match(id, /^c-[A-Za-z0-9_-]{43}$/);
    assert.ok(id.length <= LIMITS.messageIdChars);
    const reordered = { context: { ip: '1.2.3.4' }, properties: { b: [1, 2], a: 1 }, event: 'Clicked', userId: 'u', type: 'track' };
    assert.equal(contentMessageId('source-a', reordered), id);
    assert.equal(contentMessageId('source-a', { ...event, sentAt: '2024-03-01T00:00:00Z', receivedAt: 'x', writeKey: 'k' }), id);
  });

  test('differs by Source and by any field of the event', () => {
    const id = contentMessageId('source-a', event);
    assert.notEqual(contentMessageId('source-b', event), id);
    assert.notEqual(contentMessageId('source-a', { ...event, properties: { a: 2, b: [1, 2] } }), id);
    assert.notEqual(contentMessageId('source-a', { ...event, timestamp: '2024-03-01T00:00:00Z' }), id);
    assert.notEqual(contentMessageId('source-a', { ...event, properties: { a: 1, b: [2, 1] } }), id, 'array order is content');
  });

  test('normalizeEvent passes the body as sent to newMessageId', () => {
    const ctx = makeCtx({ newMessageId: (body) => contentMessageId('s', body) });
    const a = ok(normalizeEvent('track', { ...event, sentAt: '2024-03-01T12:00:00Z' }, ctx)).messageId;
    const b = ok(normalizeEvent('track', { ...event, sentAt: '2024-03-01T12:00:09Z' }, ctx)).messageId;
    assert.equal(a, b, 'a retry with a new sentAt keeps the id');
    const batch = normalizeBatch({ batch: [event], sentAt: '2024-03-01T12:00:00Z' }, ctx);
    assert.equal(ok(batch.results[0]!).messageId, a, 'the same event in a batch gets the same id');
  });

  test('the type is part of the content: the same body sent to two endpoints is two events', () => {
    const ctx = makeCtx({ newMessageId: (body) => contentMessageId('s', body) });
    const body = { userId: 'u', name: 'Home' };
    const ids = (['identify', 'page', 'screen'] as const).map((type) => ok(normalizeEvent(type, body, ctx)).messageId);
    assert.equal(new Set(ids).size, 3, ids.join(' '));
    assert.equal(ok(normalizeEvent('page', { ...body, type: 'identify' }, ctx)).messageId, ids[1], 'a stray "type" field does not change what the endpoint says');
  });
});

describe('normalizeBatch: items refused while reading the body', () => {
  test('keep the reader\'s errors and are not looked into (a deep one would overflow the stack)', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const refused = new Map([[1, [{ path: 'batch[1].properties', message: 'nests deeper than 32 levels' }]]]);
    const { results, errors } = normalizeBatch({ batch: [{ type: 'track', userId: 'u', event: 'A' }, { type: 'track', properties: { deep } }] }, makeCtx(), refused);
    assert.deepEqual(errors, []);
    assert.equal(ok(results[0]!).event, 'A');
    assert.deepEqual(errs(results[1]!), refused.get(1));
  });
});
