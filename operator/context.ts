// What every reconciler works with: the caches the informers fill, the API clients, the engines.
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type KubernetesObject, type V1Deployment, type V1Secret } from '@kubernetes/client-node';
import type { Client as TemporalClient } from '@temporalio/client';
import { Warehouse } from '../lib/clickhouse.ts';
import type { Admin } from '../lib/kafka.ts';
import type { Logger } from '../lib/log.ts';
import { MIGRATIONS } from '../api/tables/migrations.ts';
import { migrate } from '../lib/schema.ts';
import { API_VERSION, GROUP, VERSION, type Activation, type ApiKey, type Pipeline, type PrivacyRequest, type Personalization, type Segment, type Source } from '../api/v1alpha1/index.ts';
import { NAMESPACE_CLICKHOUSE_SECRET, PART_OF, clickhouseUser, database, type WorkerKind } from '../api/names.ts';
import { FIELD_MANAGER, isNotFound, ownerRef, type Applier } from '../lib/kubernetes/apply.ts';
import { MARKETING } from '../lib/consent.ts';
import { activationsWorkerRbac, workerManifests } from './manifests/workers.ts';
import { hashOf } from './manifests/workload.ts';
import { ttlOf, ttlStatement } from './manifests/retention.ts';
import { newPassword, redact, tenantUserStatements } from './manifests/tenancy.ts';

/** How many resources (the oldest) own a namespace's shared worker Deployment. */
const WORKER_OWNERS = 10;
import { conditionOf, sameStatus, setConditions, verdict } from './machinery/conditions.ts';
import type { CommonStatus, Condition } from '../api/v1alpha1/meta.ts';
import type { EventRecorder } from './machinery/events.ts';
import type { ResourceInformer } from '../lib/kubernetes/informer.ts';
import type { OperatorSettings } from './settings.ts';
import type { ScheduleMemo } from './controllers/schedules.ts';

export interface Caches {
  sources: ResourceInformer<Source>;
  pipelines: ResourceInformer<Pipeline>;
  segments: ResourceInformer<Segment>;
  activations: ResourceInformer<Activation>;
  apikeys: ResourceInformer<ApiKey>;
  privacyrequests: ResourceInformer<PrivacyRequest>;
  personalizations: ResourceInformer<Personalization>;
  deployments: ResourceInformer<V1Deployment>;
}

/**
 * The operator watches no Secrets (its RBAC cannot list or watch them): a resource that waits for
 * a Secret it does not find is reconciled again after this long.
 */
export const SECRET_RECHECK_MS = 5_000;

export type UspaObject = Source | Pipeline | Segment | Activation | ApiKey | PrivacyRequest | Personalization;

export const PLURALS = { Source: 'sources', Pipeline: 'pipelines', Segment: 'segments', Activation: 'activations', ApiKey: 'apikeys', PrivacyRequest: 'privacyrequests', Personalization: 'personalizations' } as const;

export class OperatorContext {
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;
  readonly schedules: ScheduleMemo = new Map();
  private readonly workers = new Map<string, { hash: string; generation?: number }>();
  private readonly warehouses = new Map<string, { warehouse: Warehouse; schema?: Promise<number> }>();
  /** Per namespace, the hash of the password its ClickHouse user was last given by this process. */
  private readonly namespaceUsers = new Map<string, string>();
  /** Called when a namespace's ClickHouse password changed, so that every workload using it is re-applied. */
  onCredentialsRotated?: (namespace: string) => void;

