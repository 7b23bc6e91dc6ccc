// The dashboard's files (built by scripts/build-dashboard.ts into dashboard/dist) under /ui/, on
// the API's own origin: the pages call the API with the key signed in, no second login system.
// Any /ui/ path that is not a file is a page of the app (index.html). Strict CSP: only our files.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';

export const UI_PATH = '/ui';
const DIST = fileURLToPath(new URL('../dashboard/dist/', import.meta.url));
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export function mountUi(app: Express, dist = DIST): void {
  app.get('/', (_req, res) => res.redirect(302, `${UI_PATH}/`));
  app.use(UI_PATH, (_req, res, next) => {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    next();
  });
  app.use(UI_PATH, express.static(dist, { index: false, fallthrough: true, maxAge: '5m' }));
  app.get([UI_PATH, `${UI_PATH}/*path`], (_req, res) => {
    const index = join(dist, 'index.html');
    if (!existsSync(index)) {
      res.status(503).type('text/plain').send('The dashboard is not built: run `node --import tsx scripts/build-dashboard.ts` (npm run local and npm test do it).\n');
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
}
