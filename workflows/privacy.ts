// erasePerson: resolve the person's identity graph once (the result is in the workflow history, so
// a retry or a restarted worker erases the same identities), put every identity on the suppression
// list and wait until collectors and pipelines follow it, delete from every store the schema scan
// finds (and sweep them again a little later, for events accepted just before the suppression), tell the Pipelines to forget the identities they hold in memory, cancel the person's
// campaigns waiting to send, sign the receipt. Each
// activity counts before it acts, so running it again after a crash changes nothing.
import { proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { StoreReceipt, ErasureReceipt } from '../api/privacy.ts';
import type { Implements } from '../api/workflows/contract.ts';
import { erasureProgressQuery, type ErasePersonInput, type ErasureProgress, type PrivacyWorkflows } from '../api/workflows/privacy.ts';
import type { PrivacyActivities } from '../workers/privacy/activities.ts';

/** Collectors and pipelines follow the privacy topic within about a second; this leaves margin for a busy broker. */
export const SUPPRESSION_SETTLE = '10 seconds';
/**
 * Events accepted just before the suppression can still be in a pipeline's batch, or wait behind the
 * DELETE itself for ClickHouse, and land after it: the stores are swept again this much later.
 */
export const SWEEP_AFTER = '30 seconds';

const { resolveErasure, suppressIdentities, listStores, eraseStore, cancelCampaigns, forgetInPipelines, signErasure } = proxyActivities<PrivacyActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '2 minutes',
  // A table nobody declared (UndecidedTable) needs a person to decide: retrying cannot help.
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 30, nonRetryableErrorTypes: ['UndecidedTable', 'InvalidErasureInput'] },
});

export async function erasePerson(input: ErasePersonInput): Promise<ErasureReceipt> {
  const progress: ErasureProgress = { step: 'resolving', identities: 0, storesDone: 0, stores: 0 };
  setHandler(erasureProgressQuery, () => progress);
  const person = await resolveErasure({ database: input.database, identity: input.identity });
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
  progress.step = 'signing';
  const receipt = await signErasure({ requestId: input.requestId, namespace: input.namespace, database: input.database, mode: input.mode, requested: input.identity, person, stores, campaignsCancelled });
  progress.step = 'done';
  return receipt;
}

export type Contract = Implements<PrivacyWorkflows, typeof import('./privacy.ts')>;
