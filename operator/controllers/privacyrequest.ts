// PrivacyRequest → an erasePerson (or, for action access, exportPerson) workflow on the namespace's
// privacy worker (whose Deployment the requests own, so it runs while any exists), its progress in
// status, and once done the signed receipt (or the export waiting for its download). The workflow id is the request's uid: a reconcile repeated after a crash joins the run
// already started. A finished request is left as it is (its spec cannot change).
import { randomBytes } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { PART_OF, PRIVACY_SIGNING_SECRET, PRIVACY_SIGNING_SECRET_KEY, database, taskQueue } from '../../api/names.ts';
import type { PrivacyRequest, PrivacyRequestStatus } from '../../api/v1alpha1/index.ts';
import { EXPORT_HOURS } from '../../api/v1alpha1/privacyrequest.ts';
import { accessProgressQuery, erasureProgressQuery, privacyWorkflowId, type ErasePersonInput, type ExportPersonInput } from '../../api/workflows/privacy.ts';
import { erasePerson, exportPerson } from '../../workflows/privacy.ts';
import { type OperatorContext, isDeleting } from '../context.ts';
import { setConditions, verdict } from '../machinery/conditions.ts';
import type { Reconciler, Request, Result } from '../machinery/controller.ts';

/** How often a running request's progress is read into status. */
export const PROGRESS_MS = 2_000;

export class PrivacyRequestReconciler implements Reconciler {
  readonly kind = 'PrivacyRequest';

  constructor(private readonly ctx: OperatorContext) {}

