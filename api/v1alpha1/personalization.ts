// Personalization: what one placement of a page or app (home-hero, pdp-recs) shows each visitor,
// decided by the API in milliseconds — variants targeted by rules of the Segment rule language,
// content rendered from a liquid template, A/B weights, a holdout group, and a fallback.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import {
  type API_VERSION,
  type CommonSpec,
  type CommonStatus,
  array,
  customResourceDefinition,
  dateTime,
  DNS1123_LABEL,
  duration,
  enumOf,
  freeformObject,
  int32,
  int64,
  number,
  object,
  required,
  specSchema,
  statusSchema,
  string,
} from './meta.ts';

/**
 * firstMatch: the first variant whose rule matches (Apache Unomi's matching-first);
 * split: among the variants whose rule matches, one by weight, sticky per visitor (an A/B test).
 */
export const PERSONALIZATION_STRATEGIES = ['firstMatch', 'split'] as const;
export type PersonalizationStrategy = (typeof PERSONALIZATION_STRATEGIES)[number];

export interface PersonalizationVariant {
  /** DNS-1123 label, unique in the resource: the name exposures and lift are counted under. */
  name: string;
  /** Segment rule language (lib/segments/rules.ts); no rule: everyone. */
  rule?: Record<string, unknown>;
  /** Liquid template: traits, interests, segments, persona, recommendations, placement, variant. */
  content: string;
  /** split only: relative share among the matching variants. Default 1. */
  weight?: number;
}

export interface ItemRule {
  tag?: string;
  category?: string;
  /** boost: > 1 raises, bury: < 1 lowers. */
  factor: number;
}

export interface PersonalizationRecommendations {
  /** Items given to the template as `recommendations`. Default 0 (none computed). */
  count?: number;
  boost?: ItemRule[];
  bury?: ItemRule[];
  pin?: Array<{ item: string; position: number }>;
  excludeTags?: string[];
}

export interface PersonalizationConversion {
  /** The event that counts as a conversion after an exposure. Default Order Completed. */
  event?: string;
  /** How long after the exposure. Default 7d. */
  within?: string;
}

export interface PersonalizationSpec extends CommonSpec {
  description?: string;
  strategy?: PersonalizationStrategy;
  variants: PersonalizationVariant[];
  /** What visitors in the holdout, matching no variant, without consent or past the budget get. */
  fallback: { content: string };
  /** Percent of visitors (by a hash of their identity and this placement) always given the fallback: the control group. */
  holdoutPercent?: number;
  recommendations?: PersonalizationRecommendations;
  conversion?: PersonalizationConversion;
  /** Milliseconds the API may spend deciding this placement before it answers with the fallback. Default 50. */
  budgetMs?: number;
}

/** One arm's exposures and conversions: a variant, or (holdout). */
export interface PersonalizationArm {
  arm: string;
  exposed: number;
  converted: number;
  rate: number;
  /** rate / holdout rate − 1, when the holdout converted at all. */
  lift?: number;
  /** 95% interval of the lift (Wald interval of the log rate ratio). */
  liftLow?: number;
  liftHigh?: number;
}

export interface PersonalizationStatus extends CommonStatus {
  variants?: number;
  /** Per arm, visitors exposed and converted (each visitor counted once per arm). */
  lift?: PersonalizationArm[];
  liftComputedAt?: string;
}

export interface Personalization {
  apiVersion: typeof API_VERSION;
  kind: 'Personalization';
  metadata: V1ObjectMeta;
  spec: PersonalizationSpec;
  status?: PersonalizationStatus;
}

export const PERSONALIZATION_DEFAULTS = {
  strategy: 'firstMatch',
  holdoutPercent: 0,
  budgetMs: 50,
  conversion: { event: 'Order Completed', within: '7d' },
  recommendations: { count: 0 },
} as const;
export const MAX_VARIANTS = 20;
export const MAX_TEMPLATE_LENGTH = 16_384;
/** The arm name of the holdout group in exposures and status.lift. */
export const HOLDOUT_ARM = '(holdout)';
/** The exposure event the API records for every decision it makes. */
export const EXPOSURE_EVENT = 'Personalization Exposed';

const template = (description: string) => string(description, { minLength: 1, maxLength: MAX_TEMPLATE_LENGTH });

const itemRule = object<ItemRule>(
  'Items with this tag or category (one of them) get their score multiplied by factor.',
  {
    tag: string('An item tag.', { minLength: 1, maxLength: 128 }),
    category: string('A level of the item category path, e.g. Running.', { minLength: 1, maxLength: 128 }),
    factor: required(number('Score multiplier: above 1 boosts, below 1 buries.', { minimum: 0, maximum: 100 })),
  },
  { validations: [{ rule: 'has(self.tag) != has(self.category)', message: 'set either tag or category' }] },
);

