import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { UsageError, parseCommandLine } from './args.ts';
import { contextNamespace } from './cluster.ts';

test('args: -n and --namespace name the namespace, in any position, like kubectl', () => {
  assert.equal(parseCommandLine(['identity', 'show', 'userId:u-1', '-n', 'shop']).values.namespace, 'shop');
  assert.equal(parseCommandLine(['-n', 'shop', 'dlq', 'list']).values.namespace, 'shop');
  assert.equal(parseCommandLine(['dlq', 'list', '--namespace=shop']).values.namespace, 'shop');
  const { values, positionals } = parseCommandLine(['identity', 'unmerge', '--edge', 'e-1', '--pipeline', 'main', '--namespace', 'shop']);
  assert.deepEqual(positionals, ['identity', 'unmerge']);
  assert.deepEqual({ edge: values.edge, pipeline: values.pipeline, namespace: values.namespace }, { edge: 'e-1', pipeline: 'main', namespace: 'shop' });
  assert.equal(parseCommandLine(['identity', 'show', 'userId:u-1']).values.namespace, undefined, 'absent: the kubeconfig decides');
});

test('args: a mistyped or incomplete option is a usage error that names it and points at --help', () => {
  assert.throws(() => parseCommandLine(['dlq', 'list', '--nmespace', 'shop']), (err: Error) => err instanceof UsageError && err.message === "Unknown option '--nmespace'; uspa --help lists the options");
  assert.throws(() => parseCommandLine(['dlq', 'list', '-n']), { message: "Option '-n, --namespace <value>' argument missing; uspa --help lists the options" });
});

const kubeconfig = (namespace?: string) => {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443' }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'other', cluster: 'c', user: 'u', namespace: 'elsewhere' }, { name: 'here', cluster: 'c', user: 'u', ...(namespace ? { namespace } : {}) }],
    currentContext: 'here',
  });
  return kc;
};

test('args: the default namespace is the current context\'s, else default', () => {
  assert.equal(contextNamespace(kubeconfig('shop')), 'shop');
  assert.equal(contextNamespace(kubeconfig()), 'default');
});
