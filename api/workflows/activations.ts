// The workflows of task queue uspa-activations.<namespace>: triggered campaigns (started by the
// trigger consumer), audience syncs (started by the Activation's schedule) and the namespace's
// conversion attribution loop (started by the activations worker).
import { defineSignal } from '@temporalio/workflow';
import type { JsonObject } from '../event.ts';

// ── campaign ──────────────────────────────────────────────────────────────────────────────────

/** One trigger of a campaign: an event, or a segment entered or left. */
export interface Trigger {
  /** The delivery's idempotency key: derived from the Activation and the trigger's message id. */
  key: string;
  messageId: string;
  /** When it happened, ISO 8601. */
  at: string;
  kind: 'event' | 'segmentEntered' | 'segmentExited';
  event?: { name: string; properties: JsonObject; timezone?: string; consent?: JsonObject };
  segment?: { name: string; version: number; change: 'entered' | 'exited' };
}

/** The follow-up event of trigger.unless, sent by the consumer to the person's running campaign. */
export interface UnlessSignal {
  messageId: string;
  event: string;
  at: string;
}

export interface CampaignInput {
  namespace: string;
  activation: string;
  /** "userId:u-1" or "anonymousId:a-1" (event triggers), "profile:<id>" (segment triggers). */
  person: string;
  /** Identities to resolve the profile through at send time, best first. */
  identities: string[];
  /** Known for segment triggers. */
  profileId?: string;
  delayMs: number;
  unless?: { event: string; withinMs: number };
  /** Carried over by continue-as-new. */
  triggers?: Trigger[];
  seen?: string[];
  waitUntil?: number;
}

export type CampaignOutcome = 'sent' | 'failed' | 'suppressed' | 'holdout' | 'cancelled' | 'stopped';

export interface CampaignResult {
  outcome: CampaignOutcome;
  key: string;
  reason?: string;
  variant?: string;
}

/** A trigger for the person's campaign (signal-with-start delivers the first with the start). */
export const triggerSignal = defineSignal<[Trigger]>('trigger');
/** The `unless` event happened: the waiting campaign ends without sending. */
export const unlessSignal = defineSignal<[UnlessSignal]>('unless');

/** One campaign per Activation and person: a second trigger joins the running one. */
export function campaignWorkflowId(namespace: string, activation: string, person: string): string {
  return `${campaignWorkflowPrefix(namespace)}${activation}-${person}`;
}

/** What the ids of every campaign of a namespace start with. */
export function campaignWorkflowPrefix(namespace: string): string {
  return `campaign-${namespace}-`;
}

// ── syncAudience ──────────────────────────────────────────────────────────────────────────────

/** What one audience sync sends, decided once at its start. */
export interface SyncPlan {
  namespace: string;
  activation: string;
  database: string;
  segment: string;
  version: number;
  /** The version the diff is computed against; 0 for a full list. */
  base: number;
  mode: 'full' | 'diff';
  /** Part of every key of this sync: the same diff (or this run's full list) is never sent twice. */
  syncId: string;
  revision: string;
}

export interface SyncCursor {
  phase: 'members' | 'entered' | 'exited';
  /** Profile ids are walked in order: the last one done. */
  after: string;
}

export interface SyncTotals {
  sent: number;
  suppressed: number;
  chunks: number;
}

export interface SyncAudienceInput {
  namespace: string;
  activation: string;
  database: string;
  segment: string;
  sync: 'full' | 'diff';
  revision?: string;
  /** Carried over by continue-as-new. */
  progress?: { plan: SyncPlan; cursor: SyncCursor; totals: SyncTotals };
}

export interface SyncAudienceResult {
  skipped?: string;
  version?: number;
  base?: number;
  mode?: 'full' | 'diff';
  totals?: SyncTotals;
}

// ── conversions ───────────────────────────────────────────────────────────────────────────────

export interface ConversionsInput {
  namespace: string;
  database: string;
  intervalMs: number;
}

/** The namespace's one conversion attribution loop. */
export function conversionsWorkflowId(namespace: string): string {
  return `conversions-${namespace}`;
}

// ── the task queue ────────────────────────────────────────────────────────────────────────────

/** The task queue's workflows by the names Temporal knows them by (their exports in workflows/activations.ts). */
export interface ActivationsWorkflows {
  campaign: (input: CampaignInput) => Promise<CampaignResult>;
  syncAudience: (input: SyncAudienceInput) => Promise<SyncAudienceResult>;
  conversions: (input: ConversionsInput) => Promise<void>;
}

export const CAMPAIGN = 'campaign' satisfies keyof ActivationsWorkflows;
export const SYNC_AUDIENCE = 'syncAudience' satisfies keyof ActivationsWorkflows;
export const CONVERSIONS = 'conversions' satisfies keyof ActivationsWorkflows;
