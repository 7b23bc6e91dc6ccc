import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ActivationSpec } from '../../api/v1alpha1/activation.ts';
import { TemplateError, bodyTemplate, messageUses, renderMessage, type RenderContext } from './render.ts';

const context: RenderContext = {
  traits: { firstName: 'Ada', email: 'ada@example.com' },
  profile: { id: 'p-1', lifetimeRevenue: 120 },
  event: { name: 'Product Added', messageId: 'm-1', timestamp: '2026-06-01T10:00:00.000Z', properties: { name: 'Shoes', price: 59.9 } },
  events: [{ name: 'Product Added', properties: { name: 'Shoes' } }, { name: 'Product Added', properties: { name: 'Socks' } }],
  recommendations: [{ name: 'Laces' }, { name: 'Insoles' }],
  activation: { name: 'cart', namespace: 'shop', variant: 'b' },
};

const webhook = (body?: string, variants?: ActivationSpec['variants']): ActivationSpec => ({
  trigger: { type: 'event', event: { name: 'Product Added' } },
  destination: { type: 'webhook', webhook: { url: 'https://example.invalid/x' } },
  template: body === undefined ? undefined : { body },
  variants,
});

describe('render', () => {
  test('traits, event properties, events and recommendations', async () => {
    const spec = webhook("Hi {{ traits.firstName }}, your {{ event.properties.name }} ({{ event.properties.price }}) is waiting. {{ events | size }} items. Also: {% for r in recommendations %}{{ r.name }}{% unless forloop.last %}, {% endunless %}{% endfor %}");
    const m = await renderMessage(spec, '', context);
    assert.equal(m.body, 'Hi Ada, your Shoes (59.9) is waiting. 2 items. Also: Laces, Insoles');
  });

  test('a JSON body with the json filter stays JSON whatever the values hold', async () => {
    const m = await renderMessage(webhook('{"profile": {{ profile.id | json }}, "name": {{ traits.firstName | json }}, "quote": {{ "say \\"hi\\"" | json }}}'), '', context);
    assert.deepEqual(JSON.parse(m.body), { profile: 'p-1', name: 'Ada', quote: 'say "hi"' });
  });

  test('the variant\'s template wins; without any template the context goes as JSON', async () => {
    const spec = webhook('base', [{ name: 'a', weight: 1, template: { body: 'A' } }, { name: 'b', weight: 1, template: { body: 'B {{ activation.variant }}' } }, { name: 'c', weight: 1 }]);
    assert.equal((await renderMessage(spec, 'b', context)).body, 'B b');
    assert.equal((await renderMessage(spec, 'c', context)).body, 'base');
    assert.deepEqual(bodyTemplate(spec, 'a'), { text: 'A', where: 'spec.variants[0].template.body' });
    const json = JSON.parse((await renderMessage(webhook(), '', context)).body);
    assert.equal(json.profileId, 'p-1');
    assert.equal(json.event.properties.name, 'Shoes');
  });

  test('email: subject and recipient rendered, headers cannot be injected', async () => {
    const spec: ActivationSpec = {
      trigger: { type: 'event', event: { name: 'x' } },
      destination: { type: 'email', email: { smtpSecretRef: { name: 's' }, from: 'Shop <hi@shop.example>', subject: 'Still thinking, {{ traits.firstName }}?\r\nBcc: evil@example.com', to: '{{ traits.email }}' } },
      template: { body: 'Hello {{ traits.firstName | default: "friend" }}' },
    };
    const m = await renderMessage(spec, '', context);
    assert.equal(m.to, 'ada@example.com');
    assert.equal(m.subject, 'Still thinking, Ada? Bcc: evil@example.com');
    assert.equal(m.body, 'Hello Ada');
    const noAddress = await renderMessage(spec, '', { ...context, traits: { firstName: 'Bo' } });
    assert.equal(noAddress.to, '', 'no address to send to (suppressed), not a failed render');
    const noBody = { ...spec, template: undefined };
    await assert.rejects(renderMessage(noBody, '', context), /spec\.template\.body: an email needs a body template/);
  });

  test('strict: a variable that is not there fails with its name; default and if accept a missing one', async () => {
    // The quickstart's old template: profile has no userId, which used to render as "".
    await assert.rejects(renderMessage(webhook('{"userId": "{{ profile.userId }}"}'), '', context), (err: unknown) => err instanceof TemplateError && err.message === 'spec.template.body: undefined variable: profile.userId, line:1, col:16');
    await assert.rejects(renderMessage(webhook('Hi {{ traits.nickname }}'), '', context), /spec\.template\.body: undefined variable: traits\.nickname/);
    const m = await renderMessage(webhook("Hi {{ traits.nickname | default: traits.firstName }}{% if traits.vip %}, VIP{% endif %}"), '', context);
    assert.equal(m.body, 'Hi Ada');
  });

  test('errors name the field', async () => {
    await assert.rejects(renderMessage(webhook('{{ traits.firstName | nosuchfilter }}'), '', context), (err: unknown) => err instanceof TemplateError && /^spec\.template\.body: undefined filter: nosuchfilter/.test(err.message));
    await assert.rejects(renderMessage(webhook('x', [{ name: 'a', weight: 1, template: { body: '{% if %}' } }]), 'a', context), /^TemplateError|spec\.variants\[0\]\.template\.body:/);
  });

  test('prototype properties are out of reach and runaway loops are stopped', async () => {
    await assert.rejects(renderMessage(webhook('[{{ traits.constructor }}]'), '', context), /undefined variable: traits\.constructor/);
    await assert.rejects(renderMessage(webhook('[{{ traits.__proto__ }}]'), '', context), /undefined variable: traits\.__proto__/);
    await assert.rejects(renderMessage(webhook('{% for i in (1..100000000) %}{{ i }}{% endfor %}'), '', context), TemplateError);
  });
});

test('messageUses: a variable counts when the variant\'s body, subject or recipient reads it', () => {
  const recs = '{% for r in recommendations limit:3 %}{{ r.item }}{% endfor %}';
  assert.equal(messageUses(webhook(recs), '', 'recommendations'), true);
  assert.equal(messageUses(webhook('Hi {{ traits.firstName }}'), '', 'recommendations'), false);
  assert.equal(messageUses(webhook(undefined), '', 'recommendations'), false, 'the default JSON body carries no recommendations');
  assert.equal(messageUses(webhook('Hi', [{ name: 'b', weight: 1, template: { body: recs } }]), 'b', 'recommendations'), true);
  assert.equal(messageUses(webhook('Hi', [{ name: 'b', weight: 1, template: { body: recs } }]), 'a', 'recommendations'), false);
  const email: ActivationSpec = { ...webhook('Hi'), destination: { type: 'email', email: { from: 'shop@example.com', smtpSecretRef: { name: 'smtp' }, subject: 'For you: {{ recommendations[0].item }}' } } };
  assert.equal(messageUses(email, '', 'recommendations'), true);
  assert.equal(messageUses(webhook('{% if %}'), '', 'recommendations'), false, 'a template that does not parse reads nothing');
});
