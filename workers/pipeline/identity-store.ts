// The identity graph of one Pipeline, kept in memory and persisted in ClickHouse: loaded at start
// (and again after a failed write), appended to by batches and unmerges.
import type { Warehouse } from '../../lib/clickhouse.ts';
import { chTime } from '../../lib/clickhouse.ts';
import type { Logger } from '../../lib/log.ts';
import { IdentityGraph, type Assignment, type Edge, type IdentityConfig } from './identity.ts';

/** An identity_edges row as loadGraph selects it. */
export type StoredEdge = Omit<Edge, 'reason' | 'undoes' | 'merge'> & { reason: string; undoes: string; mergeFrom: string; mergeInto: string };

export class IdentityStore {
  private current: IdentityGraph;

  constructor(
    private readonly warehouse: Warehouse,
    private readonly config: IdentityConfig,
    private readonly log: Logger,
  ) {
    this.current = new IdentityGraph(config);
  }

  /** The graph as of the last load plus what was observed since; replaced by load(). */
  get graph(): IdentityGraph {
    return this.current;
  }

  /** Starts again from what ClickHouse holds. */
  async load(): Promise<void> {
    const assignments = await this.warehouse.query<{ identity: string; profileId: string; firstSeen: string }>(
      'SELECT identity, argMax(profile_id, version) AS profileId, argMax(first_seen, version) AS firstSeen FROM {db}.identities GROUP BY identity',
    );
    const edges = await this.warehouse.query<StoredEdge>(
      `SELECT id, a, b, action, rule, message_id AS messageId, event_time AS eventTime, reason, undoes, merge_from AS mergeFrom, merge_into AS mergeInto
       FROM {db}.identity_edges FINAL WHERE action IN ('link', 'refused', 'unlink') ORDER BY event_time, id`,
    );
    this.current = new IdentityGraph(this.config);
    this.current.load(
      assignments.map((a) => ({ ...a, firstSeen: isoOf(a.firstSeen) })),
      edges.map(edgeOfRow),
    );
    this.log.info({ identities: assignments.length, edges: edges.length }, 'identity graph loaded');
  }

  async insertEdges(edges: Edge[]): Promise<void> {
    await this.warehouse.insert('identity_edges', edges.map(edgeRow));
  }

  /** Assignments written together share a version: the newest version is an identity's profile. */
  async insertAssignments(assignments: Assignment[], version = Date.now()): Promise<void> {
    await this.warehouse.insert('identities', assignments.map((a) => assignmentRow(a, version)));
  }
}

/** ClickHouse DateTime64 text ("2024-01-01 00:00:00.000") → ISO 8601 UTC. */
export function isoOf(chDate: string): string {
  return chDate.includes('T') ? chDate : chDate.replace(' ', 'T') + 'Z';
}

/** A stored edge → the graph's edge: empty columns are absent fields. */
export function edgeOfRow({ mergeFrom, mergeInto, ...e }: StoredEdge): Edge {
  return {
    ...e,
    eventTime: isoOf(e.eventTime),
    reason: e.reason || undefined,
    undoes: e.undoes || undefined,
    ...(mergeFrom ? { merge: { from: mergeFrom, into: mergeInto } } : {}),
  };
}

export function edgeRow(e: Edge) {
  return {
    id: e.id, a: e.a, b: e.b, action: e.action, rule: e.rule, message_id: e.messageId, event_time: chTime(e.eventTime),
    reason: e.reason ?? '', undoes: e.undoes ?? '', merge_from: e.merge?.from ?? '', merge_into: e.merge?.into ?? '',
  };
}

export function assignmentRow(a: Assignment, version: number) {
  return { identity: a.identity, profile_id: a.profileId, first_seen: chTime(a.firstSeen), version };
}
