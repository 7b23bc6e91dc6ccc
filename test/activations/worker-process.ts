// The activations worker as a process of its own, for tests that kill it (SIGKILL) mid-campaign.
// Env as the operator's Deployment gives it (USPA_NAMESPACE, USPA_DATABASE, USPA_TOPIC_PREFIX, …);
// USPA_TEST_CONSUMER=0 leaves the trigger consumer out (the test starts campaigns itself).
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createLogger } from '../../lib/log.ts';
import { startActivationsWorker } from '../../workers/activations/main.ts';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const worker = await startActivationsWorker({
  namespace: process.env.USPA_NAMESPACE!,
  consumer: process.env.USPA_TEST_CONSUMER !== '0',
  conversionsIntervalMs: false,
  log: createLogger('worker-activations', process.env.USPA_TEST_LOGS ? 'debug' : 'error'),
});
process.stdout.write(`ready ${worker.taskQueue}\n`);
process.once('SIGTERM', () => void worker.close().then(() => process.exit(0)));
