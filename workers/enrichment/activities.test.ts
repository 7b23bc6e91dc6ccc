import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { enrichConfig } from '../../lib/enrichment/enrich.ts';
import { reenrich } from './activities.ts';

const row = (context: string, ip = '') => ({ message_id: 'm1', type: 'track', properties: '{}', context, ip });

describe('reenrich', () => {
  test('with anonymizeIp the stored context loses its raw ip; geo still comes from the raw address', () => {
    const out = reenrich(row('{"ip":"8.8.8.8","locale":"fr"}', '8.8.8.8'), enrichConfig({ anonymizeIp: true }));
    assert.equal(out.context, '{"ip":"8.8.8.0","locale":"fr"}');
    assert.equal(out.ip, '8.8.8.0');
    assert.equal(out.country, 'US');
  });

  test('a context without ip is rewritten without one, though the ip column is geolocated', () => {
    const out = reenrich(row('{"locale":"fr"}', '8.8.8.8'), enrichConfig({ anonymizeIp: true }));
    assert.equal(out.context, '{"locale":"fr"}');
    assert.equal(out.ip, '8.8.8.0');
  });

  test('a context that is not a JSON object is left as stored', () => {
    const out = reenrich(row('not json'), enrichConfig(undefined));
    assert.equal('context' in out, false);
  });
});
