import { test } from 'node:test';
import assert from 'node:assert/strict';
import { templateContext, unknownVariable } from './activation-templates.ts';

const event = templateContext('event', 'webhook');

test('known variables pass: fields, open maps, list items, liquid\'s size/first/last, dynamic keys', () => {
  for (const path of [['traits', 'firstName'], ['traits', 'a', 'b', 'c'], ['profile', 'id'], ['event', 'properties', 'cart', 'total'], ['events', 0, 'name'], ['events', 'first', 'properties', 'sku'], ['events', 'size'], ['recommendations', 0, 'item'], ['activation', 'variant'], ['event', ['traits', 'k']], ['profile']]) {
    assert.equal(unknownVariable(path, event), undefined, path.join('.'));
  }
});

test('an unknown variable is named, with what is known instead', () => {
  assert.equal(unknownVariable(['profile', 'userId'], event), 'unknown variable profile.userId (profile has id, firstSeen, lastSeen, lifetimeRevenue, orderCount, eventCount)');
  assert.equal(unknownVariable(['user', 'id'], event), 'unknown variable user.id (known: traits, profile, event, events, recommendations, activation)');
  assert.equal(unknownVariable(['events', 'name'], event), 'unknown variable events.name: events is a list (use [0], first, last or size)');
  assert.equal(unknownVariable(['recommendations', 0, 'title'], event), 'unknown variable recommendations[0].title (recommendations[0] has item, score)');
});

test('what each trigger gets: no event for segment triggers; an audience page to a webhook has members, not traits', () => {
  assert.match(unknownVariable(['event', 'name'], templateContext('segmentEntered', 'kafka')) ?? '', /known: traits, profile, segment, recommendations, activation/);
  assert.equal(unknownVariable(['segment', 'change'], templateContext('segmentExited', 'email')), undefined);
  const page = templateContext('schedule', 'webhook');
  assert.equal(unknownVariable(['members', 0, 'traits', 'plan'], page), undefined);
  assert.match(unknownVariable(['traits', 'plan'], page) ?? '', /known: segment, members, activation/);
  assert.equal(unknownVariable(['segment', 'baseVersion'], templateContext('schedule', 'kafka')), undefined);
});
