// Activation → its templates checked now (not at send time), its references resolved, and either
// a Temporal Schedule (audience syncs) or a registration with the namespace's trigger consumer
// (event and segment triggers). The schedule is external: a finalizer deletes it.
import type { V1ConfigMap } from '@kubernetes/client-node';
import { Liquid } from 'liquidjs';
import { stringify } from 'yaml';
import { ACTIVATION_DEFAULTS, type Activation, type ActivationStatus } from '../../api/v1alpha1/index.ts';
import { FINALIZER, PART_OF, TRIGGERS_CONFIGMAP, activationSchedule, database, taskQueue, topicNames, topicPrefix } from '../../api/names.ts';
import { type WebhookAddressPolicy, kafkaTopicProblem, webhookUrlProblem } from '../../api/activation-destinations.ts';
import { templateContext, unknownVariable } from '../../api/activation-templates.ts';
import { hashOf } from '../manifests/workload.ts';
import { type OperatorContext, SECRET_RECHECK_MS, isDeleting } from '../context.ts';
import { apiMessage, ownerRef } from '../../lib/kubernetes/apply.ts';
import type { Reconciler, Request, Result } from '../machinery/controller.ts';
import { workerVerdict } from '../machinery/conditions.ts';
import { syncAudience } from '../../workflows/activations.ts';
import { type ScheduleInput, deleteSchedule, ensureSchedule } from './schedules.ts';

const STATUS_REFRESH_MS = 60_000;
const liquid = new Liquid({ strictFilters: true });

/**
 * Every template of the Activation that does not parse or uses a variable its render context
 * does not have (api/activation-templates.ts), as "where: why".
 */