const personalizationSpec = specSchema<PersonalizationSpec>('Desired state of the placement.', {
  description: string('What this placement is for. Not used by USPA.', { maxLength: 1024 }),
  strategy: enumOf(
    'firstMatch: the first variant (in order) whose rule matches the visitor; split: one of the matching variants by weight, the same one for a visitor every time (an A/B test).',
    PERSONALIZATION_STRATEGIES,
    { default: PERSONALIZATION_DEFAULTS.strategy },
  ),
  variants: required(
    array(
      'The variants, in order.',
      object<PersonalizationVariant>('One thing the placement can show.', {
        name: required(string('Unique in this resource; exposures and lift are counted under it.', { minLength: 1, maxLength: 63, pattern: DNS1123_LABEL })),
        rule: freeformObject('Who sees it, in the Segment rule language (trait, profile, interest, segment, event counts without a time window). Absent: everyone.'),
        content: required(template('Liquid template of the content (HTML or text). Variables: traits, interests, segments, persona, recommendations (items with id, title, url, image, price, score), placement, variant. Values are HTML-escaped.')),
        weight: int32('split only: relative share among the matching variants.', { minimum: 0, maximum: 10000, default: 1 }),
      }),
      { minItems: 1, maxItems: MAX_VARIANTS, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
    ),
  ),
  fallback: required(
    object<{ content: string }>('What visitors get when no variant applies: the holdout group, no match, no personalization consent, a template that failed, the budget spent.', {
      content: required(string('Liquid template of the fallback (usually the page\'s own default content); may be empty.', { maxLength: MAX_TEMPLATE_LENGTH })),
    }),
  ),
  holdoutPercent: number('Percent of visitors always given the fallback, as the control group lift is measured against (0 to 50).', { minimum: 0, maximum: 50, default: PERSONALIZATION_DEFAULTS.holdoutPercent }),
  recommendations: object<PersonalizationRecommendations>('Recommended items given to the templates: co-occurrence blended with interests against the catalog, popularity for cold visitors; unavailable and bought items are left out.', {
    count: int32('How many items. 0: none.', { minimum: 0, maximum: 50, default: 0 }),
    boost: array('Rules raising items.', itemRule, { maxItems: 20 }),
    bury: array('Rules lowering items.', itemRule, { maxItems: 20 }),
    pin: array('Items forced at a position (1 = first).', object<{ item: string; position: number }>('A pinned item.', {
      item: required(string('The item id.', { minLength: 1, maxLength: 512 })),
      position: required(int32('1 = first.', { minimum: 1, maximum: 50 })),
    }), { maxItems: 10 }),
    excludeTags: array('Items with any of these tags are never given.', string('A tag.', { minLength: 1, maxLength: 128 }), { maxItems: 20 }),
  }),
  conversion: object<PersonalizationConversion>('What counts as a conversion for the lift in status.', {
    event: string('The event (default Order Completed).', { minLength: 1, maxLength: 255 }),
    within: duration('After the exposure (default 7d).'),
  }),
  budgetMs: int32('Milliseconds the API may spend on this placement before answering with the fallback.', { minimum: 1, maximum: 1000, default: PERSONALIZATION_DEFAULTS.budgetMs }),
});

const arm = object<PersonalizationArm>('One arm of the placement.', {
  arm: required(string('A variant name, or (holdout).')),
  exposed: required(int64('Visitors exposed.', { minimum: 0 })),
  converted: required(int64('Of them, converted within the window.', { minimum: 0 })),
  rate: required(number('converted / exposed.')),
  lift: number('rate / holdout rate − 1.'),
  liftLow: number('Low end of the 95% interval of the lift.'),
  liftHigh: number('High end of the 95% interval of the lift.'),
});

const personalizationStatus = statusSchema<PersonalizationStatus>('Observed state of the placement, written by the operator.', {
  variants: int32('Variants the API decides among.', { minimum: 0 }),
  lift: array('Per arm, exposures, conversions and lift against the holdout.', arm, { maxItems: MAX_VARIANTS + 2 }),
  liftComputedAt: dateTime('When lift was last computed.'),
});

export const personalizationCrd = customResourceDefinition({
  kind: 'Personalization',
  plural: 'personalizations',
  singular: 'personalization',
  shortNames: ['pzn'],
  description:
    'A Personalization is one placement of a page or app (its name, e.g. home-hero): which variant each visitor sees, decided by the API at the moment of interaction from their traits, interests, Segments and recommendations, with A/B weights, a holdout group and a fallback; its status shows the lift of each variant against the holdout.',
  spec: personalizationSpec,
  status: personalizationStatus,
  printerColumns: [
    { name: 'Strategy', type: 'string', jsonPath: '.spec.strategy', description: 'firstMatch or split.' },
    { name: 'Variants', type: 'integer', jsonPath: '.status.variants', description: 'Variants decided among.' },
    { name: 'Holdout', type: 'number', jsonPath: '.spec.holdoutPercent', description: 'Percent held out.', priority: 1 },
  ],
});
