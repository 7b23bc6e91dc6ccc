import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { CanonicalEvent, Json, JsonObject } from '../../api/event.ts';
import type { UrlTopicRule } from '../../api/v1alpha1/pipeline.ts';
import { anonymizeIp, enrich, enrichConfig, matchUrlTopics, storedContext, type EnrichConfig } from './enrich.ts';

const CHROME_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const IPHONE_SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1';

const ALL_ON: EnrichConfig = { geoip: true, userAgent: true, anonymizeIp: false, urlTopics: [] };

function event(context: JsonObject, over: Partial<CanonicalEvent> = {}): CanonicalEvent {
  return {
    type: 'track',
    messageId: 'm',
    timestamp: '2024-03-01T00:00:00.000Z',
    receivedAt: '2024-03-01T00:00:00.000Z',
    event: 'e',
    properties: {},
    traits: {},
    context,
    integrations: {},
    source: 'web',
    ...over,
  };
}

describe('enrich: geo and ip', () => {
  test('a public IPv4 gets a country from geoip-lite data', () => {
    const out = enrich(event({ ip: '8.8.8.8' }), ALL_ON);
    assert.equal(out.geo?.country, 'US');
    assert.equal(typeof out.geo?.timezone, 'string');
    assert.equal(typeof out.geo?.latitude, 'number');
    assert.equal(typeof out.geo?.longitude, 'number');
    assert.equal(out.ip, '8.8.8.8');
  });

  test('empty geoip-lite fields are left out', () => {
    // The bundled data has no city or region for 8.8.8.8 and reports them as "".
    const geo = enrich(event({ ip: '8.8.8.8' }), ALL_ON).geo ?? {};
    for (const value of Object.values(geo)) assert.notEqual(value, '');
  });

  test('public IPv6 and IPv4-mapped IPv6 are looked up too', () => {
    assert.equal(enrich(event({ ip: '2001:4860:4860::8888' }), ALL_ON).geo?.country, 'US');
    assert.equal(enrich(event({ ip: '::ffff:8.8.8.8' }), ALL_ON).geo?.country, 'US');
  });

  test('private and loopback IPs have no geo but keep the ip', () => {
    for (const ip of ['192.168.1.10', '10.0.0.1', '127.0.0.1', '::1']) {
      const out = enrich(event({ ip }), ALL_ON);
      assert.equal(out.geo, undefined, ip);
      assert.equal(out.ip, ip);
    }
  });

  test('geo uses the real ip; the stored ip is anonymized when configured', () => {
    const out = enrich(event({ ip: '8.8.8.8' }), { ...ALL_ON, anonymizeIp: true });
    assert.equal(out.geo?.country, 'US');
    assert.equal(out.ip, '8.8.8.0');
  });

  test('geoip: false skips the lookup', () => {
    const out = enrich(event({ ip: '8.8.8.8' }), { ...ALL_ON, geoip: false });
    assert.equal(out.geo, undefined);
    assert.equal(out.ip, '8.8.8.8');
  });

  test('missing or garbage ips leave geo and ip absent', () => {
    for (const ip of [undefined, null, 42, '', 'garbage', '999.1.1.1', '1.2.3.4:80', ['8.8.8.8'], { v: '8.8.8.8' }]) {
      const context: JsonObject = ip === undefined ? {} : { ip };
      const out = enrich(event(context), { ...ALL_ON, anonymizeIp: true });
      assert.equal(out.geo, undefined, JSON.stringify(ip));
      assert.equal(out.ip, undefined, JSON.stringify(ip));
    }
  });
});

