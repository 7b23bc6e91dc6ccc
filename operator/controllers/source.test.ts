import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pipeline, Source } from '../../api/v1alpha1/index.ts';
import { undeclaredPurpose } from './source.ts';

const source = (purpose?: string) => ({ metadata: { name: 'web' }, spec: { type: 'web', ...(purpose ? { consent: { required: false, purpose } } : {}) } }) as unknown as Source;
const pipeline = (name: string, sources: string[], purposes: string[]) => ({ metadata: { name }, spec: { sources, ...(purposes.length ? { consent: { purposes: purposes.map((n) => ({ name: n })) } } : {}) } }) as unknown as Pipeline;

test('a required purpose is fine when every Pipeline reading the Source declares it', () => {
  assert.equal(undeclaredPurpose(source(), []), undefined, 'no purpose required');
  assert.equal(undeclaredPurpose(source('analytics'), [pipeline('main', ['web'], ['analytics', 'marketing']), pipeline('other', ['app'], [])]), undefined);
});

test('a misspelt or undeclared purpose is named, with what is declared', () => {
  assert.match(undeclaredPurpose(source('analytcs'), [pipeline('main', ['web'], ['analytics'])])!, /"analytcs" is not declared by Pipeline main \(spec\.consent\.purposes: analytics\)/);
  assert.match(undeclaredPurpose(source('analytics'), [pipeline('main', ['web'], [])])!, /Pipeline main \(spec\.consent\.purposes is empty\)/);
  assert.match(undeclaredPurpose(source('analytics'), [])!, /not declared by any Pipeline \(none reads this Source yet\)/);
});
