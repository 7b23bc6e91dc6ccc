// status.conditions the Kubernetes way: one entry per type, lastTransitionTime moves only when
// the status flips, every entry carries the generation it describes.
import { isDeepStrictEqual } from 'node:util';
import type { Condition, WorkerReport } from '../../api/v1alpha1/meta.ts';

export interface ConditionUpdate {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

export function setConditions(existing: readonly Condition[] | undefined, updates: readonly ConditionUpdate[], generation: number, now: Date = new Date()): Condition[] {
  const result = [...(existing ?? [])];
  for (const u of updates) {
    const i = result.findIndex((c) => c.type === u.type);
    const before = i >= 0 ? result[i] : undefined;
    const next: Condition = {
      type: u.type,
      status: u.status,
      reason: u.reason,
      message: u.message,
      observedGeneration: generation,
      lastTransitionTime: before && before.status === u.status ? before.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, 'Z'),
    };
    if (i >= 0) result[i] = next;
    else result.push(next);
  }
  const order = ['Ready', 'Progressing', 'Degraded'];
  return result.sort((a, b) => (order.indexOf(a.type) + 1 || 99) - (order.indexOf(b.type) + 1 || 99));
}

/** The three standard conditions from one verdict: ready, still working, or broken (with why). */
export function verdict(state: 'ready' | 'progressing' | 'degraded', reason: string, message: string): ConditionUpdate[] {
  return [
    { type: 'Ready', status: state === 'ready' ? 'True' : 'False', reason, message },
    { type: 'Progressing', status: state === 'progressing' ? 'True' : 'False', reason: state === 'progressing' ? reason : 'Stable', message: state === 'progressing' ? message : '' },
    { type: 'Degraded', status: state === 'degraded' ? 'True' : 'False', reason: state === 'degraded' ? reason : 'AsExpected', message: state === 'degraded' ? message : '' },
  ];
}

export interface WorkerVerdict {
  state: 'progressing' | 'degraded';
  reason: string;
  message: string;
}

/**
 * What the worker carrying a resource out says, against the generation it must carry out:
 * undefined once it runs that generation (or a newer one); Progressing/WaitingForWorker until it
 * has loaded it; Degraded/Stalled, with the worker's cause, while it reports it cannot make progress.
 * With `stalls: 'current'` a Stalled report of an earlier generation is about what has since been
 * replaced (a Segment's rule): the new generation is waited for, not blamed. By default a stall of
 * any generation counts (a stuck Pipeline worker is stuck whatever spec it runs).
 */
export function workerVerdict(workers: readonly WorkerReport[] | undefined, component: string, generation: number, stalls: 'any' | 'current' = 'any'): WorkerVerdict | undefined {
  const w = workers?.find((r) => r.component === component);
  if (w?.state === 'Stalled' && (stalls === 'any' || w.generation >= generation)) return { state: 'degraded', reason: 'Stalled', message: `${component} worker stalled since ${w.since}: ${[w.reason, w.message].filter(Boolean).join(': ') || 'no progress'}` };
  if (!w || w.generation < generation) {
    return { state: 'progressing', reason: 'WaitingForWorker', message: `waiting for the ${component} worker to load generation ${generation}${w ? ` (it runs generation ${w.generation})` : ''}` };
  }
  return undefined;
}

export function conditionOf(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function sameStatus(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a ?? {})), JSON.parse(JSON.stringify(b ?? {})));
}