describe('enrich: user agent', () => {
  test('Chrome on Windows is a desktop', () => {
    const out = enrich(event({ userAgent: CHROME_WINDOWS }), ALL_ON);
    assert.deepEqual(out.browser, { name: 'Chrome', version: '120.0.0.0' });
    assert.deepEqual(out.os, { name: 'Windows', version: '10' });
    assert.deepEqual(out.device, { type: 'desktop' });
  });

  test('Safari on iPhone is an Apple mobile', () => {
    const out = enrich(event({ userAgent: IPHONE_SAFARI }), ALL_ON);
    assert.deepEqual(out.browser, { name: 'Mobile Safari', version: '17.1' });
    assert.deepEqual(out.os, { name: 'iOS', version: '17.1' });
    assert.deepEqual(out.device, { type: 'mobile', vendor: 'Apple', model: 'iPhone' });
  });

  test('garbage or missing user agents add nothing', () => {
    for (const userAgent of ['garbage', '', 42, null, { ua: CHROME_WINDOWS }]) {
      const out = enrich(event({ userAgent }), ALL_ON);
      assert.deepEqual(out, {}, JSON.stringify(userAgent));
    }
    assert.deepEqual(enrich(event({}), ALL_ON), {});
  });

  test('userAgent: false skips parsing', () => {
    assert.deepEqual(enrich(event({ userAgent: CHROME_WINDOWS }), { ...ALL_ON, userAgent: false }), {});
  });
});

describe('enrich: page', () => {
  const rules: UrlTopicRule[] = [
    { match: '/shoes/*', topic: 'shoes' },
    { match: '/blog/**', topic: 'blog' },
  ];
  const config = { ...ALL_ON, urlTopics: rules };

  test('from context.page.url, with host, path and topics', () => {
    const out = enrich(event({ page: { url: 'https://shop.example.com/shoes/red?utm_source=x#top', path: '/ignored' } }), config);
    assert.deepEqual(out.page, { path: '/shoes/red', host: 'shop.example.com', topics: ['shoes'] });
  });

  test('from properties.url for page events only', () => {
    const props = { url: 'https://example.com/blog/2024/03/hello' };
    assert.deepEqual(enrich(event({}, { type: 'page', properties: props }), config).page, {
      path: '/blog/2024/03/hello',
      host: 'example.com',
      topics: ['blog'],
    });
    assert.equal(enrich(event({}, { type: 'track', properties: props }), config).page, undefined);
  });

  test('context.page.url wins over properties.url', () => {
    const out = enrich(event({ page: { url: 'https://a.test/shoes/x' } }, { type: 'page', properties: { url: 'https://b.test/blog/y' } }), config);
    assert.equal(out.page?.host, 'a.test');
  });

  test('falls back to context.page.path (no host)', () => {
    const out = enrich(event({ page: { path: '/shoes/blue' } }), config);
    assert.deepEqual(out.page, { path: '/shoes/blue', topics: ['shoes'] });
  });

  test('a page without matching rules has empty topics', () => {
    assert.deepEqual(enrich(event({ page: { url: 'https://example.com/about' } }), config).page, { path: '/about', host: 'example.com', topics: [] });
    assert.deepEqual(enrich(event({ page: { path: '/shoes/red' } }), ALL_ON).page, { path: '/shoes/red', topics: [] });
  });

  test('missing or garbage urls leave page absent', () => {
    const pages: (Json | undefined)[] = [undefined, 'https://example.com/', { url: 'not a url' }, { url: 'javascript:alert(1)' }, { url: 42 }, { path: 'relative/path' }, { url: '' }];
    for (const page of pages) {
      const context: JsonObject = page === undefined ? {} : { page };
      assert.equal(enrich(event(context), config).page, undefined, JSON.stringify(page));
    }
  });

  test('all parts together', () => {
    const out = enrich(
      event({ ip: '2001:4860:4860::8888', userAgent: IPHONE_SAFARI, page: { url: 'https://example.com/shoes/red' } }),
      { ...config, anonymizeIp: true },
    );
    assert.equal(out.geo?.country, 'US');
    assert.equal(out.ip, '2001:4860:4860::');
    assert.equal(out.device?.type, 'mobile');
    assert.deepEqual(out.page?.topics, ['shoes']);
  });
});

