// POST /v1/decisions: what a visitor sees in one or several placements, decided in memory
// (gateway/decisions/engine.ts). A browser's decisions key decides by the visitor's own anonymousId
// only, and reads nothing else: no profile, no identity, no trait outside what templates render.
import { EXPOSURE_EVENT } from '../../api/v1alpha1/personalization.ts';
import type { CanonicalEvent } from '../../api/event.ts';
import type { GatewayContext } from '../context.ts';
import type { Exposure } from '../decisions/engine.ts';
import { ApiError } from '../http/errors.ts';
import { operation, type Operation } from '../http/operation.ts';
import { identityTypes, parseIdentity } from '../profiles/identity.ts';

export const MAX_PLACEMENTS = 10;
const PLACEMENT = { type: 'string', minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' } as const;

/** The exposure as the event the pipeline stores (it joins the visitor's profile by its identity). */
export function exposureEvent(e: Exposure, source: string, now: Date): CanonicalEvent {
  const colon = e.identity.indexOf(':');
  const type = e.identity.slice(0, colon);
  const value = e.identity.slice(colon + 1);
  const at = now.toISOString();
  return {
    type: 'track',
    event: EXPOSURE_EVENT,
    messageId: `exposure-${e.decisionId}-${e.placement}`,
    timestamp: at,
    receivedAt: at,
    source,
    ...(type === 'userId' ? { userId: value } : type === 'anonymousId' ? { anonymousId: value } : {}),
    properties: { placement: e.placement, variant: e.arm, decision_id: e.decisionId, reason: e.reason, generation: e.generation },
    traits: {},
    context: { library: { name: 'uspa-api' }, ...(type !== 'userId' && type !== 'anonymousId' ? { traits: { [type]: value } } : {}) },
    integrations: {},
  };
}

/** The Source exposures go through: the first one a Pipeline reads. */
export function exposureSource(ctx: GatewayContext): string | undefined {
  return ctx.config.pipelines.flatMap((p) => p.sources)[0];
}

export function decisionOperations(ctx: GatewayContext): Operation[] {
  const decide = operation<Record<string, never>, Record<string, never>, { identity: string; placements: string[]; context?: { page?: Record<string, unknown>; item?: string } }>({
    id: 'decide',
    method: 'post',
    path: '/v1/decisions',
    summary: 'What a visitor sees in one or several placements',
    description:
      'For each placement (a Personalization resource), the variant chosen for the visitor and its rendered content, or `fallback: true` with the reason (holdout, no match, no consent, budget, render failed, unknown placement, invalid placement, suspended): the page keeps its own content, or shows `content` when the fallback template gives one. An unknown visitor is not an error: it gets what a visitor with no profile gets. Each decision is recorded as a `Personalization Exposed` event of the visitor, from which the lift in the resource\'s status is computed. Keys of role decisions (browsers) may decide by `anonymousId:` only.',
    tag: 'decisions',
    permission: 'decisions:decide',
    body: {
      type: 'object',
      additionalProperties: false,
      required: ['identity', 'placements'],
      properties: {
        identity: { type: 'string', minLength: 1, maxLength: 1100, description: 'The visitor, "type:value": anonymousId:… from a browser; any identity from a server.' },
        placements: { type: 'array', minItems: 1, maxItems: MAX_PLACEMENTS, uniqueItems: true, items: PLACEMENT },
        context: {
          type: 'object',
          additionalProperties: false,
          properties: {
            page: { type: 'object', maxProperties: 16, additionalProperties: { type: 'string', maxLength: 2048 }, description: 'Where the visitor is (path, url, referrer, title).' },
            item: { type: 'string', minLength: 1, maxLength: 512, description: 'The item the page shows: recommendations are of items like it.' },
          },
        },
      },
    },
    responses: {
      200: {
        description: 'The decision.',
        schema: {
          type: 'object',
          additionalProperties: false,
          required: ['decisionId', 'personalized', 'placements'],
          properties: {
            decisionId: { type: 'string' },
            personalized: { type: 'boolean', description: 'False when nothing about the visitor was used (no personalization consent, or the budget ran out before the profile was found).' },
            placements: {
              type: 'object',
              additionalProperties: {
                type: 'object',
                additionalProperties: false,
                required: ['variant', 'content', 'fallback', 'reason'],
                properties: {
                  variant: { type: ['string', 'null'], description: 'The variant, "(holdout)" for the control group, null for other fallbacks.' },
                  content: { type: ['string', 'null'], description: 'The rendered HTML or text; null when the page keeps its own.' },
                  fallback: { type: 'boolean' },
                  reason: { type: 'string' },
                },
              },
            },
          },
        },
      },
    },
    async handler({ body, caller }) {
      const { identity, type } = parseIdentity(body.identity, identityTypes(ctx.config), 'body.identity');
      if (caller.role === 'decisions' && type !== 'anonymousId') {
        throw new ApiError(403, 'forbidden', `a key of role decisions (ApiKey ${caller.key}) is public in a page: it decides by the visitor's own anonymousId only, not by ${type}`, 'body.identity');
      }
      return { body: await ctx.decisions.decide({ identity, placements: body.placements, context: body.context }) };
    },
  });
  return [decide];
}
