// Segment → its rule validated and compiled to ClickHouse SQL (shown in status), and a Temporal
// Schedule that recomputes its membership. The schedule is external: a finalizer deletes it.
import { compileSegment } from '../../lib/segments/compile.ts';
import { liveStates, type LiveState } from '../../lib/segments/live.ts';
import { findCycle, formatRuleError, parseRule, referencedSegments, RuleValidationError, segmentKey } from '../../lib/segments/rules.ts';
import type { Segment, SegmentStatus } from '../../api/v1alpha1/index.ts';
import { FINALIZER, database, segmentSchedule, taskQueue } from '../../api/names.ts';
import { hashOf } from '../manifests/workload.ts';
import { type OperatorContext, isDeleting } from '../context.ts';
import { workerVerdict } from '../machinery/conditions.ts';
import { apiMessage } from '../../lib/kubernetes/apply.ts';
import type { Reconciler, Request, Result } from '../machinery/controller.ts';
import { computeSegment } from '../../workflows/segments.ts';
import { type ScheduleInput, deleteSchedule, ensureSchedule } from './schedules.ts';

// Informer objects are replaced, never mutated, on change: caching by object is safe, and keeps
// reference lookups across 1,000 Segments from re-parsing every rule on every event.
const referencesCache = new WeakMap<object, string[]>();

/** The Segments a Segment's rule refers to (none when the rule is invalid). */
export function segmentReferences(segment: Segment): string[] {
  let refs = referencesCache.get(segment);
  if (!refs) {
    try {
      refs = referencedSegments(parseRule(segment.spec.rule));
    } catch {
      refs = [];
    }
    referencesCache.set(segment, refs);
  }
  return refs;
}

const POLL_MS = 10_000;

/** Size and last computed time come from ClickHouse; refreshed this often (with jitter). */
const STATUS_REFRESH_MS = 5 * 60_000;

export class SegmentReconciler implements Reconciler {
  readonly kind = 'Segment';

  /** Segment key → revision and generation of the definition this operator instance last wrote. */
  private readonly definitions = new Map<string, string>();

  constructor(private readonly ctx: OperatorContext) {}

  async reconcile({ namespace, name }: Request): Promise<Result | void> {
    const { ctx } = this;
    const segment = ctx.caches.segments.get(name, namespace);
    if (!segment) return;
    const scheduleId = segmentSchedule(namespace, name);
    if (isDeleting(segment)) {
      if (!segment.metadata.finalizers?.includes(FINALIZER)) return;
      if (await deleteSchedule(await ctx.temporal(), scheduleId, ctx.schedules)) ctx.events.normal(segment, 'ScheduleDeleted', `deleted Temporal schedule ${scheduleId}`);
      // Pipelines stop evaluating it in realtime.
      const { warehouse } = await ctx.warehouse(namespace);
      await warehouse.insert('segment_definitions', [{ segment: segmentKey(namespace, name), sql: '', params: '{}', mode: 'deleted', revision: '', deleted: 1 }]);
      this.definitions.delete(segmentKey(namespace, name));
      await ctx.removeFinalizer(segment, FINALIZER);
      return;
    }
    await ctx.addFinalizer(segment, FINALIZER);

    const gen = segment.metadata.generation;
    const status: SegmentStatus = { ...segment.status, observedGeneration: gen, schedule: scheduleId };
    const write = (state: 'ready' | 'progressing' | 'degraded', reason: string, message: string) => ctx.report(segment, status, state, reason, message);

    let rule;
    try {
      rule = parseRule(segment.spec.rule);
    } catch (err) {
      if (!(err instanceof RuleValidationError)) throw err;
      delete status.compiledQuery;
      return write('degraded', 'InvalidRule', err.errors.map(formatRuleError).join('; '));
    }
    status.dependsOn = referencedSegments(rule);
    const missing = status.dependsOn.filter((s) => {
      const other = ctx.caches.segments.get(s, namespace);
      return !other || isDeleting(other);
    });
    if (missing.length) return write('degraded', 'SegmentNotFound', `rule refers to Segment${missing.length > 1 ? 's' : ''} ${missing.map((s) => `"${s}"`).join(', ')}, not found in namespace ${namespace}`);
    const cycle = this.cycleThrough(namespace, name);
    if (cycle) return write('degraded', 'ReferenceCycle', `segments refer to each other in a cycle: ${cycle.join(' → ')}`);

    await ctx.applyWorker(namespace, 'segments', ctx.caches.segments.list(namespace));
    const compiled = compileSegment(rule, { namespace });
    // Long `in` lists would bloat the object: status shows the first 8 KiB.
    status.compiledQuery = compiled.display.length > 8192 ? `${compiled.display.slice(0, 8192)}\n… (truncated)` : compiled.display;
    const db = database(ctx.settings.databasePrefix, namespace);
    const refresh = segment.spec.refresh ?? {};
    const mode = segment.spec.mode ?? 'batch';
    const input: ScheduleInput<typeof computeSegment> = { namespace, segment: name, key: segmentKey(namespace, name), database: db, sql: compiled.sql, params: compiled.params, mode };
    try {
      const did = await ensureSchedule(await ctx.temporal(), {
        id: scheduleId,
        interval: refresh.cron ? undefined : (refresh.interval ?? '1h'),
        cron: refresh.cron,
        workflowType: computeSegment,
        taskQueue: taskQueue('segments', namespace),
        input,
        paused: Boolean(segment.spec.suspend),
        note: `Segment ${namespace}/${name}`,
        revision: hashOf(JSON.stringify(input), JSON.stringify(refresh)),
        runOnChange: true,
      }, ctx.schedules);
      if (did !== 'unchanged') ctx.events.normal(segment, did === 'created' ? 'ScheduleCreated' : 'ScheduleUpdated', `Temporal schedule ${scheduleId} ${did}`);
    } catch (err) {
      await write('degraded', 'TemporalError', `could not create or update schedule ${scheduleId}: ${apiMessage(err)}`);
      throw err;
    }

    // The definition the pipelines evaluate for realtime Segments (written when it or the
    // generation changes: the pipeline worker reports the generation it carries).
    const definitionRevision = hashOf(compiled.sql, JSON.stringify(compiled.params), mode);
    if (this.definitions.get(input.key) !== `${definitionRevision}@${gen}`) {
      const { warehouse } = await ctx.warehouse(namespace);
      await warehouse.insert('segment_definitions', [{ segment: input.key, sql: compiled.sql, params: JSON.stringify(compiled.params), mode, revision: definitionRevision, generation: gen ?? 0, deleted: 0 }]);
      this.definitions.set(input.key, `${definitionRevision}@${gen}`);
    }

    try {
      const { warehouse } = await ctx.warehouse(namespace);
      const [latest] = await warehouse.query<{ version: string; size: string; computed_at: string }>(
        'SELECT version, size, computed_at FROM {db}.segment_versions FINAL WHERE segment = {key:String} ORDER BY version DESC LIMIT 1',
        { key: input.key },
      );
      if (latest) {
        status.version = Number(latest.version);
        status.size = Number(latest.size);
        status.lastComputedAt = new Date(`${latest.computed_at.replace(' ', 'T')}Z`).toISOString().replace(/\.\d+Z$/, 'Z');
      }
      // A realtime Segment's size is its live membership, which moves with every event (the batch
      // run only reconciles it); before any live row, the batch size stands.
      if (mode === 'realtime') {
        const live = (await liveStates(warehouse, [input.key])).get(input.key);
        if (live && live.profiles > 0) status.size = live.members;
      }
    } catch (err) {
      ctx.log.warn({ segment: `${namespace}/${name}`, err: apiMessage(err) }, 'could not read segment size');
    }
    // Ready means live: a realtime Segment only once the pipeline worker evaluates this generation
    // (a stall reported of an earlier generation is about a rule since replaced).
    const waiting = mode === 'realtime' ? workerVerdict(segment.status?.workers, 'pipeline', gen ?? 0, 'current') : undefined;
    if (waiting) await write(waiting.state, waiting.reason, waiting.message);
    else if (segment.spec.suspend) await write('ready', 'Suspended', `suspended: schedule ${scheduleId} is paused`);
    else await write('ready', 'Scheduled', `recomputed ${refresh.cron ? `on cron "${refresh.cron}"` : `every ${refresh.interval ?? '1h'}`} by schedule ${scheduleId}`);
    return { requeueAfterMs: STATUS_REFRESH_MS * (0.8 + Math.random() * 0.4) };
  }

