/**
 * Event context enrichment: geo from the IP (geoip-lite), device/OS/browser from the user agent
 * (ua-parser-js), and page topics from URL path globs. Never throws on bad input: a part that cannot be
 * derived is simply absent.
 */
import { isIP } from 'node:net';
import geoip from 'geoip-lite';
import UAParser from 'ua-parser-js';
import type { CanonicalEvent, Json, JsonObject } from '../../api/event.ts';
import { PIPELINE_DEFAULTS, type PipelineEnrich, type UrlTopicRule } from '../../api/v1alpha1/pipeline.ts';


export interface EnrichConfig {
  geoip: boolean;
  userAgent: boolean;
  anonymizeIp: boolean;
  urlTopics: UrlTopicRule[];
}

/** A Pipeline's spec.enrich with its defaults filled in: the live path and the backfill read the same rules. */
export function enrichConfig(rules: PipelineEnrich | undefined): EnrichConfig {
  const d = PIPELINE_DEFAULTS.enrich;
  return { geoip: rules?.geoip ?? d.geoip, userAgent: rules?.userAgent ?? d.userAgent, anonymizeIp: rules?.anonymizeIp ?? d.anonymizeIp, urlTopics: rules?.urlTopics ?? [] };
}

export interface Enrichment {
  geo?: { country?: string; region?: string; city?: string; timezone?: string; latitude?: number; longitude?: number };
  device?: { type?: string; vendor?: string; model?: string };
  os?: { name?: string; version?: string };
  browser?: { name?: string; version?: string };
  page?: { path?: string; host?: string; topics: string[] };
  /** The stored ip, anonymized when configured. */
  ip?: string;
}

export function enrich(event: CanonicalEvent, config: EnrichConfig): Enrichment {
  const out: Enrichment = {};
  const context = event.context;

  const ip = cleanIp(context.ip);
  if (ip !== undefined) {
    if (config.geoip) {
      const geo = lookupGeo(ip);
      if (geo) out.geo = geo;
    }
    // Geo above used the real address; only the stored copy is anonymized.
    out.ip = config.anonymizeIp ? anonymizeIp(ip) : ip;
  }

  if (config.userAgent && typeof context.userAgent === 'string' && context.userAgent !== '') {
    Object.assign(out, parseUserAgent(context.userAgent));
  }

  const page = asObject(context.page);
  const properties = event.type === 'page' ? event.properties : {};
  const url = firstString(page?.url, properties.url, page?.path);
  const parsed = parseUrl(url);
  if (parsed) out.page = { ...parsed, topics: matchParsedPath(parsed.path, config.urlTopics) };

  return out;
}

function asObject(value: Json | undefined): JsonObject | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
}

function firstString(...values: (Json | undefined)[]): string | undefined {
  for (const value of values) if (typeof value === 'string' && value.trim() !== '') return value.trim();
  return undefined;
}

/** A syntactically valid IP without an IPv6 zone id ("fe80::1%eth0"), or undefined. */
function cleanIp(value: Json | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const ip = value.trim().replace(/%.*$/, '');
  return isIP(ip) === 0 ? undefined : ip;
}

function lookupGeo(ip: string): Enrichment['geo'] | undefined {
  let hit: ReturnType<typeof geoip.lookup>;
  try {
    hit = geoip.lookup(ip);
  } catch {
    return undefined;
  }
  if (!hit) return undefined;
  const geo: NonNullable<Enrichment['geo']> = {};
  // geoip-lite reports unknown parts as ""; the coordinate check is defensive.
  if (hit.country) geo.country = hit.country;
  if (hit.region) geo.region = hit.region;
  if (hit.city) geo.city = hit.city;
  if (hit.timezone) geo.timezone = hit.timezone;
  const [lat, lon] = Array.isArray(hit.ll) ? hit.ll : [];
  if (typeof lat === 'number' && typeof lon === 'number' && Number.isFinite(lat) && Number.isFinite(lon)) {
    geo.latitude = lat;
    geo.longitude = lon;
  }
  return Object.keys(geo).length > 0 ? geo : undefined;
}

function parseUserAgent(ua: string): Pick<Enrichment, 'device' | 'os' | 'browser'> {
  let result: UAParser.IResult;
  try {
    result = new UAParser(ua).getResult();
  } catch {
    return {};
  }
  const out: Pick<Enrichment, 'device' | 'os' | 'browser'> = {};
  const browser = compact({ name: result.browser.name, version: result.browser.version });
  const os = compact({ name: result.os.name, version: result.os.version });
  if (browser) out.browser = browser;
  if (os) out.os = os;
  // ua-parser-js leaves device.type undefined for desktops; a recognized browser or OS means it parsed.
  const type = result.device.type ?? (browser || os ? 'desktop' : undefined);
  const device = compact({ type, vendor: result.device.vendor, model: result.device.model });
  if (device) out.device = device;
  return out;
}

