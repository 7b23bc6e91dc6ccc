// Stub activities for workflow tests: the campaign logic under Temporal (timers, signals,
// continue-as-new, failures) without the engines; every call is recorded for assertions.
import { ApplicationFailure } from '@temporalio/activity';
import type { SyncCursor, SyncPlan } from '../../api/workflows/activations.ts';
import type { Activities } from '../../workers/activations/activities.ts';
import type { Decision, DecideInput, DeliverInput, RenderInput } from '../../workers/activations/campaigns.ts';
import type { RecordInput } from '../../workers/activations/deliveries.ts';

export interface StubCalls {
  decide: DecideInput[];
  render: RenderInput[];
  deliver: DeliverInput[];
  record: RecordInput[];
  chunks: SyncCursor[];
  finished: unknown[];
}

export interface StubBehaviour {
  decide?: (input: DecideInput, calls: StubCalls) => Decision;
  deliver?: (input: DeliverInput, calls: StubCalls) => void;
  /** Chunks the sync walks through (each returns the next cursor). */
  syncPages?: number;
}

export function stubActivities(behaviour: StubBehaviour = {}): { activities: Activities; calls: StubCalls } {
  const calls: StubCalls = { decide: [], render: [], deliver: [], record: [], chunks: [], finished: [] };
  const plan: SyncPlan = { namespace: 'ns', activation: 'sync', database: 'db', segment: 'vip', version: 2, base: 1, mode: 'diff', syncId: 'diff:1-2', revision: 'r' };
  const activities = {
    async decide(input: DecideInput): Promise<Decision> {
      calls.decide.push(input);
      return behaviour.decide?.(input, calls) ?? { action: 'send', profileId: 'p-1', variant: 'a' };
    },
    async render(input: RenderInput) {
      calls.render.push(input);
      return { body: `hello ${input.profileId} (${input.triggers.length} triggers)` };
    },
    async deliver(input: DeliverInput) {
      calls.deliver.push(input);
      behaviour.deliver?.(input, calls);
      return { status: 'sent' as const };
    },
    async record(input: RecordInput) {
      calls.record.push(input);
    },
    async planSync() {
      return { plan, cursor: { phase: 'entered' as const, after: '' } };
    },
    async syncChunk(input: { plan: SyncPlan; cursor: SyncCursor }) {
      calls.chunks.push(input.cursor);
      const n = calls.chunks.length;
      const pages = behaviour.syncPages ?? 3;
      return { next: n < pages ? { phase: 'entered' as const, after: `p-${n}` } : undefined, sent: 10, suppressed: 1 };
    },
    async failChunk() {},
    async finishSync(input: unknown) {
      calls.finished.push(input);
    },
    async attributeConversions() {
      return { attributed: 0 };
    },
  } satisfies Partial<Activities>;
  return { activities: activities as unknown as Activities, calls };
}

export function failDelivery(message: string, nonRetryable: boolean): never {
  throw ApplicationFailure.create({ type: 'WebhookRejected', message, nonRetryable, details: [{ attempt: 1 }] });
}
