import { test } from 'node:test';
import assert from 'node:assert/strict';
import { topicNames } from './names.ts';
import { addressProblem, kafkaTopicProblem, webhookAddressPolicy, webhookUrlProblem } from './activation-destinations.ts';

const names = topicNames('uspa.shop');

test('Kafka destinations: only topics under <prefix>.out., never a topic USPA reads', () => {
  assert.equal(names.activationOutputs, 'uspa.shop.out.');
  assert.equal(kafkaTopicProblem('uspa.shop.out.crm', names.activationOutputs), undefined);
  for (const topic of [names.source('web'), names.control('main'), names.segmentChanges, names.deadLetters('web'), 'uspa.other.out.crm', 'uspa.shop.out.', 'crm', 'uspa.shop.outcrm']) {
    assert.match(kafkaTopicProblem(topic, names.activationOutputs) ?? '', /^spec\.destination\.kafka\.topic: .* topics named uspa\.shop\.out\.<name>/, topic);
  }
});

test('addresses: public ones pass; loopback only under loopback or allow; private, link-local and reserved only under allow', () => {
  for (const ip of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:93.184.216.34']) assert.equal(addressProblem(ip, 'deny'), undefined, ip);
  for (const ip of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) {
    assert.match(addressProblem(ip, 'deny') ?? '', /loopback/, ip);
    assert.equal(addressProblem(ip, 'loopback'), undefined, ip);
  }
  for (const ip of ['169.254.169.254', '10.0.0.1', '172.16.5.4', '192.168.1.1', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', 'fd00::1', 'fe80::1', '::', '::ffff:10.0.0.1', '::ffff:a9fe:a9fe', '64:ff9b::a9fe:a9fe', '[fe80::1]']) {
    assert.match(addressProblem(ip, 'loopback') ?? '', /private, link-local or reserved/, ip);
    assert.equal(addressProblem(ip, 'allow'), undefined, ip);
  }
});

test('webhook URLs at apply time: literal IPs (in any spelling the URL parser accepts) and localhost names', () => {
  assert.equal(webhookUrlProblem('https://hooks.example.com/x', 'deny'), undefined);
  assert.equal(webhookUrlProblem('https://93.184.216.34/x', 'deny'), undefined);
  for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[::1]:8080/', 'http://2130706433/', 'http://0x7f.1/', 'http://localhost:9000/', 'http://api.localhost./', 'http://[::ffff:169.254.169.254]/']) {
    assert.match(webhookUrlProblem(url, 'deny') ?? '', /^spec\.destination\.webhook\.url: .*activations\.webhookPrivateAddresses/, url);
  }
  assert.equal(webhookUrlProblem('http://localhost:9000/', 'loopback'), undefined);
  assert.match(webhookUrlProblem('http://10.1.2.3/', 'loopback') ?? '', /private/);
  assert.equal(webhookUrlProblem('http://10.1.2.3/', 'allow'), undefined);
});

test('the policy setting: deny by default, a wrong value is an error naming the variable', () => {
  assert.equal(webhookAddressPolicy(undefined), 'deny');
  assert.equal(webhookAddressPolicy('loopback'), 'loopback');
  assert.throws(() => webhookAddressPolicy('yes'), /USPA_WEBHOOK_PRIVATE_ADDRESSES is "yes": expected one of deny, loopback, allow/);
});
