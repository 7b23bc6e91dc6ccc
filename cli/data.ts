// The data commands: import, dlq, identity. They talk to the engines named by the usual variables.
import { elapsed } from '../stack/progress.ts';
import { importFile } from './import.ts';
import { listDeadLetters, replayDeadLetters } from './dlq.ts';
import { showIdentity, unmerge } from './identity.ts';

type Values = Record<string, string | boolean | undefined>;

function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

class UsageError extends Error {}

export async function runDataCommand(group: string, args: string[], values: Values): Promise<number> {
  try {
    return await run(group, args, values);
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return err instanceof UsageError ? 2 : 1;
  }
}

async function run(group: string, args: string[], values: Values): Promise<number> {
  const started = Date.now();
  if (group === 'import') {
    const file = args[0];
    const url = str(values, 'url') ?? process.env.USPA_COLLECTOR_URL;
    const writeKey = str(values, 'write-key') ?? process.env.USPA_WRITE_KEY;
    if (!file || !url || !writeKey) throw new UsageError('usage: uspa import <file> --url <collector url> --write-key <key> (or USPA_COLLECTOR_URL, USPA_WRITE_KEY)');
    const format = str(values, 'format');
    if (format && format !== 'csv' && format !== 'ndjson') throw new UsageError(`--format must be csv or ndjson, not ${format}`);
    let last = 0;
    const result = await importFile({
      file, url, writeKey, format: format as 'csv' | 'ndjson' | undefined, report: str(values, 'report'),
      onProgress: (p) => {
        if (Date.now() - last < 1000 && p.bytesRead < p.bytesTotal) return;
        last = Date.now();
        const pct = p.bytesTotal ? Math.round((100 * p.bytesRead) / p.bytesTotal) : 100;
        process.stderr.write(`import: ${pct}% of ${p.bytesTotal} bytes, ${p.rows} rows, ${p.sent} sent, ${p.rejected} rejected (${elapsed(started)})\n`);
      },
    });
    console.log(`imported ${result.sent} of ${result.rows} rows from ${file} in ${elapsed(started)}; ${result.rejected} rejected`);
    for (const e of result.errors.slice(0, 20)) console.log(`  row ${e.row}: ${e.errors.join('; ')}`);
    if (result.errors.length > 20) console.log(`  … ${result.errors.length - 20} more${str(values, 'report') ? ` in ${str(values, 'report')}` : ' (write them all with --report <file>)'}`);
    return result.rejected > 0 ? 3 : 0;
  }
  if (group === 'dlq') {
    const filter = { source: str(values, 'source'), reason: str(values, 'reason'), since: str(values, 'since') };
    if (args[0] === 'list') {
      const rows = await listDeadLetters(filter);
      for (const r of rows) console.log(`${r.failed_at}  ${r.source.padEnd(16)} ${r.reason.padEnd(26)} ${r.message_id}  ${r.errors.join('; ')}`);
      console.log(`${rows.length} dead letter(s) not yet replayed`);
      return 0;
    }
    if (args[0] === 'replay') {
      const result = await replayDeadLetters({ ...filter, dryRun: Boolean(values['dry-run']) }, (done, total) => process.stderr.write(`replay: ${done}/${total}\n`));
      console.log(`replayed ${result.replayed} event(s) in ${elapsed(started)}; skipped ${result.skipped.length}`);
      for (const s of result.skipped.slice(0, 20)) console.log(`  ${s.message_id}: ${s.why}`);
      return 0;
    }
    throw new UsageError('usage: uspa dlq list|replay [--source s] [--reason r] [--since time] [--dry-run]');
  }
  if (group === 'identity') {
    if (args[0] === 'show' && args[1]) {
      const { profile, edges } = await showIdentity(args[1]);
      console.log(profile ? JSON.stringify(profile, null, 2) : `no profile holds ${args[1]}`);
      for (const e of edges) console.log(`${e.event_time}  ${e.action.padEnd(8)} ${e.a} — ${e.b}  edge ${e.id}  (${e.rule}, message ${e.message_id}${e.reason ? `, ${e.reason}` : ''})`);
      return 0;
    }
    if (args[0] === 'unmerge') {
      const edgeId = str(values, 'edge');
      if (!edgeId) throw new UsageError('usage: uspa identity unmerge --edge <id> [--pipeline main] [--reason text]');
      const result = await unmerge({ pipeline: str(values, 'pipeline') ?? 'main', edgeId, reason: str(values, 'reason') ?? 'manual unmerge' });
      console.log(`unmerged: edge ${edgeId} undone by ${result.id} at ${result.event_time}`);
      return 0;
    }
    throw new UsageError('usage: uspa identity show <identity> | uspa identity unmerge --edge <id>');
  }
  throw new UsageError(`unknown command ${group}`);
}
