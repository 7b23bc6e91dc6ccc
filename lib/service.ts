import { ConfigError } from '../api/problems.ts';
import express, { type Express } from 'express';
import { Registry, collectDefaultMetrics } from 'prom-client';

/** What every USPA process exposes: /metrics (Prometheus), /healthz (alive), /readyz (can do its job). */
export interface ServiceProbes {
  /** Returns undefined when ready, else why not. */
  ready: () => Promise<string | undefined> | string | undefined;
}

export function createRegistry(component: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ component });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** The probes' answers, whatever serves them: path → status, content type and body. */
export function probeAnswers(registry: Registry, probes: ServiceProbes): Record<'/healthz' | '/readyz' | '/metrics', () => Promise<{ status: number; type: string; body: string }>> {
  const json = (status: number, body: unknown) => ({ status, type: 'application/json; charset=utf-8', body: JSON.stringify(body) });
  return {
    '/healthz': async () => json(200, { status: 'ok' }),
    '/readyz': async () => {
      const problem = await probes.ready();
      return problem ? json(503, { status: 'not ready', reason: problem }) : json(200, { status: 'ready' });
    },
    '/metrics': async () => ({ status: 200, type: registry.contentType, body: await registry.metrics() }),
  };
}

export function mountProbes(app: Express, registry: Registry, probes: ServiceProbes): void {
  for (const [path, answer] of Object.entries(probeAnswers(registry, probes))) {
    app.get(path, async (_req, res) => {
      const a = await answer();
      res.status(a.status).type(a.type).send(a.body);
    });
  }
}

/** A small HTTP server with only the probes, for processes (pipeline workers) that serve nothing else. */
export function probeApp(registry: Registry, probes: ServiceProbes): Express {
  const app = express();
  app.disable('x-powered-by');
  mountProbes(app, registry, probes);
  return app;
}

/** On SIGTERM or SIGINT: stop cleanly (a Pod's grace period), then exit 0. */
export function stopOnSignals(close: () => Promise<void>): void {
  const stop = async () => {
    await close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

/**
 * The main of a USPA process: reads USPA_CONFIG, starts, stops cleanly on SIGTERM/SIGINT, and
 * turns a bad configuration into one clear fatal log line and exit code 1.
 */
export async function runMain(log: import('./log.ts').Logger, what: string, start: (configPath: string) => Promise<{ close(): Promise<void> }>): Promise<void> {
  const configPath = process.env.USPA_CONFIG;
  if (!configPath) {
    log.fatal('USPA_CONFIG is not set: point it at the sources/pipelines file (YAML or JSON)');
    process.exit(2);
  }
  try {
    const running = await start(configPath);
    stopOnSignals(() => running.close());
  } catch (err) {
    if (err instanceof ConfigError) log.fatal({ where: err.where, problems: err.problems }, 'invalid configuration');
    else log.fatal({ err }, `${what} failed to start`);
    process.exit(1);
  }
}
