// What the edge benches (benches/edge/bench.mjs, benches/edge/profile.mjs) share: the
// loopback origin, and D1's migrations and demo tenant applied through a Worker's `DB`.
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seedSql } from '../../scripts/seed.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Applies the D1 migrations and seeds tenant `demo` (issuer `issuer`) through `worker`'s `DB`. */
export async function seedD1(mf, worker, issuer) {
  const db = await mf.getD1Database('DB', worker);
  const statements = [];
  for (const file of readdirSync(join(ROOT, 'migrations')).filter((f) => f.endsWith('.sql')).sort()) {
    const sql = readFileSync(join(ROOT, 'migrations', file), 'utf8')
      .split('\n')
      .filter((l) => !l.trim().startsWith('--'))
      .join('\n');
    statements.push(...sql.split(/;\s*\n/));
  }
  statements.push(...seedSql({ tenant: 'demo', issuer }).split(/;\s*\n/));
  const clean = statements.map((x) => x.trim().replace(/;$/, '')).filter(Boolean);
  await db.batch(clean.map((x) => db.prepare(x)));
}

/** A loopback origin answering `200 ok` to everything (the body read first): `{ server, url }`. */
export async function startOrigin() {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      res.end('ok');
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${server.address().port}` };
}
