// Activation: sends a message per person when something happens (an event, entering or leaving a
// Segment) or syncs a Segment's members on a schedule, to a webhook, a Kafka topic or email.
import type { V1ObjectMeta } from '@kubernetes/client-node';
import {
  type API_VERSION,
  DNS1123_SUBDOMAIN,
  type CommonSpec,
  type CommonStatus,
  type SecretKeyRef,
  anyValue,
  array,
  cron,
  customResourceDefinition,
  dateTime,
  duration,
  enumOf,
  int32,
  int64,
  map,
  nameRef,
  object,
  required,
  secretKeyRef,
  specSchema,
  statusSchema,
  string,
} from './meta.ts';

export const TRIGGER_TYPES = ['event', 'segmentEntered', 'segmentExited', 'schedule'] as const;
export type TriggerType = (typeof TRIGGER_TYPES)[number];
/** Trigger types that act on a Segment's members and so need spec.segment. */
export const SEGMENT_TRIGGER_TYPES = ['segmentEntered', 'segmentExited', 'schedule'] as const satisfies readonly TriggerType[];
export const FILTER_OPERATORS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'contains', 'exists'] as const;
export const SYNC_MODES = ['full', 'diff'] as const;
export const DESTINATION_TYPES = ['webhook', 'kafka', 'email'] as const;
export type DestinationType = (typeof DESTINATION_TYPES)[number];

export interface PropertyFilter {
  property: string;
  op: (typeof FILTER_OPERATORS)[number];
  value?: unknown;
}

export interface TriggerEvent {
  name: string;
  where?: PropertyFilter[];
}

export interface TriggerUnless {
  event: string;
  within: string;
}

export interface TriggerSchedule {
  interval?: string;
  cron?: string;
}

export interface ActivationTrigger {
  type: TriggerType;
  event?: TriggerEvent;
  delay?: string;
  unless?: TriggerUnless;
  schedule?: TriggerSchedule;
  sync?: (typeof SYNC_MODES)[number];
}

/** A header whose value the worker reads from a Secret at send time. */
export interface SecretHeader {
  name: string;
  valueFrom: { secretKeyRef: Required<SecretKeyRef> };
}

export interface WebhookDestination {
  url: string;
  signingSecretRef?: SecretKeyRef;
  headers?: Record<string, string>;
  secretHeaders?: SecretHeader[];
  timeoutSeconds?: number;
}

export interface KafkaDestination {
  topic: string;
}

export interface EmailDestination {
  /** The Secret's key holds an smtp:// or smtps:// URL. */
  smtpSecretRef: SecretKeyRef;
  from: string;
  to?: string;
  subject: string;
}

export interface ActivationDestination {
  type: DestinationType;
  webhook?: WebhookDestination;
  kafka?: KafkaDestination;
  email?: EmailDestination;
}

export interface ActivationTemplate {
  /** Liquid template. */
  body?: string;
}

export interface ActivationVariant {
  name: string;
  weight: number;
  template?: ActivationTemplate;
}

export interface FrequencyCap {
  max: number;
  per: string;
}

export interface QuietHours {
  start: string;
  end: string;
  timeZoneTrait?: string;
  defaultTimeZone?: string;
}

export interface ActivationConsent {
  category: string;
}

export interface ActivationSpec extends CommonSpec {
  segment?: string;
  trigger: ActivationTrigger;
  destination: ActivationDestination;
  template?: ActivationTemplate;
  variants?: ActivationVariant[];
  holdoutPercent?: number;
  frequencyCap?: FrequencyCap;
  quietHours?: QuietHours;
  consent?: ActivationConsent;
}

export interface ActivationStatus extends CommonStatus {
  sent?: number;
  failed?: number;
  /** Not sent because of consent, frequency cap, holdout or a missing address. */
  suppressed?: number;
  lastSentAt?: string;
  /** Temporal schedule id (schedule triggers). */
  schedule?: string;
}

export interface Activation {
  apiVersion: typeof API_VERSION;
  kind: 'Activation';
  metadata: V1ObjectMeta;
  spec: ActivationSpec;
  status?: ActivationStatus;
}

/** Values the API server fills in when a field is omitted (the operator sees them set). */
export const ACTIVATION_DEFAULTS = {
  sync: 'diff',
  webhook: { timeoutSeconds: 10, signingSecretKey: 'signingSecret' },
  email: { to: '{{ traits.email }}', smtpSecretKey: 'url' },
  holdoutPercent: 0,
  quietHours: { timeZoneTrait: 'timezone', defaultTimeZone: 'UTC' },
} as const;

const HH_MM = '^([01][0-9]|2[0-3]):[0-5][0-9]$';

