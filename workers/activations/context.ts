// What the activations worker's activities are built from (ActivationsDeps: real engines in the
// worker, stubs in tests) and the pieces campaigns, audience syncs and conversions share.
//
// The Activation is read from the watched cache at every step: an edit, a suspend or a deletion
// takes effect on campaigns already waiting.
import type { Activation } from '../../api/v1alpha1/activation.ts';
import type { WebhookAddressPolicy } from '../../api/activation-destinations.ts';
import type { Warehouse } from '../../lib/clickhouse.ts';
import type { OutgoingRecord } from '../../lib/kafka.ts';
import type { Logger } from '../../lib/log.ts';
import type { ActivationLookup, SecretLookup } from './cluster.ts';
import { type DeliveryLedger, type Outcome, deliveryLedger } from './deliveries.ts';
import { Mailer } from './destinations.ts';
import { type Messages, type Recommender, createMessages } from './messages.ts';

export interface ActivationsDeps {
  namespace: string;
  /** The namespace's database (USPA_DATABASE). */
  database: string;
  warehouse: (database: string) => Warehouse;
  activations: ActivationLookup;
  secrets: SecretLookup;
  /** Producer for Kafka destinations (acks=all). */
  producer: { send(records: OutgoingRecord[]): Promise<void> };
  log: Logger;
  recommendations?: Recommender;
  /** Which private addresses webhooks and SMTP servers may reach (default deny). */
  webhookAddresses?: WebhookAddressPolicy;
  /** Every Kafka destination must start with it (the namespace's topics.activationOutputs). */
  kafkaOutputs: string;
  mailer?: Mailer;
  /** Conversions count within this long after a send or holdout decision (default 7 days). */
  conversionWindowMs?: number;
  /** The consent category of an Activation without one of its own (the namespace declares marketing). */
  defaultConsentCategory?: string;
  /** Called for every outcome recorded (metrics). */
  onOutcome?: (activation: string, outcome: Outcome) => void;
}

export interface ActivitiesContext {
  deps: ActivationsDeps;
  log: Logger;
  /** "<namespace>/<name>" of an Activation: its key in every table. */
  activationKey: (activation: string) => string;
  /** The Activation as the watch last saw it; undefined once deleted. */
  activationOf: (name: string) => Promise<Activation | undefined>;
  ledger: DeliveryLedger;
  messages: Messages;
}

export function createContext(deps: ActivationsDeps): ActivitiesContext {
  return {
    deps,
    log: deps.log,
    activationKey: (activation) => `${deps.namespace}/${activation}`,
    async activationOf(name) {
      await deps.activations.ready();
      return deps.activations.get(name);
    },
    ledger: deliveryLedger(deps.namespace, deps.onOutcome),
    messages: createMessages({ ...deps, mailer: deps.mailer ?? new Mailer(deps.webhookAddresses), webhookAddresses: deps.webhookAddresses ?? 'deny' }),
  };
}