/** Drops empty fields; undefined when nothing is left. */
function compact<T extends Record<string, string | undefined>>(fields: T): Partial<T> | undefined {
  const out: Partial<T> = {};
  for (const [key, value] of Object.entries(fields) as [keyof T, string | undefined][]) {
    if (value) out[key] = value as T[keyof T];
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Accepts http(s) URLs, protocol-relative URLs and absolute paths; query and fragment are dropped. */
function parseUrl(url: string | undefined): { path: string; host?: string } | undefined {
  if (url === undefined) return undefined;
  try {
    if (url.startsWith('/') && !url.startsWith('//')) return { path: new URL(url, 'http://placeholder').pathname };
    const parsed = new URL(url.startsWith('//') ? `http:${url}` : url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
    return { path: parsed.pathname, host: parsed.hostname };
  } catch {
    return undefined;
  }
}

/** Topics of every rule whose glob matches the URL's path, de-duplicated, in rule order. */
export function matchUrlTopics(url: string | undefined, rules: UrlTopicRule[]): string[] {
  const parsed = parseUrl(url?.trim());
  return parsed ? matchParsedPath(parsed.path, rules) : [];
}

function matchParsedPath(path: string, rules: UrlTopicRule[]): string[] {
  const segments = splitPath(path).map(decodeSegment);
  const topics: string[] = [];
  for (const rule of rules) {
    if (topics.includes(rule.topic)) continue;
    if (globMatch(splitPath(rule.match), segments)) topics.push(rule.topic);
  }
  return topics;
}

/** "/a/b/" → ["a", "b"]: a trailing slash does not add a segment, so "/shoes/red/" matches "/shoes/*". */
function splitPath(path: string): string[] {
  const parts = path.split('/');
  if (parts[0] === '') parts.shift();
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Dynamic programming over segments, so patterns with several "**" stay linear in path × pattern length. */
function globMatch(pattern: string[], segments: string[]): boolean {
  // reach[j]: pattern[0..i) can match segments[0..j).
  let reach = segments.map(() => false).concat(false);
  reach[0] = true;
  for (const part of pattern) {
    const next = reach.map(() => false);
    if (part === '**') {
      let any = false;
      for (let j = 0; j < reach.length; j++) {
        any ||= reach[j] === true;
        next[j] = any;
      }
    } else {
      for (let j = 0; j < segments.length; j++) {
        if (reach[j] && segmentMatch(part, segments[j] ?? '')) next[j + 1] = true;
      }
    }
    reach = next;
  }
  return reach[segments.length] === true;
}

/** Literal segment with "*" wildcards (never crossing "/"); a bare "*" needs a non-empty segment. */
function segmentMatch(pattern: string, segment: string): boolean {
  if (pattern === '*') return segment !== '';
  if (!pattern.includes('*')) return pattern === segment;
  const [first = '', ...rest] = pattern.split('*');
  const last = rest.pop() ?? '';
  if (!segment.startsWith(first) || segment.length < first.length + last.length || !segment.endsWith(last)) return false;
  let at = first.length;
  const end = segment.length - last.length;
  for (const piece of rest) {
    const found = segment.indexOf(piece, at);
    if (found < 0 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}

/**
 * IPv4: zero the last octet. IPv6: keep the first 48 bits. IPv4-mapped IPv6 is anonymized as IPv4 and
 * keeps its "::ffff:" form. Returns "" for anything that is not an IP address, so callers never store it raw.
 */
export function anonymizeIp(ip: string): string {
  const clean = ip.trim().replace(/%.*$/, '');
  const family = isIP(clean);
  if (family === 4) return clean.replace(/\.\d+$/, '.0');
  if (family !== 6) return '';
  const groups = expandIpv6(clean);
  if (!groups) return '';
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const hi = groups[6] ?? 0;
    return `::ffff:${hi >> 8}.${hi & 0xff}.${(groups[7] ?? 0) >> 8}.0`;
  }
  return formatIpv6([...groups.slice(0, 3), 0, 0, 0, 0, 0]);
}

/** RFC 5952 text: lowercase hex, the longest run of two or more zero groups (first on ties) as "::". */
function formatIpv6(groups: number[]): string {
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < groups.length; ) {
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > bestLen) [bestAt, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}

/** Eight 16-bit groups of a valid IPv6 address (already checked by isIP), embedded IPv4 included. */
function expandIpv6(ip: string): number[] | undefined {
  let text = ip.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [, o1, o2, o3, o4] = v4.map(Number);
    text = `${text.slice(0, v4.index)}${(((o1 ?? 0) << 8) | (o2 ?? 0)).toString(16)}:${(((o3 ?? 0) << 8) | (o4 ?? 0)).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...Array<string>(zeros).fill('0'), ...right].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

/**
 * The context as it is stored: its ip is the enrichment's (anonymized when configured, "" when it
 * was no address), so the raw address never reaches storage. Every writer of events rows stores
 * its context through this (the pipeline and the enrichment backfill).
 */
export function storedContext(context: JsonObject, enrichment: Enrichment): JsonObject {
  return 'ip' in context ? { ...context, ip: enrichment.ip ?? '' } : context;
}

/** The events columns an enrichment fills (also rewritten by the enrichment backfill). */
export function enrichmentColumns(enrichment: Enrichment) {
  return {
    ip: enrichment.ip ?? '',
    country: enrichment.geo?.country ?? '',
    region: enrichment.geo?.region ?? '',
    city: enrichment.geo?.city ?? '',
    device_type: enrichment.device?.type ?? '',
    os_name: enrichment.os?.name ?? '',
    os_version: enrichment.os?.version ?? '',
    browser_name: enrichment.browser?.name ?? '',
    browser_version: enrichment.browser?.version ?? '',
    page_path: enrichment.page?.path ?? '',
    page_topics: enrichment.page?.topics ?? [],
  };
}