const template = object<ActivationTemplate>('The message, rendered per person.', {
  body: string(
    `Liquid template of the message body (the webhook or Kafka payload, or the email body), e.g. "Hi {{ traits.firstName | default: 'there' }}". Variables include traits and, for event triggers, event. At most 64 KiB.`,
    { maxLength: 65536 },
  ),
});

const trigger = object<ActivationTrigger>(
  'When a message is sent.',
  {
    type: required(
      enumOf(
        'event: each time a person performs trigger.event (only members of spec.segment, when set). segmentEntered / segmentExited: when a person enters or leaves spec.segment. schedule: sync spec.segment\'s members to the destination on trigger.schedule (an audience sync).',
        TRIGGER_TYPES,
      ),
    ),
    event: object<TriggerEvent>('The event that triggers a send. Required when type is event, not allowed otherwise.', {
      name: required(string('Event name, e.g. "Cart Viewed".', { minLength: 1, maxLength: 256 })),
      where: array(
        'Conditions on the event\'s properties, all of which must hold. At most 20.',
        // No CEL rule "value unless exists": CEL cannot see a field of any JSON type; the operator checks it.
        object<PropertyFilter>('One condition on an event property.', {
          property: required(string('Dotted path into the event\'s properties, e.g. "cart.total".', { minLength: 1, maxLength: 256 })),
          op: required(enumOf('Comparison: eq, neq, gt, gte, lt, lte, in (value is a list), contains (substring or list element) or exists (no value).', FILTER_OPERATORS)),
          value: anyValue('Value to compare with: a string, number, boolean, or a list for in. Required unless op is exists (checked by the operator, reported on the Ready condition).'),
        }),
        { maxItems: 20 },
      ),
    }),
    delay: duration('Wait this long after the trigger before sending, e.g. "1h" for an abandoned-cart reminder.'),
    unless: object<TriggerUnless>('Cancel the send if the person performs another event soon after the trigger. Event triggers only.', {
      event: required(string('The cancelling event, e.g. "Order Completed".', { minLength: 1, maxLength: 256 })),
      within: required(duration('How long after the trigger the cancelling event counts; with delay, usually the same.')),
    }),
    schedule: object<TriggerSchedule>(
      'When an audience sync runs. Required when type is schedule, not allowed otherwise. Set exactly one of interval or cron.',
      {
        interval: duration('Time between syncs, e.g. "6h".'),
        cron: cron('Sync on this cron schedule.'),
      },
      { validations: [{ rule: 'has(self.interval) != has(self.cron)', message: 'set exactly one of trigger.schedule.interval or trigger.schedule.cron' }] },
    ),
    sync: enumOf('What an audience sync sends: diff (only who entered and left since the last sync) or full (every member, each time).', SYNC_MODES, { default: ACTIVATION_DEFAULTS.sync }),
  },
  {
    validations: [
      { rule: "self.type != 'event' || has(self.event)", message: 'spec.trigger.event is required when trigger.type is event', fieldPath: '.event', reason: 'FieldValueRequired' },
      { rule: "!has(self.event) || self.type == 'event'", message: 'spec.trigger.event is only allowed when trigger.type is event', fieldPath: '.event', reason: 'FieldValueForbidden' },
      { rule: "self.type != 'schedule' || has(self.schedule)", message: 'spec.trigger.schedule is required when trigger.type is schedule', fieldPath: '.schedule', reason: 'FieldValueRequired' },
      { rule: "!has(self.schedule) || self.type == 'schedule'", message: 'spec.trigger.schedule is only allowed when trigger.type is schedule', fieldPath: '.schedule', reason: 'FieldValueForbidden' },
      { rule: "!has(self.unless) || self.type == 'event'", message: 'spec.trigger.unless is only allowed with event triggers', fieldPath: '.unless', reason: 'FieldValueForbidden' },
    ],
  },
);

