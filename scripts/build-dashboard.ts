// Builds the dashboard (dashboard/app, Preact + uPlot) into dashboard/dist, the files the API serves
// under /ui/: one bundled, minified script and stylesheet, no CDN. --if-stale: only when a source
// file or the lockfile changed since the last build (scripts/ensure-deps.sh runs it so).
//
//   node --import tsx scripts/build-dashboard.ts [--if-stale] [--dev]
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const app = join(root, 'dashboard', 'app');
export const DIST = join(root, 'dashboard', 'dist');
const STAMP = join(DIST, '.source-sha');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

/** A hash of everything the bundle is made from. */
function sourceHash(): string {
  const h = createHash('sha256');
  for (const f of [...files(app), ...files(join(root, 'api', 'client')), join(root, 'package-lock.json'), fileURLToPath(import.meta.url)].sort()) h.update(relative(root, f)).update(readFileSync(f));
  return h.digest('hex');
}

export async function buildDashboard(options: { ifStale?: boolean; dev?: boolean } = {}): Promise<'built' | 'fresh'> {
  const hash = sourceHash();
  if (options.ifStale && existsSync(STAMP) && readFileSync(STAMP, 'utf8') === hash && existsSync(join(DIST, 'app.js'))) return 'fresh';
  mkdirSync(DIST, { recursive: true });
  await build({
    entryPoints: { app: join(app, 'main.tsx') },
    outdir: DIST,
    bundle: true,
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: !options.dev,
    sourcemap: options.dev ? 'inline' : false,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    loader: { '.css': 'css' },
    legalComments: 'linked',
    logLevel: 'warning',
  });
  copyFileSync(join(app, 'index.html'), join(DIST, 'index.html'));
  writeFileSync(STAMP, hash);
  return 'built';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const did = await buildDashboard({ ifStale: process.argv.includes('--if-stale'), dev: process.argv.includes('--dev') });
  if (did === 'built') console.error(`dashboard built into ${relative(process.cwd(), DIST) || DIST} in ${Date.now() - started} ms`);
}