  /**
   * Two queries per namespace every POLL_MS find Segments whose newest computed version, or (realtime)
   * live membership, is not in their status yet and re-queue them — status follows a computation or
   * a live entry within seconds, without a query per Segment.
   */
  watchVersions(enqueue: (namespace: string, name: string) => void): () => void {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void this.pollVersions(enqueue).finally(() => (busy = false));
    }, POLL_MS);
    return () => clearInterval(timer);
  }

  private async pollVersions(enqueue: (namespace: string, name: string) => void): Promise<void> {
    const byNamespace = new Map<string, Segment[]>();
    for (const s of this.ctx.caches.segments.list()) byNamespace.set(s.metadata.namespace!, [...(byNamespace.get(s.metadata.namespace!) ?? []), s]);
    for (const [namespace, segments] of byNamespace) {
      try {
        const { warehouse } = await this.ctx.warehouse(namespace);
        const rows = await warehouse.query<{ segment: string; v: string }>('SELECT segment, max(version) AS v FROM {db}.segment_versions WHERE startsWith(segment, {prefix:String}) GROUP BY segment', { prefix: `${namespace}/` });
        const latest = new Map(rows.map((r) => [r.segment, Number(r.v)]));
        const live = segments.some((s) => s.spec.mode === 'realtime') ? await liveStates(warehouse, { prefix: `${namespace}/` }) : new Map<string, LiveState>();
        for (const s of segments) {
          const key = segmentKey(namespace, s.metadata.name!);
          const v = latest.get(key);
          const members = s.spec.mode === 'realtime' && live.get(key)?.profiles ? live.get(key)!.members : undefined;
          if ((v !== undefined && v !== s.status?.version) || (members !== undefined && members !== s.status?.size)) enqueue(namespace, s.metadata.name!);
        }
      } catch (err) {
        this.ctx.log.debug({ namespace, err: apiMessage(err) }, 'segment version poll failed');
      }
    }
  }

  /** A cycle this Segment depends on (through it or beyond it) among the namespace's Segments, if any. */
  private cycleThrough(namespace: string, name: string): string[] | undefined {
    const graph = new Map<string, string[]>();
    for (const s of this.ctx.caches.segments.list(namespace)) graph.set(s.metadata.name!, segmentReferences(s));
    // Keep only what is reachable from this segment, so an unrelated cycle is not blamed on it.
    const reachable = new Set<string>();
    const stack = [name];
    while (stack.length) {
      const n = stack.pop()!;
      if (reachable.has(n)) continue;
      reachable.add(n);
      stack.push(...(graph.get(n) ?? []));
    }
    const sub = new Map([...graph].filter(([k]) => reachable.has(k)));
    return findCycle(sub);
  }
}