const destination = object<ActivationDestination>(
  'Where messages go. Set type and the one matching block (webhook, kafka or email).',
  {
    type: required(enumOf('Kind of destination: webhook (HTTP POST), kafka (a record per message) or email (SMTP).', DESTINATION_TYPES)),
    webhook: object<WebhookDestination>('HTTP POST of each rendered message; failed attempts are retried with backoff.', {
      url: required(
        string(
          'URL to POST to, http:// or https://. Public addresses only: loopback, link-local (e.g. 169.254.169.254), private and reserved ones are refused, here for a literal IP or localhost and at each send for every address the name resolves to, unless the installation allows them (Helm value activations.webhookPrivateAddresses).',
          { maxLength: 2048, pattern: '^https?://' },
        ),
      ),
      signingSecretRef: secretKeyRef(
        'Secret key to sign requests with: each request then carries X-USPA-Signature: sha256=<hex>, an HMAC-SHA256 of the exact body, so the receiver can verify it came from USPA; every request also carries an Idempotency-Key. Unsigned when omitted.',
        ACTIVATION_DEFAULTS.webhook.signingSecretKey,
      ),
      headers: map('Extra HTTP headers with literal values, e.g. X-Team. Values are sent as is and are visible to anyone who can read the Activation: put credentials in secretHeaders. At most 32.', string('Header value.', { maxLength: 4096 }), { maxProperties: 32 }),
      secretHeaders: array(
        'Extra HTTP headers whose values come from Secrets in this namespace, e.g. Authorization: read by the activations worker at each send (a rotated Secret is used within seconds), never logged, never shown in status or Events. At most 16, unique by name, none also in headers.',
        object<SecretHeader>('One header from a Secret.', {
          name: required(string('Header name, e.g. Authorization.', { minLength: 1, maxLength: 256, pattern: "^[-!#$%&'*+.^_`|~0-9A-Za-z]+$" })),
          valueFrom: required(
            object<SecretHeader['valueFrom']>('Where the value comes from.', {
              secretKeyRef: required(
                object<Required<SecretKeyRef>>('The Secret key holding the whole header value, e.g. "Bearer <token>".', {
                  name: required(string('Name of the Secret, in the same namespace as this resource.', { minLength: 1, maxLength: 253, pattern: DNS1123_SUBDOMAIN })),
                  key: required(string("Key within the Secret's data.", { minLength: 1, maxLength: 253, pattern: '^[-._a-zA-Z0-9]+$' })),
                }),
              ),
            }),
          ),
        }),
        { maxItems: 16, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
      ),
      timeoutSeconds: int32('Seconds to wait for a response before the attempt counts as failed.', { minimum: 1, maximum: 60, default: ACTIVATION_DEFAULTS.webhook.timeoutSeconds }),
    }, {
      validations: [
        { rule: '!has(self.headers) || !has(self.secretHeaders) || self.secretHeaders.all(h, !(h.name in self.headers))', message: 'a header is set in both headers and secretHeaders', fieldPath: '.secretHeaders' },
      ],
    }),
    kafka: object<KafkaDestination>('A Kafka record per message, on the Kafka cluster USPA uses.', {
      topic: required(
        string(
          'Topic to write to: one of this namespace\'s output topics, named <topic prefix>.<namespace>.out.<name> (e.g. uspa.shop.out.crm with the chart\'s default topicPrefix uspa), 1 to 249 letters, digits, ".", "_" or "-". USPA reads none of these topics; any other topic is refused (reported on the Ready condition). The topic must exist.',
          { pattern: '^[a-zA-Z0-9._-]{1,249}$' },
        ),
      ),
    }),
    email: object<EmailDestination>('An email per message, through your SMTP server.', {
      smtpSecretRef: required(
        secretKeyRef('Secret key holding the SMTP server as a URL, e.g. smtps://user:password@smtp.example.com:465.', ACTIVATION_DEFAULTS.email.smtpSecretKey),
      ),
      from: required(string('Sender, e.g. "Acme <hello@acme.example>".', { minLength: 3, maxLength: 320 })),
      to: string('Recipient, a Liquid template rendered per person; people without an address are counted as suppressed.', { minLength: 1, maxLength: 320, default: ACTIVATION_DEFAULTS.email.to }),
      subject: required(string('Subject line, a Liquid template, e.g. "Your cart is waiting, {{ traits.firstName }}".', { minLength: 1, maxLength: 998 })),
    }),
  },
  {
    validations: [
      { rule: "self.type != 'webhook' || has(self.webhook)", message: 'spec.destination.webhook is required when destination.type is webhook', fieldPath: '.webhook', reason: 'FieldValueRequired' },
      { rule: "self.type != 'kafka' || has(self.kafka)", message: 'spec.destination.kafka is required when destination.type is kafka', fieldPath: '.kafka', reason: 'FieldValueRequired' },
      { rule: "self.type != 'email' || has(self.email)", message: 'spec.destination.email is required when destination.type is email', fieldPath: '.email', reason: 'FieldValueRequired' },
      {
        rule: "(!has(self.webhook) || self.type == 'webhook') && (!has(self.kafka) || self.type == 'kafka') && (!has(self.email) || self.type == 'email')",
        message: 'set only the destination block that matches destination.type',
      },
    ],
  },
);

const activationSpec = specSchema<ActivationSpec>(
  'Desired state of the Activation.',
  {
    segment: nameRef('Segment (same namespace) whose members this Activation addresses. Required for segmentEntered, segmentExited and schedule triggers; with an event trigger it restricts sends to its members.'),
    trigger: required(trigger),
    destination: required(destination),
    template: { ...template, description: 'The message, rendered per person with Liquid. Used when there are no variants.' },
    variants: array(
      'A/B variants: each person is assigned one variant at random in proportion to weight, and keeps it. At most 10, unique by name.',
      object<ActivationVariant>('One variant of the message.', {
        name: required(string('Variant name, reported in delivery metrics, e.g. "a" or "short-subject".', { minLength: 1, maxLength: 63, pattern: '^[A-Za-z0-9]([-_A-Za-z0-9]*[A-Za-z0-9])?$' })),
        weight: required(int32('Relative share of people who get this variant.', { minimum: 1, maximum: 100 })),
        template: { ...template, description: 'The message of this variant.' },
      }),
      { maxItems: 10, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
    ),
    holdoutPercent: int32('Percent of people deliberately sent nothing, as a control group to measure the Activation\'s effect; they are counted as suppressed.', { minimum: 0, maximum: 50, default: ACTIVATION_DEFAULTS.holdoutPercent }),
    frequencyCap: object<FrequencyCap>('At most max messages from this Activation per person per period; the rest are suppressed.', {
      max: required(int32('Most messages per person within per.', { minimum: 1 })),
      per: required(duration('The period, e.g. "7d".')),
    }),
    quietHours: object<QuietHours>('Hours, in each person\'s local time, when nothing is sent; sends due then wait until end. start after end spans midnight (e.g. 21:00 to 08:00).', {
      start: required(string('Start of quiet hours, HH:MM (24-hour clock).', { pattern: HH_MM })),
      end: required(string('End of quiet hours, HH:MM (24-hour clock).', { pattern: HH_MM })),
      timeZoneTrait: string('Trait holding each person\'s IANA time zone, e.g. "Europe/Berlin".', { minLength: 1, maxLength: 256, default: ACTIVATION_DEFAULTS.quietHours.timeZoneTrait }),
      defaultTimeZone: string('IANA time zone for people without the trait.', { minLength: 1, maxLength: 64, default: ACTIVATION_DEFAULTS.quietHours.defaultTimeZone }),
    }),
    consent: object<ActivationConsent>('Send only to people who consented to this category; the others are suppressed.', {
      category: required(string('Consent category the person must have granted, e.g. "marketing".', { minLength: 1, maxLength: 128 })),
    }),
  },
  {
    validations: [
      {
        rule: `!(self.trigger.type in [${SEGMENT_TRIGGER_TYPES.map((t) => `'${t}'`).join(', ')}]) || has(self.segment)`,
        message: 'spec.segment is required for segment triggers and audience syncs',
        fieldPath: '.segment',
        reason: 'FieldValueRequired',
      },
    ],
  },
);

const activationStatus = statusSchema<ActivationStatus>('Observed state of the Activation, written by the operator.', {
  sent: int64('Messages the destination accepted.', { minimum: 0 }),
  failed: int64('Messages that failed after all retries.', { minimum: 0 }),
  suppressed: int64('Messages not sent because of consent, the frequency cap, the holdout group or a missing address.', { minimum: 0 }),
  lastSentAt: dateTime('When the last message was accepted by the destination.'),
  schedule: string('Id of the Temporal schedule running the audience sync (schedule triggers).'),
});

export const activationCrd = customResourceDefinition({
  kind: 'Activation',
  plural: 'activations',
  singular: 'activation',
  shortNames: ['act'],
  description:
    'An Activation sends messages or audiences to a destination (webhook, Kafka or email): a personalized message when a person performs an event or enters or leaves a Segment, or a sync of a Segment\'s members on a schedule — with consent, frequency caps, quiet hours, A/B variants and a holdout group.',
  spec: activationSpec,
  status: activationStatus,
  printerColumns: [
    { name: 'Trigger', type: 'string', jsonPath: '.spec.trigger.type', description: 'What triggers a send.' },
    { name: 'Destination', type: 'string', jsonPath: '.spec.destination.type', description: 'Where messages go.' },
    { name: 'Sent', type: 'integer', jsonPath: '.status.sent', description: 'Messages accepted by the destination.' },
    { name: 'Failed', type: 'integer', jsonPath: '.status.failed', description: 'Messages failed after retries.' },
    { name: 'Suppressed', type: 'integer', jsonPath: '.status.suppressed', description: 'Messages not sent (consent, frequency cap, holdout).', priority: 1 },
    { name: 'Segment', type: 'string', jsonPath: '.spec.segment', description: 'Segment addressed.', priority: 1 },
  ],
});
