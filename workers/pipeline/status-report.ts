// The Pipeline worker's own entry of its Pipeline's status.workers: Live once it runs the
// generation the operator rendered it for, Stalled (with the cause) while its writes keep failing,
// so the operator can say Degraded with the reason. Only where the worker was given its namespace
// and generation (USPA_NAMESPACE, USPA_PIPELINE_GENERATION) and a Kubernetes API to write to.
import { KubeConfig } from '@kubernetes/client-node';
import { apiMessage } from '../../lib/kubernetes/apply.ts';
import { reportStatus, type ReportUpdate } from '../../lib/kubernetes/report.ts';
import type { Logger } from '../../lib/log.ts';
import type { StallState } from './stall.ts';

export const REPORTER = 'pipeline';

/** A stall state → the status.workers entry that says it. */
export function pipelineReport(generation: number, state: StallState): ReportUpdate {
  if (!state.stalled) return { component: REPORTER, generation, state: 'Live' };
  return { component: REPORTER, generation, state: 'Stalled', reason: 'WritesFailing', message: `${state.failures} consecutive writes failed, offsets not moving: ${state.cause ?? 'unknown cause'}` };
}

export type PipelineReporter = (pipeline: string, state: StallState) => void;

/** The reporter of this process, or undefined when it is not told which namespace and generation it runs. */
export function pipelineStatusReporter(env: NodeJS.ProcessEnv, log: Logger, kc?: KubeConfig): PipelineReporter | undefined {
  const namespace = env.USPA_NAMESPACE;
  const generation = Number(env.USPA_PIPELINE_GENERATION);
  if (!namespace || !Number.isInteger(generation) || generation < 1) return undefined;
  const config = kc ?? new KubeConfig();
  if (!kc) config.loadFromDefault();
  // One report at a time per Pipeline, in order: a Live must not overtake the Stalled before it.
  const chains = new Map<string, Promise<void>>();
  return (pipeline, state) => {
    const previous = chains.get(pipeline) ?? Promise.resolve();
    const next = previous.then(() =>
      reportStatus(config, { kind: 'Pipeline', namespace, name: pipeline }, pipelineReport(generation, state)).then(
        () => undefined,
        (err: unknown) => log.warn({ pipeline, err: apiMessage(err) }, 'could not report the Pipeline status'),
      ),
    );
    chains.set(pipeline, next);
  };
}
