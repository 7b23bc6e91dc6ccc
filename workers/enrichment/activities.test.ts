import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { enrichConfig } from '../../lib/enrichment/enrich.ts';
import { reenrich } from './activities.ts';

const row = (context: string, ip = '', geo: { country?: string; region?: string; city?: string } = {}) => ({ message_id: 'm1', type: 'track', properties: '{}', context, ip, ...geo });

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

  test('an address already stored anonymized keeps the geo the full address gave at ingest', () => {
    // geoip-lite places 148.74.77.200 in Kinnelon, 148.74.77.0 in Howell Township.
    const stored = { country: 'US', region: 'NJ', city: 'Kinnelon' };
    const out = reenrich(row('{"ip":"148.74.77.0"}', '148.74.77.0', stored), enrichConfig({ anonymizeIp: true }));
    assert.deepEqual([out.country, out.region, out.city], ['US', 'NJ', 'Kinnelon']);
    const fresh = reenrich(row('{"ip":"148.74.77.200"}', '148.74.77.200', stored), enrichConfig({ anonymizeIp: true }));
    assert.equal(fresh.city, 'Kinnelon', 'a full address is looked up again');
    const off = reenrich(row('{"ip":"148.74.77.0"}', '148.74.77.0', stored), enrichConfig({ geoip: false }));
    assert.equal(off.country, '', 'geoip off clears geo');
    const none = reenrich(row('{"ip":"148.74.77.0"}', '148.74.77.0'), enrichConfig(undefined));
    assert.equal(none.city, 'Howell Township', 'without stored geo the anonymized address is the best there is');
  });

  test('a context that is not a JSON object is left as stored', () => {
    const out = reenrich(row('not json'), enrichConfig(undefined));
    assert.equal('context' in out, false);
  });
});
