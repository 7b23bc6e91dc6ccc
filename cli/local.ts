import { StackError } from '../stack/errors.ts';
import { clientEnv, down, status, up } from '../stack/stack.ts';

/**
 * `uspa local`: the whole product on this machine. For now that is the engine stack; the
 * collector, pipeline workers, operator and Temporal workers join it as they are built.
 * A stack that was already running is used and left running; one started here is stopped on exit.
 */
export async function runLocal(): Promise<number> {
  const before = status();
  let startedHere = false;
  if (!before.running) {
    if (before.state) throw new StackError('the local stack is in a bad state: ' + before.problems.join('; '), 'run `uspa stack down`, then `npm run local` again');
    await up();
    startedHere = true;
  }
  const vars = clientEnv();
  console.log('\nUSPA is running locally. Clients use:');
  for (const [k, v] of Object.entries(vars)) if (!/PASSWORD/.test(k)) console.log(`  ${k}=${v}`);
  console.log(`\n  eval "$(npm run -s uspa -- stack env)"   # in another shell, then kubectl / helm / temporal work`);
  console.log(startedHere ? '\nCtrl-C stops everything.' : '\nThe stack was already running and stays up after Ctrl-C.');
  await new Promise<void>((resolveWait) => {
    process.once('SIGINT', () => resolveWait());
    process.once('SIGTERM', () => resolveWait());
  });
  if (startedHere) await down();
  return 0;
}
