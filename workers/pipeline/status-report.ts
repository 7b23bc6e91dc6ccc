// The Pipeline worker's own entries of status.workers: on its Pipeline, Live once it runs the
// generation the operator rendered it for, Stalled (with the cause) while its writes keep failing,
// so the operator can say Degraded with the reason; on each realtime Segment it evaluates, the
// generation of the definition it evaluates (Live) or why it cannot (Stalled). Only where the
// worker was given its namespace and generation (USPA_NAMESPACE, USPA_PIPELINE_GENERATION) and a
// Kubernetes API to write to.
import { KubeConfig } from '@kubernetes/client-node';
import { apiMessage } from '../../lib/kubernetes/apply.ts';
import { reportStatus, type ReportTarget, type ReportUpdate } from '../../lib/kubernetes/report.ts';
import type { Logger } from '../../lib/log.ts';
import type { SegmentReporter } from './realtime-segments.ts';
import type { StallState } from './stall.ts';

export const REPORTER = 'pipeline';

/** A stall state → the status.workers entry that says it. */
export function pipelineReport(generation: number, state: StallState): ReportUpdate {
  if (!state.stalled) return { component: REPORTER, generation, state: 'Live' };
  return { component: REPORTER, generation, state: 'Stalled', reason: 'WritesFailing', message: `${state.failures} consecutive writes failed, offsets not moving: ${state.cause ?? 'unknown cause'}` };
}

export type PipelineReporter = (pipeline: string, state: StallState) => void;

type Reporter = (target: ReportTarget, update: ReportUpdate) => void;

/** Reports of this process (undefined when it is not told which namespace and generation it runs): one at a time per object, in order. */
function reporter(env: NodeJS.ProcessEnv, log: Logger, kc?: KubeConfig): { namespace: string; generation: number; report: Reporter } | undefined {
  const namespace = env.USPA_NAMESPACE;
  const generation = Number(env.USPA_PIPELINE_GENERATION);
  if (!namespace || !Number.isInteger(generation) || generation < 1) return undefined;
  const config = kc ?? new KubeConfig();
  if (!kc) config.loadFromDefault();
  // A Live must not overtake the Stalled before it.
  const chains = new Map<string, Promise<void>>();
  const report: Reporter = (target, update) => {
    const key = `${target.kind}/${target.name}`;
    const next = (chains.get(key) ?? Promise.resolve()).then(() =>
      reportStatus(config, target, update).then(
        () => undefined,
        (err: unknown) => log.warn({ [target.kind.toLowerCase()]: target.name, err: apiMessage(err) }, `could not report the ${target.kind} status`),
      ),
    );
    chains.set(key, next);
    void next.finally(() => chains.get(key) === next && chains.delete(key));
  };
  return { namespace, generation, report };
}

/**
 * This process's reports on its Pipelines and on the realtime Segments of its namespace (one
 * Kubernetes client for both), or undefined when it is not told which namespace and generation it runs.
 */
export function statusReporters(env: NodeJS.ProcessEnv, log: Logger, kc?: KubeConfig): { pipeline: PipelineReporter; segment: SegmentReporter } | undefined {
  const r = reporter(env, log, kc);
  if (!r) return undefined;
  return {
    pipeline: (pipeline, state) => r.report({ kind: 'Pipeline', namespace: r.namespace, name: pipeline }, pipelineReport(r.generation, state)),
    segment: (segment, state) => {
      const [namespace, name] = segment.split('/') as [string, string];
      // Definitions of the worker's own database only: any other namespace's is not its to report on.
      if (namespace === r.namespace && name) r.report({ kind: 'Segment', namespace, name }, { component: REPORTER, ...state });
    },
  };
}
