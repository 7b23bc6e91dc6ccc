// The pipeline worker's Prometheus metrics, labelled by Pipeline.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type PipelineMetrics = ReturnType<typeof pipelineMetrics>;

export function pipelineMetrics(registry: Registry, pipeline: string) {
  const labels = { pipeline };
  return {
    pipeline,
    events: new Counter({ name: 'uspa_pipeline_events_written_total', help: 'Events written to ClickHouse', labelNames: ['pipeline'], registers: [registry] }).labels(labels),
    duplicates: new Counter({ name: 'uspa_pipeline_events_duplicate_total', help: 'Events skipped because their messageId was already stored', labelNames: ['pipeline'], registers: [registry] }).labels(labels),
    consentChanges: new Counter({ name: 'uspa_pipeline_consent_changes_total', help: 'Consent statements recorded in consent_history (a change of a declared purpose\'s state for an identity, or its first sight by this worker)', labelNames: ['pipeline', 'purpose', 'granted'], registers: [registry] }),
    suppressed: new Counter({ name: 'uspa_pipeline_events_suppressed_total', help: 'Events not stored because they carry an erased identity on the suppression list (a replay\'s too)', labelNames: ['pipeline', 'source'], registers: [registry] }),
    catalogUpdates: new Counter({ name: 'uspa_pipeline_catalog_updates_total', help: 'Catalog items written from catalog events (Product Updated …), or refused because the event describes no valid item', labelNames: ['pipeline', 'outcome'], registers: [registry] }),
    dead: new Counter({ name: 'uspa_pipeline_dead_letters_total', help: 'Records sent to the dead-letter topic', labelNames: ['pipeline', 'reason'], registers: [registry] }),
    flush: new Histogram({ name: 'uspa_pipeline_flush_seconds', help: 'Time to write one batch to ClickHouse', labelNames: ['pipeline'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5], registers: [registry] }).labels(labels),
    lag: new Gauge({ name: 'uspa_pipeline_freshness_seconds', help: 'Age of the newest event written, at write time', labelNames: ['pipeline'], registers: [registry] }).labels(labels),
    merges: new Counter({ name: 'uspa_pipeline_identity_edges_total', help: 'Identity edges recorded by action', labelNames: ['pipeline', 'action'], registers: [registry] }),
    backlog: new Gauge({ name: 'uspa_pipeline_profiles_pending', help: 'Profiles whose events are stored but whose profile row is not rebuilt yet', labelNames: ['pipeline'], registers: [registry] }).labels(labels),
    segmentChanges: new Counter({ name: 'uspa_pipeline_segment_changes_total', help: 'Realtime Segment entries and exits published', labelNames: ['pipeline'], registers: [registry] }).labels(labels),
    stalled: new Gauge({ name: 'uspa_pipeline_stalled', help: '1 while writes keep failing and offsets do not move (see the log for the cause)', labelNames: ['pipeline'], registers: [registry] }).labels(labels),
    writeFailures: new Counter({ name: 'uspa_pipeline_write_failures_total', help: 'Batch writes that failed and will be retried as a whole', labelNames: ['pipeline'], registers: [registry] }).labels(labels),
    skipped: new Counter({ name: 'uspa_pipeline_skipped_total', help: 'Records (or realtime Segment definitions) a part of the pipeline could not read or evaluate: skipped, logged with where they are', labelNames: ['pipeline', 'consumer'], registers: [registry] }),
    rebuilt: new Counter({ name: 'uspa_pipeline_profiles_rebuilt_total', help: 'Profile rows rebuilt', labelNames: ['pipeline'], registers: [registry] }).labels(labels),
    profileChanges: new Counter({ name: 'uspa_pipeline_profile_changes_total', help: 'Profile-changes records published (after their rows reached ClickHouse)', labelNames: ['pipeline'], registers: [registry] }).labels(labels),
  };
}
