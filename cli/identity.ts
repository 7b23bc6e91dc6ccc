// `uspa identity show | unmerge`: audit a profile's identity graph and undo a wrong merge.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Warehouse } from '../lib/clickhouse.ts';
import { BatchingProducer, connectKafka, kafkaSettingsFromEnv } from '../lib/kafka.ts';
import { createLogger } from '../lib/log.ts';
import { profileByIdentity, type Profile } from '../workers/pipeline/profiles.ts';
import type { UnmergeCommand } from '../api/control.ts';
import { clickhouseFor, targetFromEnv, type Target } from './target.ts';

export interface EdgeView {
  id: string;
  a: string;
  b: string;
  action: string;
  rule: string;
  message_id: string;
  event_time: string;
  reason: string;
  undoes: string;
}

export async function showIdentity(identity: string, target: Target = targetFromEnv()): Promise<{ profile?: Profile; edges: EdgeView[] }> {
  const warehouse = new Warehouse(clickhouseFor(target));
  try {
    const profile = await profileByIdentity(warehouse, identity);
    const ids = profile?.identities ?? [identity];
    const edges = await warehouse.query<EdgeView>(
      'SELECT id, a, b, action, rule, message_id, event_time, reason, undoes FROM {db}.identity_edges FINAL WHERE a IN {ids:Array(String)} OR b IN {ids:Array(String)} ORDER BY event_time, id',
      { ids },
    );
    return { profile, edges };
  } finally {
    await warehouse.close();
  }
}

/** Asks the pipeline (the graph's only writer) to undo a link edge, and waits for its answer. */
export async function unmerge(options: { pipeline: string; edgeId: string; reason: string; timeoutMs?: number; namespace?: string }, target: Target = targetFromEnv()): Promise<EdgeView> {
  const topic = target.controlTopic(options.pipeline);
  if (!topic) throw new Error(`no control topic for Pipeline ${options.pipeline}`);
  const log = createLogger('uspa-cli', 'warn');
  const warehouse = new Warehouse(clickhouseFor(target));
  const kafka = connectKafka(kafkaSettingsFromEnv('uspa-identity-cli'), log);
  const producer = new BatchingProducer(kafka);
  try {
    const edge = await warehouse.query<EdgeView>("SELECT * FROM {db}.identity_edges FINAL WHERE id = {id:String} AND action = 'link'", { id: options.edgeId });
    if (edge.length === 0) throw new Error(`no link edge with id ${options.edgeId}; \`uspa identity show <identity>\` lists a profile's edges`);
    await producer.connect();
    const command: UnmergeCommand = { kind: 'unmerge', requestId: randomUUID(), edgeId: options.edgeId, reason: options.reason, requestedAt: new Date().toISOString() };
    await producer.send([{ topic, key: options.edgeId, value: JSON.stringify(command) }]);
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      const answer = await warehouse.query<EdgeView>(
        "SELECT * FROM {db}.identity_edges FINAL WHERE undoes = {edge:String} AND action IN ('unlink', 'unlink_failed') ORDER BY recorded_at DESC LIMIT 1",
        { edge: options.edgeId },
      );
      if (answer[0]) {
        if (answer[0].action === 'unlink_failed') throw new Error(`the pipeline refused the unmerge: ${answer[0].reason}`);
        return answer[0];
      }
      await sleep(300);
    }
    const look = options.namespace ? ` kubectl get pods -n ${options.namespace} -l uspa.tech/pipeline=${options.pipeline}` : '';
    throw new Error(`pipeline ${options.pipeline} did not apply the unmerge within ${(options.timeoutMs ?? 60_000) / 1000}s; is it running?${look}`);
  } finally {
    await producer.disconnect().catch(() => undefined);
    await warehouse.close();
  }
}
