// The edge benches' D1: the migrations and the demo tenant, applied through a Miniflare
// Worker's `DB` binding (benches/edge/bench.mjs, benches/edge/profile.mjs).
import { readdirSync, readFileSync } from 'node:fs';
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
