// The workflows of task queue uspa-privacy.<namespace>: a privacy request per run. The workflow id
// is the request's (privacy-<namespace>-<request id>), so the same request started twice runs once.
import { defineQuery } from '@temporalio/workflow';
import type { AccessExport, ErasureMode, ErasureReceipt } from '../privacy.ts';

export interface ErasePersonInput {
  /** Names the request in the receipt, the suppression records and the workflow id. */
  requestId: string;
  namespace: string;
  database: string;
  /** Any identity of the person, "<type>:<value>" (e.g. email:ada@example.com). */
  identity: string;
  mode: ErasureMode;
  /** The Pipelines of the namespace: each is told to forget the erased identities it holds in memory. */
  pipelines: string[];
  /** Who asked (an ApiKey name, a user), for the receipt's reader; never checked here. */
  requestedBy?: string;
  /** Activations of the namespace with a webhook or Kafka destination: each is told the person was erased. */
  destinations?: string[];
}

export type ErasureStep = 'resolving' | 'suppressing' | 'waiting for suppression' | 'erasing' | 'sweeping' | 'telling destinations' | 'signing' | 'done';

export interface ErasureProgress {
  step: ErasureStep;
  identities: number;
  storesDone: number;
  stores: number;
}

export const erasureProgressQuery = defineQuery<ErasureProgress>('erasureProgress');

export function privacyWorkflowId(namespace: string, requestId: string): string {
  return `privacy-${namespace}-${requestId}`;
}

export interface PrivacyWorkflows {
  erasePerson(input: ErasePersonInput): Promise<ErasureReceipt>;
  exportPerson(input: ExportPersonInput): Promise<AccessExport>;
}

export interface ExportPersonInput {
  requestId: string;
  namespace: string;
  database: string;
  /** Any identity of the person, "<type>:<value>". */
  identity: string;
  /** How long the export waits to be downloaded (once) before it is dropped. */
  expiresInHours: number;
}

export type AccessStep = 'resolving' | 'exporting' | 'writing the manifest' | 'done';

export interface AccessProgress {
  step: AccessStep;
  identities: number;
  storesDone: number;
  stores: number;
}

export const accessProgressQuery = defineQuery<AccessProgress>('accessProgress');

/** The event destinations are told an erasure with: a track named as Segment's deletion tooling would. */
export const PERSON_ERASED = 'Person Erased';

export interface AnnounceErasureInput {
  requestId: string;
  /** Activations (names) whose webhook or Kafka destination is told. */
  activations: string[];
  identities: string[];
  profileIds: string[];
  erasedAt: string;
}

/** What each destination was told. Email destinations are not: they hold an address, not a copy of the data. */
export interface ErasureAnnouncement {
  activation: string;
  destination: 'webhook' | 'kafka' | 'email' | 'none';
  outcome: 'sent' | 'failed' | 'skipped';
  detail?: string;
}

/** Runs on the namespace's activations worker, which holds the destinations' configuration and Secrets. */
export interface ErasureAnnouncementActivities {
  announceErasure(input: AnnounceErasureInput): Promise<ErasureAnnouncement[]>;
}
