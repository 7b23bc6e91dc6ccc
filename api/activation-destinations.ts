// Where an Activation may send. The operator checks these rules when an Activation is applied and
// the activations worker checks them again at each send, so a rule cannot be bypassed by an edit
// the operator has not seen yet, nor by DNS answering differently later.
import { BlockList, isIP } from 'node:net';

/**
 * Which private addresses webhooks and SMTP servers may reach (USPA_WEBHOOK_PRIVATE_ADDRESSES,
 * the chart's activations.webhookPrivateAddresses): deny (the default: public addresses only), loopback
 * (also 127.0.0.0/8 and ::1: the local mode and the tests) or allow (every address).
 */
export const WEBHOOK_ADDRESS_POLICIES = ['deny', 'loopback', 'allow'] as const;
export type WebhookAddressPolicy = (typeof WEBHOOK_ADDRESS_POLICIES)[number];
export const WEBHOOK_ADDRESS_ENV = 'USPA_WEBHOOK_PRIVATE_ADDRESSES';

export function webhookAddressPolicy(value: string | undefined): WebhookAddressPolicy {
  if (!value) return 'deny';
  if ((WEBHOOK_ADDRESS_POLICIES as readonly string[]).includes(value)) return value as WebhookAddressPolicy;
  throw new Error(`${WEBHOOK_ADDRESS_ENV} is "${value}": expected one of ${WEBHOOK_ADDRESS_POLICIES.join(', ')}`);
}

/** "spec.destination.kafka.topic: …" when the topic is not under the namespace's output prefix. */
export function kafkaTopicProblem(topic: string, outputPrefix: string): string | undefined {
  if (topic.startsWith(outputPrefix) && topic.length > outputPrefix.length) return undefined;
  return `spec.destination.kafka.topic: "${topic}" is not an output topic of this namespace: an Activation writes only to topics named ${outputPrefix}<name>, e.g. "${outputPrefix}${topic.split('.').at(-1) || 'crm'}"`;
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

// Every range that is not a public unicast address (IANA special-purpose registries): private,
// shared, link-local (cloud metadata at 169.254.169.254), documentation, benchmarking, multicast,
// reserved; IPv6 unique-local, link-local, site-local, multicast, and the IPv4-embedding prefixes.
const special = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24],
  ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) special.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32], ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) special.addSubnet(net, bits, 'ipv6');

/** An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is judged as the IPv4 address it carries. */
function unmapped(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip;
}

/** Why a destination may not connect to this IP address under the policy, or undefined when it may. */
export function addressProblem(address: string, policy: WebhookAddressPolicy): string | undefined {
  if (policy === 'allow') return undefined;
  const ip = unmapped(address.replace(/^\[|\]$/g, ''));
  const family = isIP(ip);
  if (family === 0) return `${address} is not an IP address`;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  // ::ffff:0:0/96 written in hex (::ffff:7f00:1) is IPv4-mapped too: never public.
  const mappedHex = type === 'ipv6' && /^::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/i.test(ip);
  if (loopback.check(ip, type)) return policy === 'loopback' ? undefined : `${address} is a loopback address`;
  if (mappedHex || special.check(ip, type)) return `${address} is a private, link-local or reserved address`;
  return undefined;
}

/**
 * Why the webhook URL may not be used under the policy, judged on the URL alone (what apply time
 * can know): a literal IP address in a private range, or a name of this machine (localhost).
 * Other names are judged at send time, on every address they resolve to.
 */
export function webhookUrlProblem(url: string, policy: WebhookAddressPolicy): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase().replace(/\.$/, '');
  } catch {
    return 'spec.destination.webhook.url is not a URL';
  }
  const why = isIP(host.replace(/^\[|\]$/g, '')) ? addressProblem(host, policy) : host === 'localhost' || host.endsWith('.localhost') ? addressProblem('127.0.0.1', policy) && `${host} is this machine` : undefined;
  return why && `spec.destination.webhook.url: ${why}; webhooks reach public addresses only unless the installation allows private ones (Helm value activations.webhookPrivateAddresses)`;
}
