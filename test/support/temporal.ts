// Temporal's time-skipping test server (the Java build the stack installs) for workflow tests.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { required } from './env.ts';

/**
 * Starts the time-skipping test server. The SDK gives the JVM a fixed 5 s to answer and then kills
 * it; with test files running concurrently on two cores a JVM can miss that, so a start that timed
 * out is tried again (three times in all). Any other failure is thrown at once.
 */
export async function timeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  const path = required('USPA_TEMPORAL_TEST_SERVER');
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
    } catch (err) {
      if (attempt >= 3 || !/did not start within/.test(String(err))) throw err;
    }
  }
}