  async reconcile({ namespace, name }: Request): Promise<Result | void> {
    const { ctx } = this;
    const request = ctx.caches.privacyrequests.get(name, namespace);
    if (!request || isDeleting(request)) return;
    if (request.status?.phase === 'Completed' || request.status?.phase === 'Failed') return;
    const status: PrivacyRequestStatus = { ...request.status, observedGeneration: request.metadata.generation };
    if (request.spec.suspend) return void (await this.write(request, { ...status, phase: 'Pending' }, 'progressing', 'Suspended', 'suspended: the request waits until spec.suspend is false'));

    await this.signingKey(namespace);
    await ctx.applyWorker(namespace, 'privacy', ctx.caches.privacyrequests.list(namespace));
    const temporal = await ctx.temporal();
    const workflowId = privacyWorkflowId(namespace, request.metadata.uid ?? name);
    const access = request.spec.action === 'access';
    if (!status.workflowId) {
      const requestId = request.metadata.uid ?? name;
      const db = database(ctx.settings.databasePrefix, namespace);
      try {
        if (access) {
          const input: ExportPersonInput = { requestId, namespace, database: db, identity: request.spec.identity, expiresInHours: request.spec.expiresInHours ?? EXPORT_HOURS.default };
          await temporal.workflow.start(exportPerson, { taskQueue: taskQueue('privacy', namespace), workflowId, args: [input] });
        } else {
          const input: ErasePersonInput = {
            requestId,
            namespace,
            database: db,
            identity: request.spec.identity,
            mode: request.spec.mode ?? 'suppress_with_delete',
            pipelines: ctx.caches.pipelines.list(namespace).filter((p) => !isDeleting(p)).map((p) => p.metadata.name!),
            requestedBy: request.spec.reference,
            // Told on the activations worker, which runs while Activations exist; email holds no copy.
            destinations: ctx.caches.activations.list(namespace).filter((a) => !isDeleting(a) && a.spec.destination.type !== 'email').map((a) => a.metadata.name!),
          };
          await temporal.workflow.start(erasePerson, { taskQueue: taskQueue('privacy', namespace), workflowId, args: [input] });
        }
        ctx.events.normal(request, 'Started', `${access ? 'access export' : 'erasure'} started (workflow ${workflowId})`);
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
      status.workflowId = workflowId;
      status.startedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    }
    const handle = temporal.workflow.getHandle(status.workflowId);
    const described = await handle.describe();
    if (described.status.name === 'COMPLETED' && access) {
      const result = (await handle.result()) as Awaited<ReturnType<typeof exportPerson>>;
      const done: PrivacyRequestStatus = { ...status, phase: 'Completed', step: 'done', identities: result.identities.length, stores: result.files.filter((f) => f.table).length, storesDone: result.files.filter((f) => f.table).length, completedAt: result.createdAt.replace(/\.\d+Z$/, 'Z'), export: result };
      const message = `access export ready: ${result.identities.length} identities, ${result.files.length} files, ${result.bytes} bytes; download it once before ${result.expiresAt} (GET /v1/privacy-requests/${name}/export, or uspa privacy download ${name})`;
      if (await this.write(request, done, 'ready', 'Completed', message)) ctx.events.normal(request, 'Completed', message);
      return;
    }
    if (described.status.name === 'COMPLETED') {
      const receipt = (await handle.result()) as Awaited<ReturnType<typeof erasePerson>>;
      const deleted = receipt.stores.reduce((sum, s) => sum + (s.kept ? 0 : s.before - s.after), 0);
      const done: PrivacyRequestStatus = { ...status, phase: 'Completed', step: 'done', identities: receipt.identities.length, stores: receipt.stores.length, storesDone: receipt.stores.length, rowsDeleted: deleted, completedAt: receipt.completedAt.replace(/\.\d+Z$/, 'Z'), receipt };
      const message = `${receipt.mode}: ${receipt.identities.length} identities, ${deleted} rows deleted from ${receipt.stores.filter((s) => s.before > 0 && !s.kept).length} of ${receipt.stores.length} stores; the signed receipt is in status.receipt`;
      if (await this.write(request, done, 'ready', 'Completed', message)) ctx.events.normal(request, 'Completed', message);
      return;
    }
    if (described.status.name !== 'RUNNING') {
      let cause = `workflow ${status.workflowId} ended ${described.status.name}`;
      try {
        await handle.result();
      } catch (err) {
        if (err instanceof WorkflowFailedError) cause = `${cause}: ${err.cause?.message ?? err.message}`;
      }
      if (await this.write(request, { ...status, phase: 'Failed' }, 'degraded', 'Failed', cause)) ctx.events.warning(request, 'Failed', cause);
      return;
    }
    const progress = await (access ? handle.query(accessProgressQuery) : handle.query(erasureProgressQuery)).catch(() => undefined);
    if (!progress) {
      await this.write(request, { ...status, phase: 'Pending' }, 'progressing', 'WaitingForWorker', 'waiting for the privacy worker (Deployment uspa-worker-privacy) to pick the request up');
    } else {
      const running = { ...status, phase: 'Running' as const, step: progress.step, identities: progress.identities, stores: progress.stores, storesDone: progress.storesDone };
      await this.write(request, running, 'progressing', 'Running', `${progress.step}: ${progress.identities} identities, ${progress.storesDone}/${progress.stores} stores done`);
    }
    return { requeueAfterMs: PROGRESS_MS };
  }

  /** The namespace's receipt signing key: created when missing, never replaced (old receipts must still verify). */
  private async signingKey(namespace: string): Promise<void> {
    if (await this.ctx.readSecret(namespace, PRIVACY_SIGNING_SECRET)) return;
    const body = { metadata: { name: PRIVACY_SIGNING_SECRET, namespace, labels: { ...PART_OF, 'app.kubernetes.io/component': 'privacy' } }, type: 'Opaque', stringData: { [PRIVACY_SIGNING_SECRET_KEY]: randomBytes(32).toString('base64url') } };
    await this.ctx.core.createNamespacedSecret({ namespace, body }).catch((err: unknown) => {
      if ((err as { code?: number }).code !== 409) throw err;
    });
  }

  private async write(request: PrivacyRequest, status: PrivacyRequestStatus, state: 'ready' | 'progressing' | 'degraded', reason: string, message: string): Promise<boolean> {
    status.conditions = setConditions(request.status?.conditions, verdict(state, reason, message), request.metadata.generation ?? 0);
    return this.ctx.writeStatus(request, status);
  }
}
