// Personalization: the Activation's Liquid templates rendered per person. Variables:
//   traits           the profile's traits (the person's, resolved at send time)
//   profile          { id, firstSeen, lastSeen, lifetimeRevenue, orderCount, eventCount }
//   event            the triggering event { name, messageId, timestamp, properties } (event triggers)
//   events           every trigger event of the campaign, oldest first (e.g. each product added)
//   segment          { name, version, change } (segment triggers)
//   recommendations  items recommended for the profile, best first: [{ item, score }] from the
//                    newest recommendations model (recommendations.ts), [] when none
//   activation       { name, namespace, variant }
// Templates are parsed once and cached; rendering is bounded in time and memory, and prototype
// properties are out of reach (ownPropertyOnly), so a template cannot hang or probe the worker.
// Rendering is strict: a variable that is not there (a trait this person lacks) fails the message
// with its name instead of sending an empty string; `| default: …` and `{% if %}` accept a missing
// value. The operator checks variables against api/activation-templates.ts when it is applied.
import { Liquid, type Template } from 'liquidjs';
import type { ActivationSpec } from '../../api/v1alpha1/activation.ts';

export interface RenderContext {
  traits: Record<string, unknown>;
  profile: Record<string, unknown>;
  event?: Record<string, unknown>;
  events?: Array<Record<string, unknown>>;
  segment?: Record<string, unknown>;
  recommendations: unknown[];
  activation: { name: string; namespace: string; variant: string };
}

export interface RenderedMessage {
  body: string;
  /** email only */
  subject?: string;
  /** email only: the recipient address, rendered */
  to?: string;
}

/** A template that does not parse or render; `where` names the field of the Activation. */
export class TemplateError extends Error {
  constructor(
    readonly where: string,
    cause: string,
  ) {
    super(`${where}: ${cause}`);
    this.name = 'TemplateError';
  }
}

const LIMITS = { strictFilters: true, ownPropertyOnly: true, renderLimit: 2_000, memoryLimit: 32 * 1024 * 1024, parseLimit: 1024 * 1024 };
const liquid = new Liquid({ ...LIMITS, strictVariables: true, lenientIf: true });
// The recipient alone renders a missing variable as "": a person without an address is suppressed, not failed.
const lenient = new Liquid(LIMITS);
const parsed = new Map<string, Template[]>();
const MAX_CACHED = 1_000;

function parse(text: string, where: string): Template[] {
  let t = parsed.get(text);
  if (!t) {
    try {
      t = liquid.parse(text);
    } catch (err) {
      throw new TemplateError(where, firstLine(err));
    }
    if (parsed.size >= MAX_CACHED) parsed.delete(parsed.keys().next().value!);
    parsed.set(text, t);
  }
  return t;
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!;
}

export async function renderTemplate(text: string, where: string, context: RenderContext, missing: 'fail' | 'empty' = 'fail'): Promise<string> {
  const templates = parse(text, where);
  try {
    return String(await (missing === 'fail' ? liquid : lenient).render(templates, context));
  } catch (err) {
    throw new TemplateError(where, firstLine(err));
  }
}

/** The body template of the person's variant (falling back to spec.template), and where it is. */
export function bodyTemplate(spec: ActivationSpec, variant: string): { text: string | undefined; where: string } {
  const i = (spec.variants ?? []).findIndex((v) => v.name === variant);
  const v = i >= 0 ? spec.variants![i]! : undefined;
  if (v?.template?.body !== undefined) return { text: v.template.body, where: `spec.variants[${i}].template.body` };
  return { text: spec.template?.body, where: 'spec.template.body' };
}

/** The template texts of the person's message: body, and subject and recipient for email. */
function messageTemplates(spec: ActivationSpec, variant: string): Array<{ text: string; where: string }> {
  const body = bodyTemplate(spec, variant);
  const email = spec.destination.type === 'email' ? spec.destination.email : undefined;
  return [
    ...(body.text !== undefined ? [{ text: body.text, where: body.where }] : []),
    ...(email ? [{ text: email.subject, where: 'spec.destination.email.subject' }, { text: email.to ?? '{{ traits.email }}', where: 'spec.destination.email.to' }] : []),
  ];
}

/**
 * Whether the person's message reads a template variable (e.g. `recommendations`), so a context
 * part that costs a query is fetched only for templates that use it. A template that does not
 * parse reads nothing: rendering it fails with its own error.
 */
export function messageUses(spec: ActivationSpec, variant: string, variable: keyof RenderContext): boolean {
  return messageTemplates(spec, variant).some(({ text, where }) => {
    try {
      return liquid.globalVariablesSync(parse(text, where)).includes(variable);
    } catch {
      return false;
    }
  });
}

/** Without a template, webhook and Kafka messages carry the context as JSON. */
export function defaultBody(context: RenderContext): string {
  const { activation, profile, traits, event, events, segment } = context;
  return JSON.stringify({ activation: activation.name, namespace: activation.namespace, variant: activation.variant || undefined, profileId: profile.id, traits, event, events: events && events.length > 1 ? events : undefined, segment });
}

/** The message for one person: body (and subject and recipient for email). */
export async function renderMessage(spec: ActivationSpec, variant: string, context: RenderContext): Promise<RenderedMessage> {
  const body = bodyTemplate(spec, variant);
  if (spec.destination.type === 'email') {
    const email = spec.destination.email;
    if (!email) throw new TemplateError('spec.destination.email', 'is required when destination.type is email');
    if (body.text === undefined) throw new TemplateError(body.where, 'an email needs a body template');
    const [text, subject, to] = await Promise.all([
      renderTemplate(body.text, body.where, context),
      renderTemplate(email.subject, 'spec.destination.email.subject', context),
      renderTemplate(email.to ?? '{{ traits.email }}', 'spec.destination.email.to', context, 'empty'),
    ]);
    return { body: text, subject: subject.replace(/[\r\n]+/g, ' ').trim(), to: to.trim() };
  }
  if (body.text === undefined) return { body: defaultBody(context) };
  return { body: await renderTemplate(body.text, body.where, context) };
}
