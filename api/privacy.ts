// Privacy requests: the erasure modes and the receipt an erasure leaves behind. The receipt is
// what a privacy officer keeps as evidence: for each store, which identities it covered, the rows
// found before and after, the statement used and when; signed, so `uspa privacy verify` can
// re-count and detect a receipt edited afterwards.

/** As the industry names them (Segment's regulation types): stop collecting, delete, or both. */
export const ERASURE_MODES = ['suppress', 'delete', 'suppress_with_delete'] as const;
export type ErasureMode = (typeof ERASURE_MODES)[number];

/** How a column holds a person: an identity string (`email:ada@example.com`), an array of them, a profile id, or free text (a JSON payload) that may carry a raw identifier. */
export type PersonColumnKind = 'identity' | 'identities' | 'profile' | 'raw' | 'text';

export interface StoreReceipt {
  table: string;
  /** The columns the rows were matched on. */
  columns: string[];
  before: number;
  after: number;
  /** The statement that removed the rows, parameters listed rather than inlined. */
  statement: string;
  at: string;
  /** Set when the store was left as it is on purpose, and why (e.g. the API's audit log). */
  kept?: string;
}

export interface ErasureReceipt {
  version: 1;
  id: string;
  namespace: string;
  database: string;
  mode: ErasureMode;
  /** The identity the request named. */
  requested: string;
  /** Every identity of the person's graph, resolved before anything was removed. */
  identities: string[];
  profileIds: string[];
  stores: StoreReceipt[];
  /** Kafka keeps records until retention drops them: by when each topic will have. */
  topics: { topic: string; retainedUntil: string }[];
  /** Running campaign workflows of the person that were cancelled (they would have sent later). */
  campaignsCancelled?: number;
  /** Each Activation destination told of the erasure (event Person Erased), and how that went. */
  destinations?: { activation: string; destination: string; outcome: string; detail?: string }[];
  completedAt: string;
  /** HMAC-SHA256 (hex) over the receipt's canonical JSON without this field. */
  signature: string;
}

/** One file of an access export. */
export interface ExportFile {
  /** Path inside the archive: stores/<table>.ndjson, person.json, manifest.json, README.md. */
  file: string;
  /** The ClickHouse table it holds the person's rows of (stores/ files only). */
  table?: string;
  /** What the file is, for the person reading it. */
  description: string;
  rows: number;
  bytes: number;
  /** SHA-256 (hex) of the file's content. */
  sha256: string;
}

/** What an access request produced: the files waiting to be downloaded once, until expiresAt. */
export interface AccessExport {
  version: 1;
  id: string;
  namespace: string;
  database: string;
  /** The identity the request named. */
  requested: string;
  identities: string[];
  profileIds: string[];
  files: ExportFile[];
  bytes: number;
  createdAt: string;
  expiresAt: string;
}
