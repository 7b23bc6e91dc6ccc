// An Activation's messages: the template context of a person (with their recommendations), the
// rendered message (bounded, with an address for email), and the send to the destination. Shared
// by campaigns (one person) and audience syncs (a page of people).
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Activation } from '../../api/v1alpha1/activation.ts';
import { type WebhookAddressPolicy, kafkaTopicProblem } from '../../api/activation-destinations.ts';
import type { Trigger } from '../../api/workflows/activations.ts';
import type { OutgoingRecord } from '../../lib/kafka.ts';
import type { Logger } from '../../lib/log.ts';
import type { SecretLookup } from './cluster.ts';
import { type Delivery, type Mailer, kafkaRecord, sendEmail, sendKafka, sendWebhook } from './destinations.ts';
import type { Person } from './reads.ts';
import { type RenderContext, type RenderedMessage, TemplateError, renderMessage, renderTemplate } from './render.ts';

/** Items recommended for a profile (the models worker's recommendations); [] without a source. */
export type Recommender = (input: { database: string; profileId: string; activation: string }) => Promise<unknown[]>;

export interface MessagesDeps {
  namespace: string;
  secrets: SecretLookup;
  /** Producer for Kafka destinations (acks=all). */
  producer: { send(records: OutgoingRecord[]): Promise<void> };
  mailer: Mailer;
  /** Which private addresses webhooks and SMTP servers may reach (USPA_WEBHOOK_PRIVATE_ADDRESSES). */
  webhookAddresses: WebhookAddressPolicy;
  /** Every Kafka destination must start with it (the namespace's topics.activationOutputs). */
  kafkaOutputs: string;
  log: Logger;
  recommendations?: Recommender;
}

const MAX_MESSAGE_BYTES = 1024 * 1024;
const EMAIL = /^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$|<[^@\s<>]+@[^@\s<>]+>\s*$/;

const templateFailure = (message: string) => ApplicationFailure.create({ type: 'TemplateError', message, nonRetryable: true });

export type Messages = ReturnType<typeof createMessages>;

export function createMessages(deps: MessagesDeps) {
  const activationKey = (activation: string) => `${deps.namespace}/${activation}`;

  return {
    /** The template variables of one person (see render.ts). */
    context(a: Activation, variant: string, person: Person, trigger: Trigger | undefined, triggers: Trigger[], recommendations: unknown[]): RenderContext {
      const eventOf = (t: Trigger) => (t.event ? { name: t.event.name, messageId: t.messageId, timestamp: t.at, properties: t.event.properties } : undefined);
      const events = triggers.map(eventOf).filter((e) => e !== undefined);
      return {
        traits: person.traits,
        profile: person.profile,
        event: trigger ? eventOf(trigger) : undefined,
        events,
        segment: trigger?.segment,
        recommendations,
        activation: { name: a.metadata.name!, namespace: deps.namespace, variant },
      };
    },

    /** The profile's recommendations; a failing source renders without them rather than not at all. */
    async recommendationsFor(database: string, profileId: string, activation: string): Promise<unknown[]> {
      if (!deps.recommendations) return [];
      try {
        return await deps.recommendations({ database, profileId, activation });
      } catch (err) {
        deps.log.warn({ activation: activationKey(activation), err: (err as Error).message }, 'recommendations unavailable; rendering without them');
        return [];
      }
    },

    /** The person's message; an email without an address is a suppression, not a failure. */
    async render(a: Activation, variant: string, context: RenderContext): Promise<RenderedMessage | { suppress: string }> {
      let message: RenderedMessage;
      try {
        message = await renderMessage(a.spec, variant, context);
      } catch (err) {
        if (err instanceof TemplateError) throw templateFailure(err.message);
        throw err;
      }
      if (Buffer.byteLength(message.body) > MAX_MESSAGE_BYTES) throw templateFailure(`the rendered message is larger than ${MAX_MESSAGE_BYTES} bytes`);
      if (a.spec.destination.type === 'email' && !EMAIL.test(message.to ?? '')) return { suppress: 'no email address (spec.destination.email.to rendered to no address)' };
      return message;
    },

    /** One template over a whole page of people (an audience page is one webhook POST). */
    async renderPage(text: string, context: RenderContext): Promise<string> {
      try {
        return await renderTemplate(text, 'spec.template.body', context);
      } catch (err) {
        throw err instanceof TemplateError ? templateFailure(err.message) : err;
      }
    },

    /** Sends one or more deliveries to the Activation's destination; throws ApplicationFailures. */
    async send(a: Activation, deliveries: Delivery[], where: string): Promise<void> {
      const dest = a.spec.destination;
      const attempt = deliveries[0]?.attempt ?? 1;
      const secret = async (ref: { name: string; key?: string }, defaultKey: string, field: string) => {
        try {
          return await deps.secrets.value(ref, defaultKey, field);
        } catch (err) {
          throw ApplicationFailure.create({ type: 'SecretNotUsable', message: (err as Error).message, details: [{ attempt }] });
        }
      };
      const missing = (field: string) => ApplicationFailure.create({ type: 'InvalidDestination', message: `${where}: spec.destination.${field} is required when destination.type is ${field}`, nonRetryable: true });
      if (dest.type === 'webhook') {
        if (!dest.webhook) throw missing('webhook');
        const signingSecret = dest.webhook.signingSecretRef ? await secret(dest.webhook.signingSecretRef, 'signingSecret', 'spec.destination.webhook.signingSecretRef') : undefined;
        const headers: Record<string, string> = {};
        for (const [i, h] of (dest.webhook.secretHeaders ?? []).entries()) headers[h.name] = await secret(h.valueFrom.secretKeyRef, h.valueFrom.secretKeyRef.key, `spec.destination.webhook.secretHeaders[${i}].valueFrom.secretKeyRef`);
        for (const d of deliveries) await sendWebhook(dest.webhook, { signingSecret, headers }, d, { addresses: deps.webhookAddresses });
      } else if (dest.type === 'kafka') {
        if (!dest.kafka) throw missing('kafka');
        // Checked again here: the operator may not have seen the latest edit yet.
        const outside = kafkaTopicProblem(dest.kafka.topic, deps.kafkaOutputs);
        if (outside) throw ApplicationFailure.create({ type: 'InvalidDestination', message: `${where}: ${outside}`, nonRetryable: true });
        await sendKafka(deps.producer, deliveries.map((d) => kafkaRecord(dest.kafka!.topic, d)), attempt);
      } else {
        if (!dest.email) throw missing('email');
        const url = await secret(dest.email.smtpSecretRef, 'url', 'spec.destination.email.smtpSecretRef');
        for (const d of deliveries) await sendEmail(deps.mailer, url, dest.email.from, d);
      }
    },
  };
}

/** Runs fn while heartbeating: a worker that dies mid-send is noticed after heartbeatTimeout. */
export async function heartbeating<T>(fn: () => Promise<T>): Promise<T> {
  const ctx = Context.current();
  const timer = setInterval(() => ctx.heartbeat(), 1_000);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}
