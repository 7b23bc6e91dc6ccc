// The records of a Pipeline's control topic: commands to the Pipeline's worker, the identity graph's
// only writer. `uspa identity unmerge` writes them; the worker reads them in order.

/** Undo one link edge of the identity graph (a wrong merge). */
export interface UnmergeCommand {
  kind: 'unmerge';
  /** Names the answer: a refused command is recorded as edge `unmerge-failed-<requestId>`. */
  requestId: string;
  /** The id of the link edge to undo. */
  edgeId: string;
  reason: string;
  requestedAt: string;
}

/**
 * After an erasure: the identity graph is reloaded from ClickHouse, so identities deleted there are
 * no longer held in memory. The command names no one: the reload forgets whatever was erased.
 */
export interface ForgetCommand {
  kind: 'forget';
  requestId: string;
  requestedAt: string;
}

export type ControlCommand = UnmergeCommand | ForgetCommand;

export type ParsedControl = { ok: true; command: ControlCommand } | { ok: false; errors: string[] };

/** A control record's value → its command, or every reason it is not one. */
export function parseControlRecord(value: Buffer | string | null): ParsedControl {
  if (value === null) return { ok: false, errors: ['record has no value'] };
  let json: unknown;
  try {
    json = JSON.parse(String(value));
  } catch (err) {
    return { ok: false, errors: [`record value is not JSON: ${(err as Error).message}`] };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, errors: ['record value must be a JSON object'] };
  const record = json as Record<string, unknown>;
  if (record.kind !== 'unmerge' && record.kind !== 'forget') return { ok: false, errors: [`kind: must be "unmerge" or "forget", got ${JSON.stringify(record.kind) ?? 'nothing'}`] };
  const errors: string[] = [];
  if (record.kind === 'forget') {
    if (typeof record.requestId !== 'string' || record.requestId === '') errors.push('requestId: must be a non-empty string');
    if (typeof record.requestedAt !== 'string' || Number.isNaN(Date.parse(record.requestedAt))) errors.push('requestedAt: must be a date-time string');
    if (errors.length > 0) return { ok: false, errors };
    return { ok: true, command: { kind: 'forget', requestId: record.requestId as string, requestedAt: record.requestedAt as string } };
  }
  for (const field of ['requestId', 'edgeId'] as const) {
    if (typeof record[field] !== 'string' || record[field] === '') errors.push(`${field}: must be a non-empty string`);
  }
  if (typeof record.reason !== 'string') errors.push('reason: must be a string');
  if (typeof record.requestedAt !== 'string' || Number.isNaN(Date.parse(record.requestedAt))) errors.push('requestedAt: must be a date-time string');
  if (errors.length > 0) return { ok: false, errors };
  const { requestId, edgeId, reason, requestedAt } = record as unknown as UnmergeCommand;
  return { ok: true, command: { kind: 'unmerge', requestId, edgeId, reason, requestedAt } };
}
