// erasePerson: resolve the person's identity graph once (the result is in the workflow history, so
// a retry or a restarted worker erases the same identities), put every identity on the suppression
// list and wait until collectors and pipelines follow it, delete from every store the schema scan
// finds (and sweep them again a little later, for events accepted just before the suppression), tell the Pipelines to forget the identities they hold in memory, cancel the person's
// campaigns waiting to send, tell the Activations' destinations (event Person Erased), sign the receipt. Each
// activity counts before it acts, so running it again after a crash changes nothing.
import { proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { AccessExport, ExportFile, StoreReceipt, ErasureReceipt } from '../api/privacy.ts';
import type { Implements } from '../api/workflows/contract.ts';
import { taskQueue } from '../api/names.ts';
import { accessProgressQuery, erasureProgressQuery, type AccessProgress, type ErasePersonInput, type ErasureAnnouncement, type ErasureAnnouncementActivities, type ErasureProgress, type ExportPersonInput, type PrivacyWorkflows } from '../api/workflows/privacy.ts';
import type { PrivacyActivities } from '../workers/privacy/activities.ts';

/** Collectors and pipelines follow the privacy topic within about a second; this leaves margin for a busy broker. */
export const SUPPRESSION_SETTLE = '10 seconds';
/**
 * Events accepted just before the suppression can still be in a pipeline's batch, or wait behind the
 * DELETE itself for ClickHouse, and land after it: the stores are swept again this much later.
 */
export const SWEEP_AFTER = '30 seconds';

const { resolveRequestPerson, suppressIdentities, listStores, eraseStore, cancelCampaigns, forgetInPipelines, signErasure, exportStore, finishExport } = proxyActivities<PrivacyActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '2 minutes',
  // A table nobody declared (UndecidedTable) needs a person to decide: retrying cannot help.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 30, nonRetryableErrorTypes: ['UndecidedTable', 'InvalidPrivacyInput'] },
});

/**
 * Tells the Activations' destinations (on the activations worker, which holds their Secrets). A
 * worker that does not answer within the hour does not hold the erasure back: the receipt says
 * which destinations were not told.
 */
async function announce(input: ErasePersonInput, identities: string[], profileIds: string[]): Promise<ErasureAnnouncement[]> {
  const { announceErasure } = proxyActivities<ErasureAnnouncementActivities>({
    taskQueue: taskQueue('activations', input.namespace),
    scheduleToCloseTimeout: '1 hour',
    startToCloseTimeout: '5 minutes',
    retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
  });
  try {
    return await announceErasure({ requestId: input.requestId, activations: input.destinations!, identities, profileIds, erasedAt: new Date().toISOString() });
  } catch (err) {
    const detail = `the activations worker did not tell it: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`.slice(0, 300);
    return input.destinations!.map((activation) => ({ activation, destination: 'none' as const, outcome: 'failed' as const, detail }));
  }
}

export async function erasePerson(input: ErasePersonInput): Promise<ErasureReceipt> {
  const progress: ErasureProgress = { step: 'resolving', identities: 0, storesDone: 0, stores: 0 };
  setHandler(erasureProgressQuery, () => progress);
  const person = await resolveRequestPerson({ database: input.database, identity: input.identity });
  progress.identities = person.identities.length;
  if (input.mode !== 'delete') {
    progress.step = 'suppressing';
    await suppressIdentities({ identities: person.identities, requestId: input.requestId });
    progress.step = 'waiting for suppression';
    await sleep(SUPPRESSION_SETTLE);
  }
  progress.step = 'erasing';
  const tables = await listStores({ database: input.database });
  progress.stores = tables.length;
  const stores: StoreReceipt[] = [];
  for (const table of tables) {
    stores.push(await eraseStore({ database: input.database, table, person, mode: input.mode }));
    progress.storesDone = stores.length;
  }
  if (input.mode !== 'suppress') {
    progress.step = 'sweeping';
    await sleep(SWEEP_AFTER);
    for (const [i, table] of tables.entries()) {
      const swept = await eraseStore({ database: input.database, table, person, mode: input.mode });
      // The receipt counts both passes: rows found in all, rows left after the last.
      if (swept.before > 0) stores[i] = { ...swept, before: stores[i]!.before + swept.before };
    }
  }
  if (input.mode !== 'suppress') await forgetInPipelines({ pipelines: input.pipelines, requestId: input.requestId });
  // A campaign waiting to send would reach the person after the erasure.
  const campaignsCancelled = await cancelCampaigns({ namespace: input.namespace, identities: person.identities });
  let destinations: ErasureAnnouncement[] | undefined;
  if (input.mode !== 'suppress' && input.destinations?.length) {
    progress.step = 'telling destinations';
    destinations = await announce(input, person.identities, person.profiles);
  }
  progress.step = 'signing';
  const receipt = await signErasure({ requestId: input.requestId, namespace: input.namespace, database: input.database, mode: input.mode, requested: input.identity, person, stores, campaignsCancelled, destinations });
  progress.step = 'done';
  return receipt;
}

/**
 * exportPerson: resolve the person once, write their rows of every store into the export table
 * (one activity per store, each replacing what an earlier attempt wrote), then the manifest. The
 * expiry is fixed when the workflow starts, so a retry does not extend it.
 */
export async function exportPerson(input: ExportPersonInput): Promise<AccessExport> {
  const progress: AccessProgress = { step: 'resolving', identities: 0, storesDone: 0, stores: 0 };
  setHandler(accessProgressQuery, () => progress);
  const createdAt = new Date(); // deterministic in a workflow: the time of this workflow task
  const expiresAt = new Date(createdAt.getTime() + input.expiresInHours * 3_600_000).toISOString();
  const person = await resolveRequestPerson({ database: input.database, identity: input.identity });
  progress.identities = person.identities.length;
  progress.step = 'exporting';
  const tables = await listStores({ database: input.database, purpose: 'access' });
  progress.stores = tables.length;
  const stores: ExportFile[] = [];
  for (const table of tables) {
    stores.push(await exportStore({ database: input.database, table, person, requestId: input.requestId, expiresAt }));
    progress.storesDone = stores.length;
  }
  progress.step = 'writing the manifest';
  const summary = { version: 1 as const, id: input.requestId, namespace: input.namespace, database: input.database, requested: input.identity, identities: person.identities, profileIds: person.profiles, createdAt: createdAt.toISOString(), expiresAt };
  const result = await finishExport({ summary, stores });
  progress.step = 'done';
  return result;
}

export type Contract = Implements<PrivacyWorkflows, typeof import('./privacy.ts')>;
