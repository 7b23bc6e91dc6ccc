// Temporal's time-skipping test server (the Java build the stack installs) for workflow tests.
import { spawn } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { required } from './env.ts';

/** How long a JVM may take to answer on two busy cores (the SDK's own start allows a fixed 5 s). */
const START_TIMEOUT_MS = 120_000;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

/**
 * Starts the time-skipping test server as a process of this test and waits for it as long as a
 * loaded machine needs. The SDK starts it with a fixed 5 s deadline, which a JVM on two cores shared
 * with four test files can miss, so it is started here and the environment is made for an existing
 * server with time skipping on: the SDK's own factory for that (`create`, which createTimeSkipping
 * and createFromExistingServer both call) is not exported by name, hence the cast.
 */
export async function timeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  const path = required('USPA_TEMPORAL_TEST_SERVER');
  const port = await freePort();
  const child = spawn(path, [String(port)], { stdio: 'ignore' });
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited with ${signal ?? code}`));
  const create = (TestWorkflowEnvironment as unknown as { create(o: object): Promise<TestWorkflowEnvironment> }).create.bind(TestWorkflowEnvironment);
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (exited) throw new Error(`the time-skipping test server ${path} ${exited}`);
    if (await accepts(port)) {
      try {
        const env = await create({ server: { type: 'existing' }, address: `127.0.0.1:${port}`, namespace: 'default', supportsTimeSkipping: true });
        const teardown = env.teardown.bind(env);
        env.teardown = async () => {
          await teardown();
          child.kill('SIGTERM');
        };
        return env;
      } catch (err) {
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          throw err;
        }
      }
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the time-skipping test server ${path} did not answer on port ${port} within ${START_TIMEOUT_MS / 1000} s`);
    }
    await sleep(250);
  }
}
