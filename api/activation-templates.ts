// What an Activation's templates can read: the variables the activations worker puts in the
// render context (workers/activations/render.ts, messages.ts, audience-syncs.ts), by trigger and
// destination. The operator checks every variable a template uses against it when the Activation
// is applied, so a misspelt variable is a condition, not an empty string in a sent message.
import type { DestinationType, TriggerType } from './v1alpha1/activation.ts';

/** Anything below (traits, event properties); an object with these fields; a list of such items. */
export type Shape = 'any' | { [field: string]: Shape } | [Shape];

const fields = (...names: string[]): Shape => Object.fromEntries(names.map((n) => [n, 'any' as Shape]));
const PROFILE = fields('id', 'firstSeen', 'lastSeen', 'lifetimeRevenue', 'orderCount', 'eventCount');
const EVENT: Shape = { ...(fields('name', 'messageId', 'timestamp') as Record<string, Shape>), properties: 'any' };
const ACTIVATION = fields('name', 'namespace', 'variant');
const RECOMMENDATIONS: Shape = [fields('item', 'score')];

/** The variables of one template: the person's message, or (audience syncs to a webhook) a page of people. */
export function templateContext(trigger: TriggerType, destination: DestinationType): Record<string, Shape> {
  if (trigger === 'schedule') {
    const segment = fields('name', 'version', 'baseVersion', 'mode', 'change');
    // A webhook gets one POST per page of people; the other destinations one message per person.
    if (destination === 'webhook') return { segment, members: [{ id: 'any', traits: 'any', variant: 'any' }], activation: ACTIVATION };
    return { traits: 'any', profile: PROFILE, segment, recommendations: RECOMMENDATIONS, activation: ACTIVATION };
  }
  if (trigger === 'event') return { traits: 'any', profile: PROFILE, event: EVENT, events: [EVENT], recommendations: RECOMMENDATIONS, activation: ACTIVATION };
  return { traits: 'any', profile: PROFILE, segment: fields('name', 'version', 'change'), recommendations: RECOMMENDATIONS, activation: ACTIVATION };
}

/** A variable as liquid's static analysis gives it: names, list indexes, and nested variables for [dynamic] keys. */
export type VariablePath = ReadonlyArray<string | number | unknown[]>;

function spelled(path: VariablePath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : Array.isArray(p) ? `[${spelled(p as VariablePath)}]` : i === 0 ? p : `.${p}`)).join('');
}

/**
 * Why the variable is not in the context (naming it and what is there instead), or undefined
 * when it is. `size`, `first` and `last` are liquid's own; a [dynamic] key is not judged.
 */
export function unknownVariable(path: VariablePath, context: Record<string, Shape>): string | undefined {
  let shape: Shape = context;
  for (let i = 0; i < path.length; i++) {
    const part = path[i]!;
    if (shape === 'any' || part === 'size') return undefined;
    if (Array.isArray(shape)) {
      if (typeof part === 'number' || part === 'first' || part === 'last' || Array.isArray(part)) {
        shape = shape[0];
        continue;
      }
      return `unknown variable ${spelled(path)}: ${spelled(path.slice(0, i))} is a list (use [0], first, last or size)`;
    }
    if (Array.isArray(part)) return undefined;
    const known = Object.keys(shape);
    if (typeof part === 'number' || !Object.hasOwn(shape, part)) {
      return i === 0 ? `unknown variable ${spelled(path)} (known: ${known.join(', ')})` : `unknown variable ${spelled(path)} (${spelled(path.slice(0, i))} has ${known.join(', ')})`;
    }
    shape = shape[part]!;
  }
  return undefined;
}
