// How routes read profiles: through this interface, so the cache and ClickHouse are interchangeable.
import type { ProfileDocument } from './document.ts';

export interface ProfileStore {
  /** The profile id an identity ("email:ada@example.com") belongs to now; undefined when unknown. */
  resolve(identity: string): Promise<string | undefined>;
  /** The whole profile (unredacted: callers redact by role); undefined when none or deleted. */
  load(profileId: string): Promise<ProfileDocument | undefined>;
}
