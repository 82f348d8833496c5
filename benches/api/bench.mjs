#!/usr/bin/env node
// Backend API benchmark (`make bench`): the latency of `GET /v1/users/{id}` with a secret
// key through the real Worker (wrangler dev, the dev build, local D1), sequential
// requests over one kept-alive loopback connection, and the D1 round trips one
// authenticated call costs (the dev build's counters; target: one). Beside it, two
// floors measured in the same run: a call refused for its key's checksum (the same
// Worker and request parsing, no D1) and `GET /v1/applications/current` (authentication
// alone, one round trip).
//
//   node benches/api/bench.mjs [--requests 400] [--warmup 50] [--quick] [--json FILE]
// --quick (or BENCH_QUICK=1): 40 requests after 10 unless given; --json FILE: every figure
// as JSON too (read by benches/report.mjs).
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startWorker } from '../../tests/e2e/worker.mjs';

const { values } = parseArgs({
  options: {
    requests: { type: 'string' },
    warmup: { type: 'string' },
    quick: { type: 'boolean' },
    json: { type: 'string' },
  },
});
const QUICK = values.quick || (!!process.env.BENCH_QUICK && process.env.BENCH_QUICK !== '0');
const REQUESTS = Number(values.requests ?? (QUICK ? 40 : 400));
const WARMUP = Number(values.warmup ?? (QUICK ? 10 : 50));
const OPERATOR = randomBytes(32).toString('base64url');

const worker = await startWorker(
  {
    TORII_MASTER_SECRET: randomBytes(32).toString('base64url'),
    TORII_OPERATOR_SECRET: OPERATOR,
    TORII_DEV_MODE: '1',
    TORII_LOG: 'off',
  },
  // The per-key limiter stays on (its call is part of the cost), with room for the run.
  { tenants: [], ratelimits: { API_LIMITER: { limit: 1_000_000, period: 60 } } },
);

/** One call; the body is read to the end (so the connection is reused). */
async function call(method, path, { key, app = 'bench', body } = {}) {
  const headers = app ? { 'x-application-id': app } : {};
  if (key) headers.authorization = `Bearer ${key}`;
  if (body) headers['content-type'] = 'application/json';
  const res = await fetch(worker.origin + path, {
    method,
    headers,
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const counters = async () => (await (await fetch(`${worker.origin}/_torii/devtools/counters`)).json());

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** `REQUESTS` sequential calls after `WARMUP`: percentiles (ms) and D1 round trips per call. */
async function measure(id, name, method, path, key, expectStatus) {
  for (let i = 0; i < WARMUP; i++) await call(method, path, { key });
  const before = await counters();
  const times = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = performance.now();
    const r = await call(method, path, { key });
    times.push(performance.now() - t0);
    if (r.status !== expectStatus) throw new Error(`${name}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const after = await counters();
  times.sort((a, b) => a - b);
  return {
    id,
    name,
    p50: percentile(times, 50),
    p90: percentile(times, 90),
    p99: percentile(times, 99),
    roundTrips: (after.d1_round_trips - before.d1_round_trips) / REQUESTS,
    statements: (after.d1_queries - before.d1_queries) / REQUESTS,
  };
}

try {
  let r = await call('POST', '/v1/applications', {
    app: null,
    key: OPERATOR,
    body: { id: 'bench', environment: 'development' },
  });
  if (r.status !== 201) throw new Error(`create application: ${r.status} ${JSON.stringify(r.body)}`);
  const key = r.body.api_key.secret;
  r = await call('POST', '/v1/users', {
    key,
    body: { id: 'user_bench', email: 'bench@example.com', first_name: 'Ada', public_metadata: { role: 'admin' } },
  });
  if (r.status !== 201) throw new Error(`create user: ${r.status} ${JSON.stringify(r.body)}`);
  const bad = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');

  const rows = [
    await measure('user', 'GET /v1/users/{id}', 'GET', '/v1/users/user_bench', key, 200),
    await measure('list', 'GET /v1/users?limit=10', 'GET', '/v1/users?limit=10', key, 200),
    await measure('auth_only', 'GET /v1/applications/current', 'GET', '/v1/applications/current', key, 200),
    await measure('refused', 'refused: bad key checksum (no D1)', 'GET', '/v1/users/user_bench', bad, 401),
  ];
  const ms = (v) => v.toFixed(2).padStart(7);
  console.log(`Backend API through wrangler dev (local D1), ${REQUESTS} sequential requests after ${WARMUP}:`);
  console.log('| call | p50 ms | p90 ms | p99 ms | D1 round trips / call | statements / call |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    console.log(
      `| ${row.name} | ${ms(row.p50)} | ${ms(row.p90)} | ${ms(row.p99)} | ${row.roundTrips.toFixed(2)} | ${row.statements.toFixed(2)} |`,
    );
  }
  const [user, , , floor] = rows;
  console.log(
    `GET /v1/users/{id}: p50 ${user.p50.toFixed(2)} ms, ${user.roundTrips.toFixed(2)} D1 round trip(s) per call ` +
      `(target 1); ${(user.p50 - floor.p50).toFixed(2)} ms above the no-D1 refusal`,
  );
  if (values.json) {
    mkdirSync(dirname(values.json), { recursive: true });
    // Latencies in ms; D1 round trips and statements per call.
    writeFileSync(values.json, JSON.stringify({ bench: 'api', quick: QUICK, requests: REQUESTS, warmup: WARMUP, rows }, null, 2));
  }
  if (rows.some((row) => row.roundTrips > 1)) {
    process.exitCode = 1;
    console.error('more than one D1 round trip per authenticated call');
  }
} finally {
  await worker.stop();
}
