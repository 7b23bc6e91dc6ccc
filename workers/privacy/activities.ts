// Activities of erasePerson. Each reads the current state before it acts: a resolved person is the
// same however often it is resolved until something is deleted, a suppression record is keyed by
// the identity's hash (writing it twice keeps one), a store is counted before its DELETE, and the
// forget command only makes a Pipeline reload what ClickHouse holds.
import { ApplicationFailure } from '@temporalio/activity';
import type { Admin } from 'kafkajs';
import type { ForgetCommand } from '../../api/control.ts';
import { campaignWorkflowPrefix } from '../../api/workflows/activations.ts';
import type { TopicNames } from '../../api/names.ts';
import type { AccessExport, ErasureMode, ErasureReceipt, ExportFile, StoreReceipt } from '../../api/privacy.ts';
import { IDENTITY_PATTERN } from '../../api/v1alpha1/privacyrequest.ts';
import type { Warehouse } from '../../lib/clickhouse.ts';
import type { OutgoingRecord } from '../../lib/kafka.ts';
import type { Logger } from '../../lib/log.ts';
import { eraseStore as eraseOneStore, resolvePerson, storesOf } from '../../lib/privacy/erase.ts';
import { exportStore as exportOneStore, finishExport, NOT_EXPORTED } from '../../lib/privacy/export.ts';
import { signReceipt } from '../../lib/privacy/receipt.ts';
import type { PersonTable, PersonValues } from '../../lib/privacy/schema.ts';
import { suppressionRecord } from '../../lib/privacy/suppressions.ts';
import { topicRetention } from './retention.ts';

export interface PrivacyDeps {
  warehouse: (database: string) => Warehouse;
  /** Sends with acks=all. */
  send: (records: OutgoingRecord[]) => Promise<void>;
  /** An admin client, connected: the topics' retention for the receipt. */
  admin: () => Promise<Admin>;
  topics: TopicNames;
  /** The namespace's receipt signing key (its Secret). */
  signingKey: string | Buffer;
  log: Logger;
  /** Running campaign workflows of the namespace, by id (the person's identity ends each id). */
  campaigns: { running(idPrefix: string): AsyncIterable<string>; cancel(workflowId: string): Promise<void> };
}

export type PrivacyActivities = ReturnType<typeof createActivities>;

const IDENTITY = new RegExp(IDENTITY_PATTERN, 's');

export function createActivities(deps: PrivacyDeps) {
  return {
    async resolveRequestPerson(input: { database: string; identity: string }): Promise<PersonValues> {
      if (!IDENTITY.test(input.identity)) {
        throw ApplicationFailure.create({ type: 'InvalidPrivacyInput', nonRetryable: true, message: `identity: ${JSON.stringify(input.identity.slice(0, 80))} is not "<type>:<value>" (e.g. email:ada@example.com, userId:u-1)` });
      }
      return resolvePerson(deps.warehouse(input.database), input.identity);
    },

    async suppressIdentities(input: { identities: string[]; requestId: string }): Promise<number> {
      await deps.send(input.identities.map((i) => suppressionRecord(deps.topics, i, input.requestId)));
      deps.log.info({ requestId: input.requestId, identities: input.identities.length }, 'identities suppressed');
      return input.identities.length;
    },

    /** Every store that can hold a person; for an access export, those an export reads (not pending exports). */
    async listStores(input: { database: string; purpose?: 'erasure' | 'access' }): Promise<PersonTable[]> {
      try {
        const stores = await storesOf(deps.warehouse(input.database));
        return input.purpose === 'access' ? stores.filter((s) => !NOT_EXPORTED.includes(s.table)) : stores;
      } catch (err) {
        const message = (err as Error).message;
        if (message.includes('TABLES_WITHOUT_PEOPLE')) throw ApplicationFailure.create({ type: 'UndecidedTable', nonRetryable: true, message });
        throw err;
      }
    },

    async eraseStore(input: { database: string; table: PersonTable; person: PersonValues; mode: ErasureMode }): Promise<StoreReceipt> {
      const receipt = await eraseOneStore(deps.warehouse(input.database), input.table, input.person, input.mode);
      deps.log.info({ table: receipt.table, before: receipt.before, after: receipt.after, kept: Boolean(receipt.kept) }, 'store erased');
      return receipt;
    },

    async exportStore(input: { database: string; table: PersonTable; person: PersonValues; requestId: string; expiresAt: string }): Promise<ExportFile> {
      const file = await exportOneStore(deps.warehouse(input.database), input.table, input.person, input.requestId, input.expiresAt);
      deps.log.info({ table: input.table.table, rows: file.rows, bytes: file.bytes }, 'store exported');
      return file;
    },

    async finishExport(input: { summary: Omit<AccessExport, 'files' | 'bytes'>; stores: ExportFile[] }): Promise<AccessExport> {
      return finishExport(deps.warehouse(input.summary.database), input.summary, input.stores);
    },

    /** Cancels the person's campaigns waiting to send (campaign-<namespace>-<activation>-<identity>). */
    async cancelCampaigns(input: { namespace: string; identities: string[] }): Promise<number> {
      const prefix = campaignWorkflowPrefix(input.namespace);
      let cancelled = 0;
      for await (const id of deps.campaigns.running(prefix)) {
        if (!input.identities.some((i) => id.endsWith(`-${i}`))) continue;
        await deps.campaigns.cancel(id);
        cancelled++;
      }
      if (cancelled) deps.log.info({ cancelled }, 'campaigns of the erased person cancelled');
      return cancelled;
    },

    async forgetInPipelines(input: { pipelines: string[]; requestId: string }): Promise<void> {
      const command: ForgetCommand = { kind: 'forget', requestId: input.requestId, requestedAt: new Date().toISOString() };
      await deps.send(input.pipelines.map((p) => ({ topic: deps.topics.control(p), key: input.requestId, value: JSON.stringify(command) })));
    },

    async signErasure(input: { requestId: string; namespace: string; database: string; mode: ErasureMode; requested: string; person: PersonValues; stores: StoreReceipt[]; campaignsCancelled?: number; destinations?: ErasureReceipt['destinations'] }): Promise<ErasureReceipt> {
      const admin = await deps.admin();
      const completedAt = new Date();
      let topics: ErasureReceipt['topics'];
      try {
        topics = await topicRetention(admin, deps.topics, completedAt);
      } finally {
        await admin.disconnect();
      }
      return signReceipt(
        { version: 1, id: input.requestId, namespace: input.namespace, database: input.database, mode: input.mode, requested: input.requested, identities: input.person.identities, profileIds: input.person.profiles, stores: input.stores, topics, campaignsCancelled: input.campaignsCancelled ?? 0, ...(input.destinations ? { destinations: input.destinations } : {}), completedAt: completedAt.toISOString() },
        deps.signingKey,
      );
    },
  };
}