describe('storedContext', () => {
  test('the stored context carries the anonymized ip, everything else as sent', () => {
    const context = { ip: '8.8.8.8', userAgent: 'ua', page: { url: 'https://a.example/x' } };
    const stored = storedContext(context, enrich(event(context), { ...ALL_ON, anonymizeIp: true }));
    assert.deepEqual(stored, { ip: '8.8.8.0', userAgent: 'ua', page: { url: 'https://a.example/x' } });
    assert.equal(context.ip, '8.8.8.8', 'the event itself is not changed');
  });

  test('an ip that is no address is stored as "", never raw', () => {
    const context = { ip: '8.8.8.8, 10.0.0.1' };
    assert.deepEqual(storedContext(context, enrich(event(context), ALL_ON)), { ip: '' });
  });

  test('a context without ip gets none', () => {
    assert.deepEqual(storedContext({ locale: 'fr' }, { ip: '8.8.8.0' }), { locale: 'fr' });
  });
});

describe('enrichConfig', () => {
  test('omitted rules take the Pipeline defaults', () => {
    assert.deepEqual(enrichConfig(undefined), { geoip: true, userAgent: true, anonymizeIp: false, urlTopics: [] });
    assert.deepEqual(enrichConfig({ anonymizeIp: true, geoip: false }), { geoip: false, userAgent: true, anonymizeIp: true, urlTopics: [] });
  });
});

describe('anonymizeIp', () => {
  test('IPv4: zeroes the last octet', () => {
    assert.equal(anonymizeIp('203.0.113.77'), '203.0.113.0');
    assert.equal(anonymizeIp('8.8.8.8'), '8.8.8.0');
    assert.equal(anonymizeIp('10.0.0.0'), '10.0.0.0');
  });

  test('IPv6: keeps the first 48 bits, compressed', () => {
    assert.equal(anonymizeIp('2001:0db8:85a3:08d3:1319:8a2e:0370:7348'), '2001:db8:85a3::');
    assert.equal(anonymizeIp('2001:DB8:85A3::7348'), '2001:db8:85a3::');
    assert.equal(anonymizeIp('2001:db8::1'), '2001:db8::');
    assert.equal(anonymizeIp('::1'), '::');
    assert.equal(anonymizeIp('fe80::1%eth0'), 'fe80::');
    assert.equal(anonymizeIp('0:1:0::5'), '0:1::');
  });

  test('IPv4-mapped IPv6 is treated as IPv4', () => {
    assert.equal(anonymizeIp('::ffff:198.51.100.23'), '::ffff:198.51.100.0');
    assert.equal(anonymizeIp('::FFFF:c633:6417'), '::ffff:198.51.100.0');
    assert.equal(anonymizeIp('0:0:0:0:0:ffff:198.51.100.23'), '::ffff:198.51.100.0');
  });

  test('non-addresses become "" so they are never stored raw', () => {
    for (const ip of ['', 'garbage', '1.2.3', '1.2.3.4.5', '1.2.3.4:80', '::ffff:1.2.3.256']) assert.equal(anonymizeIp(ip), '', ip);
  });
});

