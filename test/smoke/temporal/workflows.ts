import { proxyActivities, sleep } from '@temporalio/workflow';
import type * as activities from './activities.ts';

const { greet } = proxyActivities<typeof activities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3, initialInterval: '100 milliseconds' },
});

export async function greeting(name: string): Promise<string> {
  return await greet(name);
}

/** Sleeps for a day of workflow time; under the time-skipping server that takes no real day. */
export async function dayLongTimer(): Promise<{ sleptMs: number }> {
  const before = Date.now();
  await sleep('1 day');
  return { sleptMs: Date.now() - before };
}
