import { createServer } from 'node:net';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { StackError } from './errors.ts';

export const HOST = '127.0.0.1';

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once('error', () => resolvePort(false));
    server.listen({ port, host: HOST, exclusive: true }, () => server.close(() => resolvePort(true)));
  });
}

async function ephemeralPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: HOST }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * Hands out loopback ports. A port pinned by an environment variable must be free or `up` stops;
 * otherwise the port this stack used last time is reused when free (stable endpoints across
 * restarts), else a new free one is picked.
 */
export class PortBook {
  private readonly remembered: Record<string, number>;
  private readonly taken = new Set<number>();
  readonly assigned: Record<string, number> = {};

  constructor(
    private readonly file: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {
    this.remembered = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>) : {};
  }

  /** `key` like "kafka" or "kafka-controller"; pinned with USPA_PORT_KAFKA / USPA_PORT_KAFKA_CONTROLLER. */
  async get(key: string): Promise<number> {
    const variable = `USPA_PORT_${key.toUpperCase().replace(/-/g, '_')}`;
    const pinned = this.env[variable];
    let port: number | undefined;
    if (pinned !== undefined) {
      port = Number(pinned);
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw new StackError(`${variable}=${pinned} is not a TCP port`, `set ${variable} to a number from 1 to 65535, or unset it to let uspa pick a free port`);
      }
      if (this.taken.has(port) || !(await portIsFree(port))) {
        throw new StackError(
          `port ${port} on ${HOST}, pinned for ${key} by ${variable}, is already in use`,
          `stop whatever listens there (\`ss -ltnp 'sport = :${port}'\` shows it), or set ${variable} to a free port, or unset it to let uspa pick one`,
        );
      }
    } else {
      const previous = this.remembered[key];
      if (previous !== undefined && !this.taken.has(previous) && (await portIsFree(previous))) port = previous;
      while (port === undefined || this.taken.has(port)) port = await ephemeralPort();
    }
    this.taken.add(port);
    this.assigned[key] = port;
    return port;
  }

  save(): void {
    writeFileSync(this.file, JSON.stringify({ ...this.remembered, ...this.assigned }, null, 2) + '\n');
  }
}
