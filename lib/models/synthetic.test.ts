import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NOISE, dbscanPersonaOf, trainDbscanPersonas } from './dbscan.ts';
import { evaluateOffline } from './evaluate.ts';
import { featureVector } from './personas.ts';
import { plantedNiche, plantedPreferences } from './synthetic.ts';

describe('planted-preference data', () => {
  test('deterministic: the same seed gives the same data, another seed other data', () => {
    assert.deepEqual(plantedPreferences({ people: 200 }), plantedPreferences({ people: 200 }));
    assert.notDeepEqual(plantedPreferences({ people: 200, seed: 2 }).people, plantedPreferences({ people: 200 }).people);
    assert.deepEqual(plantedNiche({ people: 300 }), plantedNiche({ people: 300 }));
  });

  test('the preferences are planted: most interactions in the preferred categories, pairs bought together', () => {
    const data = plantedPreferences({ people: 2000 });
    assert.equal(data.catalog.length, 240);
    assert.equal(data.categories.length, 8);
    assert.equal(data.pairs.length, 30);
    const categoryOf = new Map(data.catalog.map((it) => [it.id, it.category[0]!]));
    let inPreferred = 0;
    let interactions = 0;
    for (const person of data.people) {
      assert.ok(person.preferred.length >= 1 && person.preferred.length <= 2);
      for (const b of person.items) {
        interactions += b.count ?? 1;
        if (person.preferred.includes(categoryOf.get(b.item)!)) inPreferred += b.count ?? 1;
        assert.equal(typeof b.at, 'number');
      }
    }
    const share = inPreferred / interactions;
    assert.ok(share > 0.8 && share < 0.95, `share in preferred categories ${share}`);
    // A planted pair's second item is in most baskets that hold its first.
    const [a, b] = data.pairs[0]!;
    const withA = data.people.filter((p) => p.items.some((x) => x.item === a));
    const both = withA.filter((p) => p.items.some((x) => x.item === b));
    assert.ok(withA.length > 10 && both.length / withA.length > 0.6, `${both.length} of ${withA.length}`);
  });

  test('offline quality means something here: the item-to-item model beats popularity at precision@10', () => {
    const data = plantedPreferences();
    const q = evaluateOffline(data.people);
    assert.ok(q.model && q.popularity);
    assert.ok(q.evaluatedProfiles > 500, `${q.evaluatedProfiles} evaluated`);
    assert.ok(q.model.precision > 1.5 * q.popularity.precision, `precision@10 model ${q.model.precision} vs popularity ${q.popularity.precision}`);
    assert.ok(q.model.recall > 1.5 * q.popularity.recall, `recall@10 model ${q.model.recall} vs popularity ${q.popularity.recall}`);
    assert.ok(q.model.coverage > 5 * q.popularity.coverage, `coverage model ${q.model.coverage} vs popularity ${q.popularity.coverage}`);
    // With nothing planted (every interaction popular-random) the model has no edge over popularity.
    const flat = evaluateOffline(plantedPreferences({ preferredShare: 0, pairs: 0 }).people);
    assert.ok(flat.model!.precision < 1.1 * flat.popularity!.precision, `nothing planted: model ${flat.model!.precision} vs popularity ${flat.popularity!.precision}`);
  });

  test('DBSCAN finds the planted niche as its own persona', async () => {
    const { profiles, niche, categories } = plantedNiche();
    const model = await trainDbscanPersonas(profiles.map((p) => featureVector(p, categories)), categories, { eps: 1, minPoints: 10 });
    const members = niche.filter(Boolean).length;
    assert.equal(members, 120);
    // The cluster holding most of the niche: nearly all of the niche, nearly nothing else.
    const byCluster = new Map<number, number>();
    niche.forEach((inNiche, i) => inNiche && byCluster.set(model.assignments[i]!, (byCluster.get(model.assignments[i]!) ?? 0) + 1));
    const [cluster, found] = [...byCluster].sort((a, b) => b[1] - a[1])[0]!;
    assert.notEqual(cluster, NOISE);
    assert.ok(found >= 0.95 * members, `${found} of ${members} niche profiles in cluster ${cluster}`);
    assert.ok(model.sizes[cluster]! <= found / 0.95, `cluster of ${model.sizes[cluster]} for ${found} niche profiles`);
    const i = niche.indexOf(true);
    assert.equal(dbscanPersonaOf(model, i).persona, 'p1-high-value-frequent-outdoor');
    assert.ok(model.noise > 0, 'the diffuse population leaves noise');
  });
});
