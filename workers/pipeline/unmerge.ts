// The control loop: commands from the Pipeline's control topic are applied to the identity graph,
// in the same queue as batches so the graph has one writer. An unmerge (`uspa identity unmerge`) is
// answered by an identity edge the CLI waits for: an unlink, or an unlink_failed with the reason. A
// forget (after an erasure) reloads the graph from ClickHouse, which no longer holds the person.
import type { Consumer, Kafka } from 'kafkajs';
import { parseControlRecord, type UnmergeCommand } from '../../api/control.ts';
import type { Warehouse } from '../../lib/clickhouse.ts';
import { chTime } from '../../lib/clickhouse.ts';
import type { Logger } from '../../lib/log.ts';
import type { IdentityStore } from './identity-store.ts';
import { isRefusal } from './refusals.ts';
import { rebuildProfiles, type RebuiltProfile } from './profiles.ts';
import type { SerialQueue } from './serial-queue.ts';

/** The identity_edges row that tells the CLI a command was refused, and why. */
export function refusedUnmergeRow(command: UnmergeCommand, reason: string, at: string) {
  return { id: `unmerge-failed-${command.requestId}`, a: '', b: '', action: 'unlink_failed', rule: 'unmerge', message_id: command.requestId, event_time: chTime(at), reason, undoes: command.edgeId, merge_from: '', merge_into: '' };
}

export class UnmergeLoop {
  private consumer?: Consumer;

  constructor(
    private readonly warehouse: Warehouse,
    private readonly identity: IdentityStore,
    private readonly queue: SerialQueue,
    private readonly log: Logger,
    /** Told what each unmerge rebuilt (for the profile-changes topic). */
    private readonly rebuilt: (written: RebuiltProfile[], now: Date) => void = () => undefined,
  ) {}

  async start(kafka: Kafka, group: string, topic: string): Promise<void> {
    this.consumer = kafka.consumer({ groupId: group });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [topic], fromBeginning: false });
    await this.consumer.run({ eachMessage: ({ partition, message }) => this.onRecord(message.value, { topic, partition, offset: message.offset }) });
  }

  /** One control record; resolves once its command was applied or refused. */
  async onRecord(value: Buffer | null, where: { topic: string; partition: number; offset: string }): Promise<void> {
    const parsed = parseControlRecord(value);
    if (!parsed.ok) {
      // No command can be read from it, so no one waits for its answer: skip it, keep the loop going.
      this.log.error({ ...where, errors: parsed.errors }, 'unreadable control record skipped');
      return;
    }
    const command = parsed.command;
    if (command.kind === 'forget') {
      await this.queue.run(async () => {
        await this.identity.load();
        this.log.info({ requestId: command.requestId }, 'identity graph reloaded after an erasure');
      });
      return;
    }
    await this.queue.run(() => this.apply(command));
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }

  private async apply(command: UnmergeCommand): Promise<void> {
    const graph = this.identity.graph;
    let changed = false;
    try {
      const result = graph.unlink(command.edgeId, new Date().toISOString(), command.reason);
      changed = result.edges.length > 0;
      await this.identity.insertEdges(result.edges);
      if (result.assignments.length) await this.identity.insertAssignments(result.assignments);
      const live = result.profiles.filter((p) => graph.identitiesOf(p).length > 0);
      const now = new Date();
      this.rebuilt(await rebuildProfiles(this.warehouse, live, result.profiles.filter((p) => !live.includes(p)), now), now);
      this.log.info({ edge: command.edgeId, profiles: result.profiles, requestId: command.requestId }, 'unmerge applied');
    } catch (err) {
      // The graph in memory may hold an unlink ClickHouse never got: start again from what is stored.
      if (changed) await this.identity.load();
      this.log.error({ err: (err as Error).message, edge: command.edgeId, requestId: command.requestId }, 'unmerge refused');
      try {
        await this.warehouse.insert('identity_edges', [refusedUnmergeRow(command, (err as Error).message, new Date().toISOString())]);
      } catch (answerErr) {
        // A command ClickHouse cannot even store the answer of (say, an id that is not valid
        // Unicode) is skipped, or it would be retried forever in front of every command after it.
        if (!isRefusal(answerErr)) throw answerErr;
        this.log.error({ requestId: command.requestId, cause: (answerErr as Error).message }, 'unmerge command skipped: its answer cannot be stored');
      }
    }
  }
}