describe('matchUrlTopics', () => {
  test('"*" matches exactly one segment', () => {
    const rules = [{ match: '/shoes/*', topic: 'shoes' }];
    assert.deepEqual(matchUrlTopics('/shoes/red', rules), ['shoes']);
    assert.deepEqual(matchUrlTopics('/shoes/red/', rules), ['shoes']);
    assert.deepEqual(matchUrlTopics('/shoes/red/42', rules), []);
    assert.deepEqual(matchUrlTopics('/shoes', rules), []);
    assert.deepEqual(matchUrlTopics('/shoes/', rules), []);
    assert.deepEqual(matchUrlTopics('/hats/red', rules), []);
  });

  test('"**" matches any depth, including none', () => {
    const rules = [{ match: '/blog/**', topic: 'blog' }];
    assert.deepEqual(matchUrlTopics('/blog/2024/03/01/hello-world', rules), ['blog']);
    assert.deepEqual(matchUrlTopics('/blog/post', rules), ['blog']);
    assert.deepEqual(matchUrlTopics('/blog', rules), ['blog']);
    assert.deepEqual(matchUrlTopics('/blogs/post', rules), []);
    assert.deepEqual(matchUrlTopics('/en/blog/post', rules), []);
    assert.deepEqual(matchUrlTopics('/en/blog/post', [{ match: '/**/blog/**', topic: 'blog' }]), ['blog']);
    assert.deepEqual(matchUrlTopics('/a/b/c/sale', [{ match: '/**/sale', topic: 'sale' }]), ['sale']);
    assert.deepEqual(matchUrlTopics('/anything/at/all', [{ match: '/**', topic: 'all' }]), ['all']);
  });

  test('"*" inside a segment matches part of it', () => {
    const rules = [{ match: '/product-*/reviews', topic: 'reviews' }];
    assert.deepEqual(matchUrlTopics('/product-42/reviews', rules), ['reviews']);
    assert.deepEqual(matchUrlTopics('/product-/reviews', rules), ['reviews']);
    assert.deepEqual(matchUrlTopics('/products/reviews', rules), []);
    assert.deepEqual(matchUrlTopics('/x/a-b-c', [{ match: '/x/a*b*c', topic: 't' }]), ['t']);
    assert.deepEqual(matchUrlTopics('/x/abc-', [{ match: '/x/a*b*c', topic: 't' }]), []);
  });

  test('accepts full URLs with query strings and fragments', () => {
    const rules = [{ match: '/shoes/*', topic: 'shoes' }];
    assert.deepEqual(matchUrlTopics('https://shop.example.com/shoes/red?color=red&size=42#reviews', rules), ['shoes']);
    assert.deepEqual(matchUrlTopics('http://shop.example.com:8080/shoes/red/?q=1', rules), ['shoes']);
    assert.deepEqual(matchUrlTopics('//shop.example.com/shoes/red', rules), ['shoes']);
    assert.deepEqual(matchUrlTopics('/shoes/red?x=/a/b', rules), ['shoes']);
  });

  test('percent-encoded paths match their decoded rules', () => {
    assert.deepEqual(matchUrlTopics('https://example.com/caf%C3%A9/menu', [{ match: '/café/*', topic: 'cafe' }]), ['cafe']);
    assert.deepEqual(matchUrlTopics('/bad%E0/x', [{ match: '/*/x', topic: 't' }]), ['t']);
  });

  test('de-duplicated topics in rule order', () => {
    const rules = [
      { match: '/blog/**', topic: 'content' },
      { match: '/shoes/**', topic: 'shoes' },
      { match: '/**', topic: 'all' },
      { match: '/shoes/*', topic: 'shoes' },
      { match: '/shoes/*', topic: 'content' },
    ];
    assert.deepEqual(matchUrlTopics('/shoes/red', rules), ['shoes', 'all', 'content']);
  });

  test('no url, a bad url or no rules give no topics', () => {
    const rules = [{ match: '/**', topic: 'all' }];
    assert.deepEqual(matchUrlTopics(undefined, rules), []);
    assert.deepEqual(matchUrlTopics('', rules), []);
    assert.deepEqual(matchUrlTopics('not a url', rules), []);
    assert.deepEqual(matchUrlTopics('/shoes/red', []), []);
  });

  test('many "**" do not blow up', () => {
    const path = `/${Array.from({ length: 200 }, (_, i) => `s${i}`).join('/')}/end`;
    const match = `/${Array.from({ length: 30 }, () => '**').join('/')}/nope`;
    const started = performance.now();
    assert.deepEqual(matchUrlTopics(path, [{ match, topic: 't' }]), []);
    assert.ok(performance.now() - started < 500);
  });
});
