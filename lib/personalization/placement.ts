// One Personalization resource compiled for the request path: rules as predicates, templates parsed
// once, and the choice of a variant for a visitor — deterministic by a hash of the visitor's
// identity and the placement, so the same visitor sees the same arm with no state stored.
import { createHash } from 'node:crypto';
import { Liquid, type Template } from 'liquidjs';
import { HOLDOUT_ARM, PERSONALIZATION_DEFAULTS, type Personalization, type PersonalizationRecommendations, type PersonalizationStrategy } from '../../api/v1alpha1/personalization.ts';
import { parseRule } from '../segments/rules.ts';
import { compilePredicate, decisionRuleErrors, type DecisionProfile, type Predicate } from './predicate.ts';

/** What a template may read. */
export const TEMPLATE_VARIABLES = ['traits', 'interests', 'segments', 'persona', 'recommendations', 'placement', 'variant', 'visitor'] as const;

export interface CompiledVariant {
  name: string;
  weight: number;
  matches: Predicate;
  template: Template[];
}

export interface CompiledPlacement {
  name: string;
  generation: number;
  strategy: PersonalizationStrategy;
  holdoutPercent: number;
  budgetMs: number;
  suspended: boolean;
  variants: CompiledVariant[];
  fallback: Template[];
  recommendations: PersonalizationRecommendations & { count: number };
}

/** Milliseconds one template may render for. */
export const RENDER_LIMIT_MS = 50;

/** include, render and layout read no file of the API's machine: a template is all there is. */
const NO_FILES = {
  exists: async () => false,
  existsSync: () => false,
  readFile: async (file: string): Promise<string> => {
    throw new Error(`templates cannot read files (${file})`);
  },
  readFileSync: (file: string): string => {
    throw new Error(`templates cannot read files (${file})`);
  },
  resolve: (_dir: string, file: string) => file,
};

// Values are HTML-escaped: traits are the visitor's own input and content lands in a page.
export const liquid = new Liquid({ outputEscape: 'escape', strictFilters: true, ownPropertyOnly: true, fs: NO_FILES, root: [], partials: [], layouts: [], relativeReference: false,
  // A hostile or careless template cannot hold the request path: it fails (the fallback is given).
  renderLimit: RENDER_LIMIT_MS, memoryLimit: 4_000_000, parseLimit: 100_000 });

function parseTemplate(text: string, where: string, problems: string[]): Template[] {
  try {
    const template = liquid.parse(text);
    for (const path of liquid.globalVariableSegmentsSync(template)) {
      const root = String(path[0]);
      if (!(TEMPLATE_VARIABLES as readonly string[]).includes(root)) problems.push(`${where}: unknown variable "${root}" (a template can use ${TEMPLATE_VARIABLES.join(', ')})`);
    }
    return template;
  } catch (err) {
    problems.push(`${where}: ${(err as Error).message.split('\n')[0]}`);
    return [];
  }
}

/** The placement, or every problem with its field path. */
export function compilePlacement(resource: Personalization): { placement?: CompiledPlacement; problems: string[] } {
  const spec = resource.spec;
  const problems: string[] = [];
  const variants: CompiledVariant[] = [];
  const names = new Set<string>();
  (spec.variants ?? []).forEach((v, i) => {
    const where = `spec.variants[${i}]`;
    if (names.has(v.name)) problems.push(`${where}.name: "${v.name}" is used by an earlier variant`);
    names.add(v.name);
    let matches: Predicate = () => true;
    if (v.rule !== undefined) {
      const errors = decisionRuleErrors(v.rule, `${where}.rule`);
      if (errors.length) problems.push(...errors.map((e) => `${e.path}: ${e.message}`));
      else matches = compilePredicate(parseRule(v.rule));
    }
    variants.push({ name: v.name, weight: v.weight ?? 1, matches, template: parseTemplate(v.content, `${where}.content`, problems) });
  });
  if (variants.length === 0) problems.push('spec.variants: at least one variant is needed');
  const fallback = parseTemplate(spec.fallback?.content ?? '', 'spec.fallback.content', problems);
  if (problems.length) return { problems };
  return {
    problems,
    placement: {
      name: resource.metadata.name!,
      generation: resource.metadata.generation ?? 0,
      strategy: spec.strategy ?? PERSONALIZATION_DEFAULTS.strategy,
      holdoutPercent: spec.holdoutPercent ?? PERSONALIZATION_DEFAULTS.holdoutPercent,
      budgetMs: spec.budgetMs ?? PERSONALIZATION_DEFAULTS.budgetMs,
      suspended: Boolean(spec.suspend),
      variants,
      fallback,
      recommendations: { ...spec.recommendations, count: spec.recommendations?.count ?? 0 },
    },
  };
}

/** A visitor's position in [0, 1) for one purpose of one placement: uniform, the same every time. */
export function bucketOf(purpose: string, placement: string, identity: string): number {
  const digest = createHash('sha256').update(`${purpose}\u0000${placement}\u0000${identity}`).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

export type DecisionReason = 'matched' | 'holdout' | 'no match' | 'no consent' | 'suspended';

export interface Choice {
  /** The variant, or null for the fallback. */
  variant: CompiledVariant | null;
  /** The arm exposures are counted under: the variant's name, (holdout), or (fallback). */
  arm: string;
  reason: DecisionReason;
}

export const FALLBACK_ARM = '(fallback)';

/** Which variant a visitor gets; `consented` false: the fallback, before anything about them is looked at. */
export function choose(placement: CompiledPlacement, profile: DecisionProfile, identity: string, consented: boolean): Choice {
  if (placement.suspended) return { variant: null, arm: FALLBACK_ARM, reason: 'suspended' };
  if (!consented) return { variant: null, arm: FALLBACK_ARM, reason: 'no consent' };
  if (placement.holdoutPercent > 0 && bucketOf('holdout', placement.name, identity) * 100 < placement.holdoutPercent) return { variant: null, arm: HOLDOUT_ARM, reason: 'holdout' };
  if (placement.strategy === 'firstMatch') {
    const v = placement.variants.find((x) => x.matches(profile));
    return v ? { variant: v, arm: v.name, reason: 'matched' } : { variant: null, arm: FALLBACK_ARM, reason: 'no match' };
  }
  const eligible = placement.variants.filter((x) => x.weight > 0 && x.matches(profile));
  const total = eligible.reduce((n, x) => n + x.weight, 0);
  if (total === 0) return { variant: null, arm: FALLBACK_ARM, reason: 'no match' };
  let point = bucketOf('split', placement.name, identity) * total;
  for (const v of eligible) {
    point -= v.weight;
    if (point < 0) return { variant: v, arm: v.name, reason: 'matched' };
  }
  const last = eligible.at(-1)!;
  return { variant: last, arm: last.name, reason: 'matched' };
}

/** Renders synchronously (no tag of ours does I/O); throws what the template's error says. */
export function render(template: Template[], variables: Record<string, unknown>): string {
  return liquid.renderSync(template, variables) as string;
}
