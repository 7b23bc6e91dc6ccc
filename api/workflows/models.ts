// The workflows of task queue uspa-models.<namespace>: model retraining, one run of a Pipeline's
// daily schedule each (the operator creates the schedules, the models worker runs them).

export interface RetrainPersonasInput {
  /** The USPA (Kubernetes) namespace the model belongs to. */
  namespace: string;
  /** Its ClickHouse database. */
  database: string;
  /** A fixed number of personas; else chosen by silhouette within kRange. */
  k?: number;
  /** Default [2, 8]. */
  kRange?: [number, number];
  /** k-means++ seed; default 1. */
  seed?: number;
  /** kmeans (default) or dbscan (niche groups; noise profiles get the persona "noise"). */
  algorithm?: 'kmeans' | 'dbscan';
  /** dbscan: neighbourhood radius in standardized feature units; default 1. */
  eps?: number;
  /** dbscan: neighbours (itself included) that make a profile a core point; default 10. */
  minPoints?: number;
  /** Configuration revision the run is started with (the operator's schedule revision); recorded with the version. */
  revision?: string;
  /** Idempotency key of this run; default the workflow id. */
  run?: string;
}

export interface TraitTotals {
  profiles: number;
  traitsWritten: number;
  profilesUpdated: number;
  profilesDeferred: number;
}

export interface PersonasOutcome {
  version: number;
  run: string;
  /** false: this run had already trained the version; nothing was trained again. */
  trained: boolean;
  k: number;
  silhouette: number;
  n: number;
  personas: Array<{ persona: string; size: number }>;
  traits: TraitTotals;
}

/** Nothing trained: too little data, or another run of the model is training the database. */
export interface Skipped {
  skipped: string;
  run: string;
}

export type RetrainPersonasResult = PersonasOutcome | Skipped;

export interface RetrainRecommendationsInput {
  namespace: string;
  database: string;
  /** Recommendations kept per item and per profile; default 10. */
  topN?: number;
  revision?: string;
  run?: string;
}

export interface RecommendationsOutcome {
  version: number;
  run: string;
  trained: boolean;
  quality: Record<string, unknown>;
}

export type RetrainRecommendationsResult = RecommendationsOutcome | Skipped;

/** The task queue's workflows by the names Temporal knows them by (their exports in workflows/models.ts). */
export interface ModelsWorkflows {
  retrainPersonas: (input: RetrainPersonasInput) => Promise<RetrainPersonasResult>;
  retrainRecommendations: (input: RetrainRecommendationsInput) => Promise<RetrainRecommendationsResult>;
}

export const RETRAIN_PERSONAS = 'retrainPersonas' satisfies keyof ModelsWorkflows;
export const RETRAIN_RECOMMENDATIONS = 'retrainRecommendations' satisfies keyof ModelsWorkflows;
