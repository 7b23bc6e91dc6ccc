// Telling destinations that a person was erased: the privacy worker's erasePerson schedules this
// on the activations worker, which holds each Activation's destination and its Secrets. Webhooks
// get a signed track event Person Erased (as any message of theirs: X-USPA-Signature, an
// Idempotency-Key of the request, so a repeat is recognisable); Kafka destinations a record with
// the same body. Email destinations are skipped: a mailbox holds no copy of the data to delete.
import { activityInfo } from '@temporalio/activity';
import { PERSON_ERASED, type AnnounceErasureInput, type ErasureAnnouncement } from '../../api/workflows/privacy.ts';
import type { ActivitiesContext } from './context.ts';

/** The event each destination receives: who (every identity and profile id), which request, when. */
export function erasureEvent(input: AnnounceErasureInput): string {
  return JSON.stringify({
    type: 'track',
    event: PERSON_ERASED,
    messageId: `erasure-${input.requestId}`,
    timestamp: input.erasedAt,
    properties: { requestId: input.requestId, identities: input.identities, profileIds: input.profileIds, erasedAt: input.erasedAt },
  });
}

export function erasureActivities(c: ActivitiesContext) {
  return {
    async announceErasure(input: AnnounceErasureInput): Promise<ErasureAnnouncement[]> {
      const body = erasureEvent(input);
      const out: ErasureAnnouncement[] = [];
      for (const name of input.activations) {
        const a = await c.activationOf(name);
        if (!a) {
          out.push({ activation: name, destination: 'none', outcome: 'skipped', detail: 'the Activation was deleted' });
          continue;
        }
        const destination = a.spec.destination.type;
        if (destination === 'email') {
          out.push({ activation: name, destination, outcome: 'skipped', detail: 'email destinations hold no copy of the data' });
          continue;
        }
        try {
          const delivery = { key: `erasure-${input.requestId}`, activation: c.activationKey(name), variant: '', profileId: '', message: { body }, attempt: activityInfo().attempt };
          await c.messages.send(a, [delivery], `Activation ${name}`);
          out.push({ activation: name, destination, outcome: 'sent' });
        } catch (err) {
          // One destination down does not keep the others from hearing it; the receipt names it.
          out.push({ activation: name, destination, outcome: 'failed', detail: (err as Error).message.slice(0, 300) });
        }
      }
      c.log.info({ requestId: input.requestId, sent: out.filter((o) => o.outcome === 'sent').length, failed: out.filter((o) => o.outcome === 'failed').length }, 'destinations told of an erasure');
      return out;
    },
  };
}
