// npm run bench:http [-- --duration 10] [--connections 64]
// Why the collector is served by fastify: the same handler (raw body, JSON.parse, CORS, a JSON
// answer) under express and under fastify, each in its own process, loaded one after the other
// with the collector's single-event load. Prints requests/s and writes results/http-frameworks.json.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '10' }, connections: { type: 'string', default: '64' }, serve: { type: 'string' } } });

/** One server, in a child process: `--serve express|fastify` with PORT set. */
async function serve(kind: string, port: number): Promise<void> {
  const handle = (body: Buffer) => {
    JSON.parse(body.toString('utf8'));
    return { success: true };
  };
  if (kind === 'express') {
    const { default: express } = await import('express');
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    // CORS by hand here: the collector's express version used the cors package, no longer a dependency.
    app.post('/v1/:route', (req, res, next) => {
      if (req.headers.origin) res.setHeader('Access-Control-Allow-Origin', req.headers.origin);
      next();
    }, express.raw({ type: () => true, limit: '600kb', inflate: true }), (req, res) => {
      res.json(handle(req.body as Buffer));
    });
    app.listen(port, '127.0.0.1');
  } else {
    const { default: Fastify } = await import('fastify');
    const { default: cors } = await import('@fastify/cors');
    const app = Fastify({ logger: false, bodyLimit: 600 * 1024 });
    await app.register(cors, { origin: true });
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    app.post('/v1/:route', async (req) => handle(req.body as Buffer));
    await app.listen({ port, host: '127.0.0.1' });
  }
}

if (values.serve) {
  await serve(values.serve, Number(process.env.PORT));
} else {
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const results: Record<string, { requests_per_s: number; p50_ms: number; p99_ms: number; non2xx: number; errors: number }> = {};
  for (const kind of ['express', 'fastify']) {
    const port = 19000 + Math.floor(Math.random() * 1000);
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve', kind], { env: { ...process.env, PORT: String(port) }, stdio: 'inherit' });
    try {
      for (let i = 0; ; i++) {
        const up = await fetch(`http://127.0.0.1:${port}/v1/track`, { method: 'POST', body: '{}' }).then(() => true, () => false);
        if (up) break;
        if (i > 200) throw new Error(`${kind} never started`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const pool = Array.from({ length: 50_000 }, () => JSON.stringify({ messageId: randomUUID(), userId: `u${Math.floor(Math.random() * 50_000)}`, event: 'Bench Event', properties: { sku: 'SKU-1', price: 9.99 } }));
      let next = 0;
      console.log(`${kind}: ${connections} connections for ${duration} s …`);
      const r = await autocannon({ url: `http://127.0.0.1:${port}/v1/track`, connections, duration, requests: [{ method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://shop.example' }, setupRequest: (req) => ({ ...req, body: pool[next++ % pool.length] }) }] });
      results[kind] = { requests_per_s: Math.round(r.requests.average), p50_ms: r.latency.p50, p99_ms: r.latency.p99, non2xx: r.non2xx, errors: r.errors };
      console.log(`${kind}: ${results[kind]!.requests_per_s} requests/s, p99 ${r.latency.p99} ms, non-2xx ${r.non2xx}`);
    } finally {
      child.kill('SIGTERM');
    }
  }
  const ratio = Math.round((100 * results.fastify!.requests_per_s) / results.express!.requests_per_s) / 100;
  console.log(`fastify ÷ express: ${ratio} (same handler, same load, ${cpus().length} cores shared with the load generator)`);
  const out = fileURLToPath(new URL('./results/http-frameworks.json', import.meta.url));
  mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
  writeFileSync(out, JSON.stringify({ benchmark: 'http-frameworks', date: new Date().toISOString(), machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gib: Math.round(totalmem() / 2 ** 30), note: 'server and load generator share these cores' }, parameters: { duration_s: duration, connections }, results, fastify_over_express: ratio }, null, 2) + '\n');
  console.log(`→ ${out}`);
}
