import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { jsonErrorMessage, readJsonBody, type ReadBody } from './body.ts';

const batchOptions = { maxDepth: 4, batchKey: 'batch' };

function read(text: string | Buffer, options: { maxDepth: number; batchKey?: string } = batchOptions): Extract<ReadBody, { ok: true }> {
  const r = readJsonBody(Buffer.isBuffer(text) ? text : Buffer.from(text), options);
  if (!r.ok) assert.fail(`expected a readable body, got ${JSON.stringify(r.error)}`);
  return r;
}

function nested(levels: number): string {
  return '['.repeat(levels) + ']'.repeat(levels);
}

describe('readJsonBody', () => {
  test('a clean batch has no problems', () => {
    const r = read(JSON.stringify({ batch: [{ type: 'track', properties: { a: { b: 1 } }, tags: ['x', 'y'] }, { type: 'page' }], context: { a: 1 } }));
    assert.deepEqual(r.problems.request, []);
    assert.deepEqual([...r.problems.items], []);
    assert.equal((r.value.batch as unknown[]).length, 2);
  });

  test('empty, non-JSON and non-object bodies are refused with a cause at "body"', () => {
    assert.deepEqual(readJsonBody(Buffer.from('  '), batchOptions), { ok: false, error: { path: 'body', message: 'is empty; send a JSON object' } });
    assert.deepEqual(readJsonBody(Buffer.from('[1]'), batchOptions), { ok: false, error: { path: 'body', message: 'must be a JSON object' } });
    const bad = readJsonBody(Buffer.from('{"a": tru}'), batchOptions);
    assert.deepEqual(bad, { ok: false, error: { path: 'body', message: "is not valid JSON: unexpected character '}'" } });
  });

  test('a JSON error never quotes the body (a write key in it would reach the response and the logs)', () => {
    const secret = 'wk_live_0123456789abcdef';
    for (const text of [`{"writeKey":"${secret}", "a": undefined}`, `{"pad":"${'x'.repeat(80)}","writeKey":"${secret}", "a": nope, "b": "${'y'.repeat(80)}"}`, `{"writeKey":"${secret}"`]) {
      const r = readJsonBody(Buffer.from(text), batchOptions);
      assert.equal(r.ok, false);
      if (!r.ok) assert.doesNotMatch(r.error.message, new RegExp(secret), r.error.message);
    }
    assert.equal(jsonErrorMessage(new Error('Unexpected end of JSON input')), 'Unexpected end of JSON input');
    assert.equal(jsonErrorMessage(new Error('"undefined" is not valid JSON')), 'syntax error');
  });

  test('duplicate keys: the event holding one is named with the key, at any depth', () => {
    const r = read('{"batch": [{"type":"track","event":"ok"}, {"type":"identify","traits":{"plan":"free","plan":"pro"}}, {"type":"track","type":"page"}]}');
    assert.deepEqual(r.problems.request, []);
    assert.deepEqual([...r.problems.items], [
      [1, [{ path: 'batch[1].traits.plan', message: 'duplicate key "plan": JSON.parse would keep only the last; send each key once' }]],
      [2, [{ path: 'batch[2].type', message: 'duplicate key "type": JSON.parse would keep only the last; send each key once' }]],
    ]);
  });

  test('duplicate keys compare decoded: "a" and "\\u0061" are the same key; the same key in sibling objects is fine', () => {
    const r = read('{"batch": [{"a":1,"\\u0061":2}, {"x":{"k":1},"y":{"k":2}}]}');
    assert.deepEqual([...r.problems.items.keys()], [0]);
    assert.match(r.problems.items.get(0)![0]!.message, /^duplicate key "a"/);
  });

  test('duplicate keys outside the events (the batch envelope) make the request itself unreadable', () => {
    const r = read('{"batch": [{"type":"track"}], "batch": [{"type":"page"}]}');
    assert.deepEqual(r.problems.request, [{ path: 'batch', message: 'duplicate key "batch": JSON.parse would keep only the last; send each key once' }]);
    const single = read('{"event":"a","event":"b"}', { maxDepth: 4 });
    assert.deepEqual(single.problems.request, [{ path: 'event', message: 'duplicate key "event": JSON.parse would keep only the last; send each key once' }]);
  });

  test('depth is counted from each event: level maxDepth passes, one more is refused once per event', () => {
    // The event object is level 1, so an event may hold maxDepth − 1 more levels.
    const r = read(`{"batch": [{"p":${nested(3)}}, {"p":${nested(4)}}, {"p":${nested(4)},"q":${nested(9)}}]}`);
    assert.deepEqual(r.problems.request, []);
    assert.deepEqual([...r.problems.items], [
      [1, [{ path: 'batch[1].p[0][0][0]', message: 'nests deeper than 4 levels' }]],
      [2, [{ path: 'batch[2].p[0][0][0]', message: 'nests deeper than 4 levels' }]],
    ]);
    const single = read(`{"p":${nested(4)}}`, { maxDepth: 4 });
    assert.deepEqual(single.problems.request, [{ path: 'p[0][0][0]', message: 'nests deeper than 4 levels' }]);
  });

  test('a body nested a million levels costs no stack, and its path is cut short', () => {
    const r = read(`{"batch": [{"type":"track"}, {"p":${nested(1_000_000)}}]}`, { maxDepth: 32, batchKey: 'batch' });
    assert.deepEqual([...r.problems.items.keys()], [1]);
    const [problem] = r.problems.items.get(1)!;
    assert.equal(problem!.message, 'nests deeper than 32 levels');
    assert.ok(problem!.path.length <= 301, `path of ${problem!.path.length} characters`);
    assert.deepEqual(r.problems.spans.get(0), { start: 11, end: 27 });
  });

  test('invalid UTF-8 is found in the string that holds it; a valid U+FFFD elsewhere in the body is not', () => {
    const good = Buffer.from('{"batch": [{"type":"track","event":"caf\u00e9 \ufffd"}, {"type":"track","event":"');
    const bad = Buffer.concat([good, Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}, {"type":"page"}]}')]);
    const r = read(bad);
    assert.deepEqual([...r.problems.items], [[1, [{ path: 'batch[1].event', message: 'holds bytes that are not UTF-8' }]]], 'a U+FFFD sent as such is not mistaken for a replaced byte');
    assert.equal((r.value.batch as Array<{ event: string }>)[1]!.event, '\ufffd(\ufffd', 'the text keeps one U+FFFD per invalid sequence');
    assert.deepEqual([...read(Buffer.concat([good, Buffer.from('x"}]}')])).problems.items], [], 'valid UTF-8 with U+FFFD is accepted');
  });

  test('invalid UTF-8 in a key, or in an escaped string, is found too', () => {
    const body = Buffer.concat([Buffer.from('{"batch": [{"ok":"a\\"b"}, {"k'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('":1}, {"s":"x\\"'), Buffer.from([0xf8]), Buffer.from('"}]}')]);
    assert.deepEqual([...read(body).problems.items.keys()], [1, 2]);
  });

  test('spans locate each batch item in the text (its dead letter when it cannot be re-serialized)', () => {
    const text = '{"batch": [ {"a":[1,{"b":2}]} , {"c":"}"} ]}';
    const r = read(text);
    assert.equal(text.slice(r.problems.spans.get(0)!.start, r.problems.spans.get(0)!.end), '{"a":[1,{"b":2}]}');
    assert.equal(text.slice(r.problems.spans.get(1)!.start, r.problems.spans.get(1)!.end), '{"c":"}"}');
  });

  test('problems are capped per event (a hostile body can hold millions)', () => {
    const keys = Array.from({ length: 1000 }, () => '"k":1').join(',');
    const r = read(`{"batch": [{${keys}}]}`);
    assert.equal(r.problems.items.get(0)!.length, 5);
  });
});
