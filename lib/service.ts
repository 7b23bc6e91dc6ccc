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

export function mountProbes(app: Express, registry: Registry, probes: ServiceProbes): void {
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const problem = await probes.ready();
    if (problem) res.status(503).json({ status: 'not ready', reason: problem });
    else res.json({ status: 'ready' });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });
}

/** A small HTTP server with only the probes, for processes (pipeline workers) that serve nothing else. */
export function probeApp(registry: Registry, probes: ServiceProbes): Express {
  const app = express();
  app.disable('x-powered-by');
  mountProbes(app, registry, probes);
  return app;
}
