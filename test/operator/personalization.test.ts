// Personalization on the real API server with the operator: its rules and templates are checked when
// it is applied (Ready False naming the field), the Segments it names must exist, it waits for the
// API to report that it serves the generation, and its status carries the lift of each variant over
// the holdout, computed from exposure and conversion events in ClickHouse.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EXPOSURE_EVENT, GROUP, VERSION } from '../../api/v1alpha1/index.ts';
import { reportStatus } from '../../lib/kubernetes/report.ts';
import { createLogger } from '../../lib/log.ts';
import { migrate } from '../../lib/schema.ts';
import { eventually } from '../support/env.ts';
import { operatorHarness, type OperatorHarness } from '../support/operator.ts';

const yaml = String.raw;
const ch = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

describe('Personalization', { timeout: 600_000 }, () => {
  let h: OperatorHarness;
  before(async () => {
    h = await operatorHarness('pzn');
    await migrate(h.warehouse, createLogger('test', 'warn'));
    await h.startOperator();
  });
  after(async () => h?.close());

  test('a rule the API cannot decide in memory and an unknown template variable: Degraded Invalid naming each field', async () => {
    await h.apply(yaml`apiVersion: uspa.tech/v1alpha1
kind: Personalization
metadata: { name: bad }
spec:
  variants:
    - { name: recent, rule: { event: Order Completed, within: 7d }, content: "hi" }
    - { name: leaky, content: "{{ secrets.token }}" }
  fallback: { content: "" }
`);
    const c = await h.ready('personalizations', 'bad', 'Invalid');
    assert.equal(c.status, 'False');
    assert.match(c.message, /spec\.variants\[0\]\.rule\.within: decisions are made in memory/);
    assert.match(c.message, /spec\.variants\[1\]\.content: unknown variable "secrets"/);
  });

  test('the API server refuses what the schema can: no variants, an unknown strategy, a holdout over 50%', async () => {
    const create = (name: string, spec: object) => h.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: h.namespace, plural: 'personalizations', body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'Personalization', metadata: { name }, spec } });
    const refusal = (spec: object) => create('refused', spec).then(() => '', (e: { body?: unknown }) => String((JSON.parse(String(e.body ?? '{}')) as { message?: string }).message));
    assert.match(await refusal({ variants: [], fallback: { content: '' } }), /spec\.variants/);
    assert.match(await refusal({ strategy: 'random', variants: [{ name: 'a', content: 'x' }], fallback: { content: '' } }), /spec\.strategy.*Unsupported value/);
    assert.match(await refusal({ holdoutPercent: 80, variants: [{ name: 'a', content: 'x' }], fallback: { content: '' } }), /spec\.holdoutPercent/);
  });

  test('a missing Segment, then no Pipeline, then waiting for the API, then Active with the lift over the holdout', async () => {
    await h.apply(yaml`apiVersion: uspa.tech/v1alpha1
kind: Personalization
metadata: { name: home-hero }
spec:
  holdoutPercent: 20
  variants:
    - { name: vip, rule: { segment: vips }, content: "VIP" }
    - { name: hero, content: "Hello {{ traits.name }}" }
  fallback: { content: "" }
  conversion: { event: Order Completed, within: 1d }
`);
    assert.match((await h.ready('personalizations', 'home-hero', 'SegmentNotFound')).message, /spec\.variants\[0\]\.rule: Segment "vips" not found/);
    await h.apply(yaml`apiVersion: uspa.tech/v1alpha1
kind: Segment
metadata: { name: vips }
spec: { rule: { trait: plan, op: eq, value: vip } }
`);
    await h.ready('personalizations', 'home-hero', 'WaitingForPipeline');
    await h.apply(yaml`apiVersion: uspa.tech/v1alpha1
kind: Source
metadata: { name: web }
spec: { type: web }
---
apiVersion: uspa.tech/v1alpha1
kind: Pipeline
metadata: { name: main }
spec: { sources: [web] }
`);
    assert.match((await h.ready('personalizations', 'home-hero', 'WaitingForWorker')).message, /waiting for the API to load generation 1/);

    // Exposures and conversions as the API and the pipeline store them: 10 held out (2 convert), 10 shown hero (5 convert, one too late).
    const now = Date.now() - 3_600_000;
    const identities = [];
    const events = [];
    for (let i = 0; i < 20; i++) {
      const arm = i < 10 ? '(holdout)' : 'hero';
      identities.push({ identity: `anonymousId:v${i}`, profile_id: `p${i}`, first_seen: ch(now), version: 1 });
      events.push({ message_id: `x${i}`, source: 'web', type: 'track', event: EXPOSURE_EVENT, timestamp: ch(now), received_at: ch(now), identity: `anonymousId:v${i}`, profile_id: `p${i}`, properties: JSON.stringify({ placement: 'home-hero', variant: arm }), context: '{}' });
      const converts = i < 2 || (i >= 10 && i < 15);
      if (converts) events.push({ message_id: `c${i}`, source: 'web', type: 'track', event: 'Order Completed', timestamp: ch(now + (i === 14 ? 2 * 86_400_000 : 60_000)), received_at: ch(now), identity: `anonymousId:v${i}`, profile_id: `p${i}`, properties: '{}', context: '{}' });
    }
    await h.warehouse.insert('identities', identities);
    await h.warehouse.insert('events', events);
    const obj = await h.get<{ metadata: { uid: string; generation: number } }>('personalizations', 'home-hero');
    await reportStatus(h.kc, { kind: 'Personalization', namespace: h.namespace, name: 'home-hero', uid: obj.metadata.uid }, { component: 'api', generation: obj.metadata.generation, state: 'Live' });
    const c = await h.ready('personalizations', 'home-hero', 'Active');
    assert.match(c.message, /decides among 2 variant\(s\) \(firstMatch, 20% held out\)/);
    let lift: Array<{ arm: string; exposed: number; converted: number; rate: number; lift?: number }> = [];
    await eventually('lift in status', async () => {
      lift = ((await h.get('personalizations', 'home-hero')).status?.lift ?? []) as typeof lift;
      return lift.length === 2;
    }, 90_000);
    assert.deepEqual(lift.map((a) => [a.arm, a.exposed, a.converted, a.rate]), [['(holdout)', 10, 2, 0.2], ['hero', 10, 4, 0.4]]);
    assert.equal(lift[1]!.lift, 1);
  });
});