  constructor(
    readonly kc: KubeConfig,
    readonly settings: OperatorSettings,
    readonly log: Logger,
    readonly applier: Applier,
    readonly events: EventRecorder,
    readonly caches: Caches,
    readonly kafka: Admin,
    readonly temporal: () => Promise<TemporalClient>,
  ) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  /** One Secret by name (a get, never a list), or undefined when it does not exist. */
  async readSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    try {
      return await this.core.readNamespacedSecret({ name, namespace });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** The namespace's ClickHouse database, created and migrated once per operator process. */
  async warehouse(namespace: string): Promise<{ warehouse: Warehouse; schemaVersion: number }> {
    const name = database(this.settings.databasePrefix, namespace);
    let entry = this.warehouses.get(name);
    if (!entry) {
      entry = { warehouse: new Warehouse({ ...this.settings.clickhouse, database: name }) };
      this.warehouses.set(name, entry);
    }
    const w = entry.warehouse;
    entry.schema ??= migrate(w, this.log).then(() => Math.max(...MIGRATIONS.map((m) => m.version)));
    try {
      return { warehouse: w, schemaVersion: await entry.schema };
    } catch (err) {
      entry.schema = undefined; // try again on the next reconcile
      throw err;
    }
  }

  /**
   * The ClickHouse credentials of the namespace's workloads: its own user, which reaches only its
   * database (created, and given the password of the namespace's Secret uspa-clickhouse, which is
   * generated when absent: deleting it rotates the password) — or the operator's own, when the
   * installation says its ClickHouse cannot enforce users (settings.namespaceUsers false).
   */
  async clickhouseCredentials(namespace: string): Promise<OperatorSettings['clickhouse']> {
    const shared = this.settings.clickhouse;
    if (!this.settings.namespaceUsers) return shared;
    const user = clickhouseUser(this.settings.databasePrefix, namespace);
    let secret = await this.readSecret(namespace, NAMESPACE_CLICKHOUSE_SECRET);
    if (!secret) {
      const body = { metadata: { name: NAMESPACE_CLICKHOUSE_SECRET, namespace, labels: { ...PART_OF, 'app.kubernetes.io/component': 'clickhouse-user' } }, type: 'Opaque', stringData: { username: user, password: newPassword() } };
      secret = await this.core.createNamespacedSecret({ namespace, body }).catch(async (err: unknown) => {
        if ((err as { code?: number }).code !== 409) throw err;
        return this.readSecret(namespace, NAMESPACE_CLICKHOUSE_SECRET); // another replica or reconcile made it first
      });
    }
    const encoded = secret?.data?.password;
    if (!encoded) throw new Error(`Secret ${NAMESPACE_CLICKHOUSE_SECRET} in namespace ${namespace} has no key "password": delete it and the operator generates a new one`);
    const password = Buffer.from(encoded, 'base64').toString();
    const hash = hashOf(password);
    const before = this.namespaceUsers.get(namespace);
    if (before !== hash) {
      const { warehouse } = await this.warehouse(namespace);
      try {
        for (const sql of tenantUserStatements(user, password, warehouse.database)) await warehouse.command(sql);
      } catch (err) {
        throw new Error(`could not create or update the namespace's ClickHouse user ${user}: ${redact(String((err as Error).message ?? err).split('\n')[0]!, password)}`);
      }
      this.namespaceUsers.set(namespace, hash);
      this.log.info({ namespace, user }, before ? 'namespace ClickHouse password rotated' : 'namespace ClickHouse user ready');
      if (before) this.onCredentialsRotated?.(namespace);
    }
    return { url: shared.url, username: user, password };
  }

  /**
   * Gives the namespace's events table this TTL (seconds by event time; undefined: none) when it
   * has another, and returns what it has now. Level-based: the table says what is in force.
   */
  async eventsRetention(namespace: string, seconds: number | undefined): Promise<number | undefined> {
    const { warehouse } = await this.warehouse(namespace);
    const rows = await warehouse.query<{ create_table_query: string }>("SELECT create_table_query FROM system.tables WHERE database = {db:String} AND name = 'events'", { db: warehouse.database });
    if (ttlOf(rows[0]?.create_table_query ?? '') === seconds) return seconds;
    await warehouse.command(ttlStatement(seconds));
    this.log.info({ namespace, ttlSeconds: seconds ?? 'none' }, 'events retention changed');
    return seconds;
  }

  /**
   * Writes status only when it differs from what the object has (one write per reconcile at most).
   * Server-side apply under the operator's field manager: status.workers belongs to the workers
   * (lib/kubernetes/report.ts), so it is never part of what the operator applies, and a report
   * that lands between the cache read and this write survives it.
   */
  async writeStatus(obj: UspaObject, status: CommonStatus): Promise<boolean> {
    const { workers: _theirs, ...mine } = status;
    const { workers: _seen, ...before } = (obj.status ?? {}) as CommonStatus;
    if (sameStatus(before, mine)) return false;
    const body = { apiVersion: API_VERSION, kind: obj.kind, metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace }, status: JSON.parse(JSON.stringify(mine)) as object };
    await this.custom.patchNamespacedCustomObjectStatus({ ...this.address(obj), body, fieldManager: FIELD_MANAGER, force: true }, setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply));
    return true;
  }

  /**
   * Sets Ready/Progressing/Degraded from one verdict, writes status if it changed, and records an
   * Event when Ready's reason changes (Normal when ready, Warning when degraded).
   */
  async report(obj: UspaObject, status: { conditions?: Condition[] }, state: 'ready' | 'progressing' | 'degraded', reason: string, message: string): Promise<void> {
    const before = conditionOf(obj.status?.conditions, 'Ready');
    status.conditions = setConditions(obj.status?.conditions, verdict(state, reason, message), obj.metadata.generation ?? 0);
    if (!(await this.writeStatus(obj, status)) || before?.reason === reason) return;
    if (state === 'ready') this.events.normal(obj, reason, message);
    else if (state === 'degraded') this.events.warning(obj, reason, message);
  }

  /**
   * The namespace's worker Deployment for a task queue, owned by every resource that needs it (so
   * it goes with the last of them). The activations worker also gets its ServiceAccount and Role.
   */
  async applyWorker(namespace: string, kind: WorkerKind, owners: readonly UspaObject[]): Promise<void> {
    // The oldest few resources own the worker: a namespace with 1,000 Segments must not rewrite a
    // Deployment with 1,000 owner references on every reconcile. Garbage collection removes it once
    // those owners are gone; if others remain, their next reconcile brings it back.
    const live = owners
      .filter((o) => !isDeleting(o))
      .sort((a, b) => String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')) || a.metadata.name!.localeCompare(b.metadata.name!))
      .slice(0, WORKER_OWNERS);
    if (live.length === 0) return;
    const refs = live.map((o) => ownerRef(o, false));
    // Once the namespace declares marketing, an Activation without a consent category of its own sends only with it.
    const marketing = kind === 'activations' && this.caches.pipelines.list(namespace).some((p) => !isDeleting(p) && (p.spec.consent?.purposes ?? []).some((x) => x.name === MARKETING));
    const m = workerManifests(namespace, kind, refs, { ...this.settings, clickhouse: await this.clickhouseCredentials(namespace), ...(marketing ? { defaultConsentCategory: MARKETING } : {}) });
    const rbac = kind === 'activations' ? activationsWorkerRbac(namespace, refs) : undefined;
    // Applied only when the desired objects changed or the Deployment was edited or deleted by hand.
    const hash = hashOf(JSON.stringify([m, rbac]));
    const key = `${namespace}/${kind}`;
    const memo = this.workers.get(key);
    const current = this.caches.deployments.get(m.deployment.metadata!.name!, namespace);
    if (memo && current && memo.hash === hash && memo.generation === current.metadata?.generation) return;
    if (rbac) {
      await this.applier.apply(rbac.account);
      await this.applier.apply(rbac.role);
      await this.applier.apply(rbac.binding);
    }
    await this.applier.apply(m.secret);
    if (m.engineSecret) await this.applier.apply(m.engineSecret);
    const applied = await this.applier.apply(m.deployment);
    if (m.disruptionBudget) await this.applier.apply(m.disruptionBudget);
    this.workers.set(key, { hash, generation: applied.metadata?.generation });
  }

  async addFinalizer(obj: UspaObject, finalizer: string): Promise<void> {
    const list = obj.metadata.finalizers;
    if (list?.includes(finalizer)) return;
    await this.custom.patchNamespacedCustomObject({
      ...this.address(obj),
      body: list?.length ? [{ op: 'add', path: '/metadata/finalizers/-', value: finalizer }] : [{ op: 'add', path: '/metadata/finalizers', value: [finalizer] }],
    });
  }

  async removeFinalizer(obj: UspaObject, finalizer: string): Promise<void> {
    const i = obj.metadata.finalizers?.indexOf(finalizer) ?? -1;
    if (i < 0) return;
    try {
      await this.custom.patchNamespacedCustomObject({
        ...this.address(obj),
        body: [
          { op: 'test', path: `/metadata/finalizers/${i}`, value: finalizer },
          { op: 'remove', path: `/metadata/finalizers/${i}` },
        ],
      });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
  }

  private address(obj: UspaObject) {
    return { group: GROUP, version: VERSION, namespace: obj.metadata.namespace!, plural: PLURALS[obj.kind], name: obj.metadata.name! };
  }

  async close(): Promise<void> {
    for (const { warehouse } of this.warehouses.values()) await warehouse.close();
  }
}

export function isDeleting(obj: KubernetesObject): boolean {
  return Boolean(obj.metadata?.deletionTimestamp);
}

export { API_VERSION };
