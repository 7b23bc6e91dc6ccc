// The ClickHouse schema of a namespace's database, as numbered migrations. Each runs once
// (recorded in schema_migrations) and each statement is idempotent on its own, so a crash halfway
// through is repaired by running again. A new table (or column: ADD COLUMN IF NOT EXISTS) is a new
// migration appended here; a released migration is never edited.
import { ACTIVATION_DELIVERY_TABLES, ACTIVATION_TABLES } from './activations.ts';
import { AUDIT_TABLES } from './audit.ts';
import { DEAD_LETTER_REPLAY_TABLES, EVENT_TABLES, PIPELINE_STATE_TABLES } from './events.ts';
import { MODEL_TABLES } from './models.ts';
import { CATALOG_TABLES, PROFILE_INTEREST_COLUMNS } from './personalization.ts';
import { CONSENT_TABLES, PRIVACY_TABLES } from './privacy.ts';
import { REALTIME_TABLES, SEGMENT_DEFINITION_GENERATION, SEGMENT_TABLES } from './segments.ts';

export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'event log, identity graph, profiles, dead letters', statements: EVENT_TABLES },
  { version: 2, name: 'dead-letter replays', statements: DEAD_LETTER_REPLAY_TABLES },
  { version: 3, name: 'pipeline state (profile builder watermark)', statements: PIPELINE_STATE_TABLES },
  { version: 4, name: 'segment versions and members, activation deliveries', statements: [...SEGMENT_TABLES, ...ACTIVATION_DELIVERY_TABLES] },
  { version: 5, name: 'realtime segments: definitions and live membership', statements: REALTIME_TABLES },
  { version: 6, name: 'model versions, personas, recommendations', statements: MODEL_TABLES },
  { version: 7, name: 'activation conversions and audience syncs', statements: ACTIVATION_TABLES },
  { version: 8, name: 'segment definitions carry their Segment generation', statements: SEGMENT_DEFINITION_GENERATION },
  { version: 9, name: 'API audit log', statements: AUDIT_TABLES },
  { version: 10, name: 'privacy access exports', statements: PRIVACY_TABLES },
  { version: 11, name: 'consent history', statements: CONSENT_TABLES },
  { version: 12, name: 'product catalog, profile interests', statements: [...CATALOG_TABLES, ...PROFILE_INTEREST_COLUMNS] },
];

/** Every table of a namespace's database, by name, in creation order (schema_migrations aside). */
export const TABLES: readonly string[] = MIGRATIONS.flatMap((m) => m.statements.filter((s) => !s.startsWith('ALTER TABLE')).map(tableOf));

function tableOf(statement: string): string {
  const name = /CREATE TABLE IF NOT EXISTS \{db\}\.(\w+)/.exec(statement)?.[1];
  if (!name) throw new Error(`not a CREATE TABLE IF NOT EXISTS {db}.<table> statement: ${statement.slice(0, 80)}`);
  return name;
}
