// The bare-HTTP ceiling of bench:ingest: a plain node:http server that does the least a collector
// must (read the body, JSON.parse it, answer 200 with a small JSON body), so that loaded exactly like
// the collector it shows what HTTP in one Node process, with the load generator, gets on this machine.
//
// PORT=18500 node --import tsx test/bench/ceiling-http.ts
import { createServer, type ServerResponse } from 'node:http';

const port = Number(process.env.PORT ?? 0);
const ok = Buffer.from(JSON.stringify({ success: true }));
const bad = Buffer.from(JSON.stringify({ success: false, error: 'request body is not valid JSON' }));

function answer(res: ServerResponse, status: number, body: Buffer): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
  res.end(body);
}

const server = createServer((req, res) => {
  // GETs (the readiness poll) are answered without a body to read.
  if (req.method !== 'POST') return answer(res, 200, ok);
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    try {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      // A 400 shows up as non-2xx in the load's figures, so broken bodies cannot pass unseen.
      return answer(res, 400, bad);
    }
    answer(res, 200, ok);
  });
});

function stop(): void {
  server.close();
  server.closeAllConnections();
  process.exit(0);
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
// Orphaned (the parent's IPC channel closes): do not stay behind holding the port.
if (process.send) process.once('disconnect', stop);

server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  console.log(`bare HTTP ceiling listening on 127.0.0.1:${typeof address === 'object' && address ? address.port : port}`);
});
