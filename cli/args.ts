// The command line, parsed without side effects: one option table for every command.
import { parseArgs } from 'node:util';

const OPTIONS = {
  only: { type: 'string' },
  quiet: { type: 'boolean', default: false },
  node: { type: 'boolean', default: false },
  purge: { type: 'boolean', default: false },
  demo: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  // Like kubectl: the data commands work in one namespace, the current context's unless given.
  namespace: { type: 'string', short: 'n' },
  source: { type: 'string' },
  reason: { type: 'string' },
  since: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  url: { type: 'string' },
  'write-key': { type: 'string' },
  format: { type: 'string' },
  report: { type: 'string' },
  pipeline: { type: 'string' },
  edge: { type: 'string' },
  timeout: { type: 'string' },
  mode: { type: 'string' },
  reference: { type: 'string' },
  name: { type: 'string' },
  receipt: { type: 'string' },
  out: { type: 'string' },
  'expires-in-hours': { type: 'string' },
} as const;

export type Values = Record<string, string | boolean | undefined>;

function parse(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
}

export type CommandLine = ReturnType<typeof parse>;

export class UsageError extends Error {}

export function parseCommandLine(argv: string[]): CommandLine {
  try {
    return parse(argv);
  } catch (err) {
    // node:util's messages name the option ("Unknown option '--nmespace'"); add the way out.
    throw new UsageError(`${(err as Error).message.split('. ')[0]}; uspa --help lists the options`);
  }
}

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}
