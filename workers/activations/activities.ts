// The activations worker's activities (workflows/activations.ts), built by createActivities(deps)
// so tests hand in real engines or stubs: campaign sends (campaigns.ts), audience syncs
// (audience-syncs.ts), conversion attribution (conversions.ts) and telling destinations of an
// erasure (erasures.ts) over shared reads, the delivery
// ledger and message rendering and sending (context.ts).
import { audienceSyncActivities } from './audience-syncs.ts';
import { campaignActivities } from './campaigns.ts';
import { type ActivationsDeps, createContext } from './context.ts';
import { conversionActivities } from './conversions.ts';
import { erasureActivities } from './erasures.ts';

export function createActivities(deps: ActivationsDeps) {
  const context = createContext(deps);
  return { ...campaignActivities(context), ...audienceSyncActivities(context), ...conversionActivities(context), ...erasureActivities(context) };
}

export type Activities = ReturnType<typeof createActivities>;
