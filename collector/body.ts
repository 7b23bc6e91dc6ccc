/**
 * Reading a request body as JSON, with what JSON.parse alone lets through found and located:
 * invalid UTF-8, duplicate keys and nesting deeper than a limit. Each problem carries the index of
 * the batch item it is in (if any), so that one bad event is refused and the rest of its batch
 * is not. Pure: bytes in, value and problems out.
 */
import { isUtf8 } from 'node:buffer';
import type { FieldError } from './tracking-api.ts';

export interface BodyProblems {
  /** Problems outside any batch item: the request itself is unreadable. */
  request: FieldError[];
  /** Batch item index → its problems (at most a few each). */
  items: Map<number, FieldError[]>;
  /** Batch item index → where its text is in the body: a dead letter's payload when the item cannot be re-serialized. */
  spans: Map<number, { start: number; end: number }>;
}

export type ReadBody = { ok: true; value: Record<string, unknown>; text: string; problems: BodyProblems } | { ok: false; error: FieldError };

/** Problems kept per item and for the request: a hostile body can hold millions of them. */
const MAX_PROBLEMS = 5;

/**
 * Decodes and parses a body. `batchKey` names the array whose elements are events (a batch
 * request), so problems inside them are reported per item; `maxDepth` is counted from each event
 * (the event object is level 1; in a batch, from the batch's elements).
 */
export function readJsonBody(bytes: Buffer, options: { maxDepth: number; batchKey?: string }): ReadBody {
  const { text, notUtf8 } = decode(bytes);
  if (!text.trim()) return { ok: false, error: { path: 'body', message: 'is empty; send a JSON object' } };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: { path: 'body', message: `is not valid JSON: ${jsonErrorMessage(err as Error)}` } };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, error: { path: 'body', message: 'must be a JSON object' } };
  return { ok: true, value: value as Record<string, unknown>, text, problems: scanJson(text, { ...options, notUtf8 }) };
}

/**
 * UTF-8 → text, and where in the text invalid bytes were (each decoded to U+FFFD, which a client
 * may also have sent on purpose). Bodies are cut at '"' bytes, which never occur inside a UTF-8
 * character, so every string of the JSON text is checked apart from the others.
 */
function decode(bytes: Buffer): { text: string; notUtf8: Array<[number, number]> } {
  if (isUtf8(bytes)) return { text: bytes.toString('utf8'), notUtf8: [] };
  const notUtf8: Array<[number, number]> = [];
  let text = '';
  for (let start = 0; start <= bytes.length; ) {
    const quote = bytes.indexOf(0x22, start);
    const end = quote === -1 ? bytes.length : quote;
    const piece = bytes.subarray(start, end);
    const decoded = piece.toString('utf8');
    if (!isUtf8(piece)) notUtf8.push([text.length, text.length + decoded.length]);
    text += quote === -1 ? decoded : `${decoded}"`;
    start = end + 1;
  }
  return { text, notUtf8 };
}

/**
 * V8 quotes part of the input in its message ("…, "{"writeKey":"abc…" is not valid JSON"); that
 * excerpt is dropped so a body's secrets never reach a response or a log line.
 */
export function jsonErrorMessage(err: Error): string {
  const message = err.message.replace(/(?:, |^)(?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '').replace(/^Unexpected token '(.)'$/s, "unexpected character '$1'");
  return message || 'syntax error';
}

function clip(text: string, max = 100): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

type Frame = { kind: 'object'; keys: Set<string>; key: string | undefined; expectKey: boolean } | { kind: 'array'; index: number };

/**
 * One pass over text that JSON.parse accepted (so it is well-formed): tracks the path to the
 * current value without recursion, so a body nested a million levels deep costs no stack.
 */
export function scanJson(text: string, options: { maxDepth: number; batchKey?: string; notUtf8?: Array<[number, number]> }): BodyProblems {
  const problems: BodyProblems = { request: [], items: new Map(), spans: new Map() };
  const stack: Frame[] = [];
  const tooDeep = new Set<number>();
  const notUtf8 = options.notUtf8 ?? [];
  let nextBad = 0;
  // Frames above an event: the body object and its batch array.
  const eventBase = options.batchKey === undefined ? 0 : 2;

  const inBatch = (): boolean => {
    const root = stack[0];
    return eventBase === 2 && stack.length >= 2 && root?.kind === 'object' && root.key === options.batchKey && stack[1]?.kind === 'array';
  };
  const itemIndex = (): number => (stack[1] as { index: number }).index;
  const path = (limit = options.maxDepth + eventBase + 1): string => {
    let out = '';
    for (const frame of stack.slice(0, limit)) {
      if (frame.kind === 'array') out += `[${frame.index}]`;
      else if (frame.key !== undefined) out += (out ? '.' : '') + clip(frame.key);
    }
    return clip((stack.length > limit ? `${out}…` : out) || 'body', 300);
  };
  const report = (message: string, at = path()): void => {
    if (inBatch()) {
      const list = problems.items.get(itemIndex()) ?? [];
      if (list.length < MAX_PROBLEMS) list.push({ path: at, message });
      problems.items.set(itemIndex(), list);
    } else if (problems.request.length < MAX_PROBLEMS) {
      problems.request.push({ path: at, message });
    }
  };
  const open = (frame: Frame, at: number): void => {
    // The path of the value being opened is its parent's, so it is taken before the push.
    const deep = stack.length + 1 - eventBase > options.maxDepth ? path() : undefined;
    stack.push(frame);
    if (eventBase === 2 && stack.length === 3 && inBatch()) problems.spans.set(itemIndex(), { start: at, end: text.length });
    const key = inBatch() ? itemIndex() : -1;
    if (deep !== undefined && !tooDeep.has(key)) {
      tooDeep.add(key);
      report(`nests deeper than ${options.maxDepth} levels`, deep);
    }
  };

  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // The closing quote is the first one not escaped (preceded by an even run of backslashes).
      let j = text.indexOf('"', i + 1);
      for (;;) {
        let backslashes = 0;
        while (text.charCodeAt(j - 1 - backslashes) === 0x5c /* \ */) backslashes++;
        if (backslashes % 2 === 0) break;
        j = text.indexOf('"', j + 1);
      }
      const top = stack[stack.length - 1];
      if (top?.kind === 'object' && top.expectKey) {
        const raw = text.slice(i + 1, j);
        const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        top.expectKey = false;
        top.key = key;
        if (top.keys.has(key)) report(`duplicate key "${clip(key)}": JSON.parse would keep only the last; send each key once`);
        top.keys.add(key);
      }
      while (nextBad < notUtf8.length && notUtf8[nextBad]![1] <= i) nextBad++;
      if (nextBad < notUtf8.length && notUtf8[nextBad]![0] <= j) report('holds bytes that are not UTF-8');
      i = j;
    } else if (c === 0x7b /* { */) {
      open({ kind: 'object', keys: new Set(), key: undefined, expectKey: true }, i);
    } else if (c === 0x5b /* [ */) {
      open({ kind: 'array', index: 0 }, i);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      if (eventBase === 2 && stack.length === 3 && inBatch()) problems.spans.set(itemIndex(), { start: problems.spans.get(itemIndex())?.start ?? i, end: i + 1 });
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.kind === 'array') top.index++;
      else if (top) top.expectKey = true;
    }
  }
  return problems;
}
