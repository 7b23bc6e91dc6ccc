// A profile as the API serves it (before redaction by role).
import type { Json } from '../../api/event.ts';

export interface ProfileTrait {
  value: Json;
  /** When the value was set: the event time of the event that set it. */
  setAt: string;
  /** The Source whose event set it. */
  source: string;
  messageId: string;
}

export interface ProfileDocument {
  profileId: string;
  /** "type:value", highest priority first, e.g. userId:u-1, email:ada@example.com. */
  identities: string[];
  traits: Record<string, ProfileTrait>;
  computed: {
    firstSeen: string;
    lastSeen: string;
    eventCount: number;
    eventCounts: Record<string, number>;
    lifetimeRevenue: number;
    orderCount: number;
    lastOrderAt: string | null;
    rfm: { recency: number; frequency: number; monetary: number };
  };
  /** Interest key → recency-weighted share of the person's interactions, 0–1 (lib/personalization/interests.ts). */
  interests: Record<string, number>;
  persona: { label: string; cluster: number; modelVersion: number } | null;
  /** Current memberships (batch versions and realtime live state), with since when. */
  segments: Array<{ segment: string; since: string }>;
  /** Consent categories the person granted (true) or refused (false), from their traits. */
  consent: Record<string, boolean>;
  /** When the pipeline last rebuilt the profile. */
  updatedAt: string;
}
