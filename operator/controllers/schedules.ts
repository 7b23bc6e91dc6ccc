// Temporal Schedules owned by custom resources: created when missing, updated when the resource's
// revision (a hash of what the schedule should be) differs, deleted by the resource's finalizer.
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type Workflow } from '@temporalio/client';
import { durationMs } from '../../api/duration.ts';

/** The single argument of workflow W as a schedule gives it, without the revision (added to it). */
export type ScheduleInput<W extends Workflow> = Omit<Parameters<W>[0], 'revision'>;

export interface DesiredSchedule<W extends Workflow> {
  id: string;
  /** "1h30m" style interval, or a cron expression. */
  interval?: string;
  cron?: string;
  /** The workflow started, by reference (Temporal names it by its export); its input is typed by it. */
  workflowType: W;
  taskQueue: string;
  input: ScheduleInput<W>;
  paused: boolean;
  note: string;
  revision: string;
  /** Longest one started workflow may run (default 1 h). */
  runTimeout?: string;
  /**
   * Run once right away when the schedule is created or its revision changes (unless paused): a
   * Segment's first size, or its size under a new rule, then comes in seconds, not at the next
   * interval. After a run in progress, not instead of it.
   */
  runOnChange?: boolean;
}


/**
 * What one operator instance last made sure of, per schedule: periodic status refreshes of 1,000
 * Segments then cost no Temporal round trip; after RECHECK_MS (or a change) the schedule is
 * described again, so one deleted behind the operator's back is still recreated.
 */
export type ScheduleMemo = Map<string, { revision: string; paused: boolean; at: number }>;
const RECHECK_MS = 10 * 60_000;

/** Returns what it did: created, updated or unchanged. */
export async function ensureSchedule<W extends Workflow>(client: Client, s: DesiredSchedule<W>, ensured: ScheduleMemo): Promise<'created' | 'updated' | 'unchanged'> {
  const known = ensured.get(s.id);
  if (known && known.revision === s.revision && known.paused === s.paused && Date.now() - known.at < RECHECK_MS) return 'unchanged';
  const did = await applySchedule(client, s);
  ensured.set(s.id, { revision: s.revision, paused: s.paused, at: Date.now() });
  return did;
}

// Typed at the caller (DesiredSchedule<W>); Temporal's own types cannot follow a generic W here.
async function applySchedule(client: Client, s: DesiredSchedule<Workflow>): Promise<'created' | 'updated' | 'unchanged'> {
  const spec = s.cron ? { cronExpressions: [s.cron] } : { intervals: [{ every: durationMs(s.interval ?? '1h') }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: s.workflowType,
    taskQueue: s.taskQueue,
    workflowId: s.id,
    args: [{ ...s.input, revision: s.revision }],
    workflowExecutionTimeout: s.runTimeout ?? '1h',
  };
  const handle = client.schedule.getHandle(s.id);
  try {
    const current = await handle.describe();
    const args = current.action.type === 'startWorkflow' ? (current.action.args as Array<{ revision?: string }> | undefined) : undefined;
    if (args?.[0]?.revision === s.revision && current.state.paused === s.paused) return 'unchanged';
    await handle.update((prev) => ({ ...prev, spec, action, state: { ...prev.state, paused: s.paused, note: s.note } }));
    if (s.runOnChange && !s.paused && args?.[0]?.revision !== s.revision) await handle.trigger(ScheduleOverlapPolicy.BUFFER_ONE);
    return 'updated';
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
  await client.schedule.create({
    scheduleId: s.id,
    spec,
    action,
    // A slow run is never doubled up; a missed run (Temporal down) catches up once within a day.
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
    state: { paused: s.paused, note: s.note, ...(s.runOnChange && !s.paused ? { triggerImmediately: true } : {}) },
  });
  return 'created';
}

export async function deleteSchedule(client: Client, id: string, ensured: ScheduleMemo): Promise<boolean> {
  ensured.delete(id);
  try {
    await client.schedule.getHandle(id).delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}
