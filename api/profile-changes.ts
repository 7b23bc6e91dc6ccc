// The records of a namespace's profile-changes topic (topicNames(prefix).profileChanges), keyed by
// profile id: published by the pipeline after each profile rebuild has reached ClickHouse, and read
// by every API process to keep its profile cache fresh. At least once, and partitioned by profile
// id, so the changes of one profile arrive in order; readers treat a record as "evict or refresh".

export interface ProfileChangeRecord {
  profileId: string;
  /** The profile's identities after the rebuild ("type:value"); empty when deleted. */
  identities: string[];
  /** True when the profile was folded into another (a merge) or emptied (an unmerge). */
  deleted: boolean;
  /** The rebuilt row's updated_at (when its rebuild round began), ISO 8601. */
  updatedAt: string;
}

/** A profile-changes record, checked; the problem (with the field) when it is not one. */
export function parseProfileChange(value: unknown): { change?: ProfileChangeRecord; problem?: string } {
  const v = value as Partial<ProfileChangeRecord> | null;
  if (!v || typeof v !== 'object' || Array.isArray(v)) return { problem: 'not a JSON object' };
  if (typeof v.profileId !== 'string' || !v.profileId) return { problem: 'profileId: must be a non-empty string' };
  if (!Array.isArray(v.identities) || !v.identities.every((i) => typeof i === 'string' && i.includes(':'))) return { problem: 'identities: must be an array of "type:value" strings' };
  if (typeof v.deleted !== 'boolean') return { problem: 'deleted: must be a boolean' };
  if (typeof v.updatedAt !== 'string' || Number.isNaN(Date.parse(v.updatedAt))) return { problem: 'updatedAt: must be an ISO 8601 time' };
  return { change: { profileId: v.profileId, identities: v.identities, deleted: v.deleted, updatedAt: v.updatedAt } };
}