export function templateErrors(spec: Activation['spec']): string[] {
  const templates: Array<[string, string | undefined]> = [
    ['spec.template.body', spec.template?.body],
    ['spec.destination.email.subject', spec.destination.email?.subject],
    ['spec.destination.email.to', spec.destination.email?.to],
    ...(spec.variants ?? []).map((v, i): [string, string | undefined] => [`spec.variants[${i}].template.body`, v.template?.body]),
  ];
  const context = templateContext(spec.trigger.type, spec.destination.type);
  const errors: string[] = [];
  for (const [where, text] of templates) {
    if (!text) continue;
    try {
      const unknown = new Set(liquid.globalVariableSegmentsSync(liquid.parse(text)).map((path) => unknownVariable(path, context)).filter((why) => why !== undefined));
      for (const why of unknown) errors.push(`${where}: ${why}`);
    } catch (err) {
      errors.push(`${where}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return errors;
}

/** Where the destination points, against the installation's rules (api/activation-destinations.ts). */
export function destinationErrors(spec: Activation['spec'], outputs: string, webhookAddresses: WebhookAddressPolicy): string[] {
  const { kafka, webhook } = spec.destination;
  return [kafka && kafkaTopicProblem(kafka.topic, outputs), webhook && webhookUrlProblem(webhook.url, webhookAddresses)].filter((p) => typeof p === 'string');
}

/** Every Secret key the Activation reads, with the field that names it. */
function secretRefs(spec: Activation['spec']): Array<{ field: string; name: string; key: string }> {
  const { webhook, email } = spec.destination;
  return [
    ...(webhook?.signingSecretRef ? [{ field: 'spec.destination.webhook.signingSecretRef', name: webhook.signingSecretRef.name, key: webhook.signingSecretRef.key ?? ACTIVATION_DEFAULTS.webhook.signingSecretKey }] : []),
    ...(webhook?.secretHeaders ?? []).map((h, i) => ({ field: `spec.destination.webhook.secretHeaders[${i}].valueFrom.secretKeyRef`, ...h.valueFrom.secretKeyRef })),
    ...(email ? [{ field: 'spec.destination.email.smtpSecretRef', name: email.smtpSecretRef.name, key: email.smtpSecretRef.key ?? ACTIVATION_DEFAULTS.email.smtpSecretKey }] : []),
  ];
}

export class ActivationReconciler implements Reconciler {
  readonly kind = 'Activation';

  constructor(private readonly ctx: OperatorContext) {}

  async reconcile({ namespace, name }: Request): Promise<Result | void> {
    const { ctx } = this;
    const activation = ctx.caches.activations.get(name, namespace);
    const scheduleId = activationSchedule(namespace, name);
    if (!activation) return this.applyTriggers(namespace);
    if (isDeleting(activation)) {
      if (!activation.metadata.finalizers?.includes(FINALIZER)) return;
      await this.applyTriggers(namespace);
      if (await deleteSchedule(await ctx.temporal(), scheduleId, ctx.schedules)) ctx.events.normal(activation, 'ScheduleDeleted', `deleted Temporal schedule ${scheduleId}`);
      await ctx.removeFinalizer(activation, FINALIZER);
      return;
    }
    await ctx.addFinalizer(activation, FINALIZER);

    const gen = activation.metadata.generation;
    const status: ActivationStatus = { ...activation.status, observedGeneration: gen };
    const write = (state: 'ready' | 'progressing' | 'degraded', reason: string, message: string) => ctx.report(activation, status, state, reason, message);

    const spec = activation.spec;
    const problems = templateErrors(spec);
    if (problems.length) return write('degraded', 'TemplateInvalid', problems.join('; '));
    if (spec.segment) {
      const seg = ctx.caches.segments.get(spec.segment, namespace);
      if (!seg || isDeleting(seg)) return write('degraded', 'SegmentNotFound', `Segment "${spec.segment}" not found in namespace ${namespace}`);
    }
    const destination = destinationErrors(spec, topicNames(topicPrefix(ctx.settings.topicPrefix, namespace)).activationOutputs, ctx.settings.webhookAddresses ?? 'deny');
    if (destination.length) return write('degraded', 'DestinationNotAllowed', destination.join('; '));
    // Names and keys only: a Secret's values never reach status, Events or logs.
    for (const ref of secretRefs(spec)) {
      const secret = await ctx.readSecret(namespace, ref.name);
      const problem = !secret ? ['SecretNotFound', `${ref.field}: Secret "${ref.name}" not found in namespace ${namespace}`] : secret.data?.[ref.key] === undefined ? ['SecretKeyMissing', `${ref.field}: Secret "${ref.name}" has no key "${ref.key}"`] : undefined;
      if (problem) {
        await write('degraded', problem[0]!, problem[1]!);
        return { requeueAfterMs: SECRET_RECHECK_MS }; // Secrets are not watched
      }
    }

    await ctx.applyWorker(namespace, 'activations', ctx.caches.activations.list(namespace));
    const temporal = await ctx.temporal();
    const db = database(ctx.settings.databasePrefix, namespace);
    try {
      if (spec.trigger.type === 'schedule') {
        // The CRD requires spec.segment for audience syncs.
        const input: ScheduleInput<typeof syncAudience> = { namespace, activation: name, database: db, segment: spec.segment!, sync: spec.trigger.sync ?? 'diff' };
        const did = await ensureSchedule(temporal, {
          id: scheduleId,
          interval: spec.trigger.schedule?.cron ? undefined : (spec.trigger.schedule?.interval ?? '1h'),
          cron: spec.trigger.schedule?.cron,
          workflowType: syncAudience,
          taskQueue: taskQueue('activations', namespace),
          input,
          paused: Boolean(spec.suspend),
          note: `Activation ${namespace}/${name}`,
          revision: hashOf(JSON.stringify(input), JSON.stringify(spec)),
        }, ctx.schedules);
        if (did !== 'unchanged') ctx.events.normal(activation, did === 'created' ? 'ScheduleCreated' : 'ScheduleUpdated', `Temporal schedule ${scheduleId} ${did}`);
        status.schedule = scheduleId;
      } else {
        // The trigger changed away from a schedule: no schedule may be left behind.
        if (await deleteSchedule(temporal, scheduleId, ctx.schedules)) ctx.events.normal(activation, 'ScheduleDeleted', `deleted Temporal schedule ${scheduleId}`);
        delete status.schedule;
      }
    } catch (err) {
      await write('degraded', 'TemporalError', `could not manage schedule ${scheduleId}: ${apiMessage(err)}`);
      throw err;
    }
    await this.applyTriggers(namespace);

    try {
      const { warehouse } = await ctx.warehouse(namespace);
      const [row] = await warehouse.query<{ sent: string; failed: string; suppressed: string; last_sent: string | null }>(
        `SELECT countIf(outcome = 'sent') AS sent, countIf(outcome = 'failed') AS failed, countIf(outcome IN ('suppressed', 'holdout')) AS suppressed,
                maxIf(at, outcome = 'sent') AS last_sent FROM {db}.activation_deliveries FINAL WHERE activation = {key:String}`,
        { key: `${namespace}/${name}` },
      );
      status.sent = Number(row?.sent ?? 0);
      status.failed = Number(row?.failed ?? 0);
      status.suppressed = Number(row?.suppressed ?? 0);
      if (status.sent > 0 && row?.last_sent) status.lastSentAt = new Date(`${row.last_sent.replace(' ', 'T')}Z`).toISOString().replace(/\.\d+Z$/, 'Z');
    } catch (err) {
      ctx.log.warn({ activation: `${namespace}/${name}`, err: apiMessage(err) }, 'could not read delivery counts');
    }
    const how = spec.trigger.type === 'schedule' ? `syncs by schedule ${scheduleId}` : `registered for ${spec.trigger.type} triggers`;
    // Ready means live: the activations worker has loaded this generation (it reports in status.workers).
    const waiting = workerVerdict(activation.status?.workers, 'activations', gen ?? 0);
    if (waiting) await write(waiting.state, waiting.reason, waiting.message);
    else if (spec.suspend) await write('ready', 'Suspended', `suspended: nothing is sent (${how})`);
    else await write('ready', 'Active', `${how} → ${spec.destination.type}`);
    return { requeueAfterMs: STATUS_REFRESH_MS * (0.8 + Math.random() * 0.4) };
  }

  /** The namespace's trigger registrations (event and segment triggers), read by the trigger consumer. */
  private async applyTriggers(namespace: string): Promise<void> {
    const all = this.ctx.caches.activations.list(namespace).filter((a) => !isDeleting(a) && a.spec.trigger.type !== 'schedule');
    if (all.length === 0) return;
    const sorted = [...all].sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
    const triggers = sorted.map((a) => ({ activation: a.metadata.name, suspended: Boolean(a.spec.suspend), segment: a.spec.segment, trigger: a.spec.trigger, generation: a.metadata.generation }));
    const cm: V1ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: TRIGGERS_CONFIGMAP, namespace, labels: { ...PART_OF, 'app.kubernetes.io/component': 'triggers' }, ownerReferences: sorted.map((a) => ownerRef(a, false)) },
      data: { 'triggers.yaml': `# Rendered by the USPA operator from the Activations in namespace ${namespace}.\n${stringify({ triggers })}` },
    };
    await this.ctx.applier.apply(cm);
  }
}
