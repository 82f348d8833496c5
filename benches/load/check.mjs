// Judging a `make load` run: every request's expectation (decided before it was sent)
// against what the client got back and what the capturing origin recorded.
import { isDeepStrictEqual } from 'node:util';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { EDGE_ASSERTION_TYP, IDENTITY_HEADERS, identityHash } from '../../scripts/demo-origin.mjs';

const CLAIMS = 'x-torii-claims';
const ASSERTION = 'x-torii-edge-assertion';
/** Headers whose values are checked structurally rather than scanned for spoofed text. */
const STRUCTURED = new Set(['authorization', 'cookie', CLAIMS, ASSERTION]);
/** Client forwarding headers that must never reach the origin under any name. */
const NEVER = ['x-http-method-override', 'true-client-ip', 'x-original-url', 'x_forwarded_for', 'x_torii_user_id', 'x_torii_tenant_id'];
const SPOOF_TEXT = /spoof|203\.0\.113\./; // case-sensitive: see traffic.mjs spoofedHeaders

/**
 * Judges `results` (each `{ req, status, code, headers, plannedAt, doneAt, error }`) against
 * `origin` (startCapturingOrigin). `ctx`: `{ edgeHost, originUrl, tenants: { id: { issuer,
 * jwks } }, sampleEvery }`. Returns a summary with every wrong decision spelled out.
 */
export async function judge(results, origin, ctx) {
  const wrong = [];
  const fivexx = [];
  const transport = [];
  const ambiguous = [];
  const assertionFailures = [];
  let assertionsVerified = 0;
  let passes = 0;
  const byClass = {};
  const byOutcome = {};
  const sentIds = new Set();
  // One entry per wrong request, with every reason found.
  let last = null;
  const bad = (r, why, extra = {}) => {
    if (last?.rid === r.req.rid) {
      last.why.push(why);
      Object.assign(last, extra);
      return;
    }
    last = { rid: r.req.rid, cls: r.req.cls, route: r.req.route, tenant: r.req.tenant, method: r.req.method, path: r.req.raw, version: r.req.version, phase: r.phase, expected: r.req.expected.pass ? 'pass' : `${r.req.expected.status} ${r.req.expected.code}`, got: r.error ? `error ${r.error}` : `${r.status} ${r.code ?? ''}`.trim(), why: [why], ...extra };
    wrong.push(last);
  };
  const jwksOf = {};
  for (const [id, t] of Object.entries(ctx.tenants ?? {})) jwksOf[id] = t.jwks ? createLocalJWKSet(t.jwks) : null;

  for (const r of results) {
    const { req } = r;
    sentIds.add(req.rid);
    const exp = req.expected;
    byClass[req.cls] = (byClass[req.cls] ?? 0) + 1;
    const outcomeKey = exp.pass ? 'pass' : `${exp.status} ${exp.code}`;
    byOutcome[outcomeKey] = (byOutcome[outcomeKey] ?? 0) + 1;
    const rec = origin.seen.get(req.rid);
    if (r.error) {
      transport.push({ rid: req.rid, error: r.error });
      continue;
    }
    if (r.status >= 500) {
      fivexx.push({ rid: req.rid, cls: req.cls, route: req.route, status: r.status, code: r.code });
      if (!exp.pass && rec) bad(r, 'refused request reached the origin');
      continue;
    }
    // A time-bounded token planned before its boundary whose request was still in flight
    // near it: either outcome is right (planning keeps a margin, so this should stay 0).
    if (req.boundary && r.plannedAt < req.boundary * 1000 && r.doneAt >= req.boundary * 1000 - 250) {
      ambiguous.push(req.rid);
      continue;
    }
    if (!exp.pass) {
      if (rec) bad(r, 'refused request reached the origin', { originSaw: summarize(rec) });
      if (r.status !== exp.status || r.code !== exp.code) bad(r, 'wrong status or code');
      if (r.headers['x-load-origin']) bad(r, 'refusal carries the origin marker');
      if (r.headers['x-request-id'] !== req.rid) bad(r, `response x-request-id ${r.headers['x-request-id']}`);
      continue;
    }
    passes++;
    if (!rec) {
      bad(r, 'expected to pass, the origin never saw it');
      continue;
    }
    if (r.status !== 200 || r.headers['x-load-origin'] !== '1') bad(r, 'pass without the origin response');
    if (r.headers['x-request-id'] !== req.rid) bad(r, `response x-request-id ${r.headers['x-request-id']}`);
    for (const why of forwardedProblems(req, rec, ctx)) bad(r, why);
    if (ctx.sampleEvery && passes % ctx.sampleEvery === 0) {
      const why = await assertionProblem(req, rec, ctx, jwksOf);
      if (why) assertionFailures.push({ rid: req.rid, why }), bad(r, `edge assertion: ${why}`);
      else assertionsVerified++;
    }
  }
  const strays = [];
  for (const [rid, rec] of origin.seen) if (!sentIds.has(rid)) strays.push({ rid, rec: summarize(rec) });
  for (const rec of origin.duplicates) strays.push({ rid: rec.headers['x-request-id'], duplicate: true, rec: summarize(rec) });
  for (const rec of origin.anonymous) strays.push({ rid: null, rec: summarize(rec) });
  return {
    sent: results.length,
    expectedPass: results.filter((r) => r.req.expected.pass).length,
    originSaw: origin.count,
    wrong,
    strays,
    fivexx,
    transport,
    ambiguous: ambiguous.length,
    assertionsVerified,
    assertionFailures,
    byClass,
    byOutcome,
  };
}

const summarize = (rec) => ({ method: rec.method, url: rec.url, torii: Object.fromEntries(Object.entries(rec.headers).filter(([n]) => n.startsWith('x-torii-') && n !== ASSERTION && n !== CLAIMS)) });

/** What is wrong with a forwarded request as the origin received it (empty: nothing). */
export function forwardedProblems(req, rec, { edgeHost, clientIp = '127.0.0.1' }) {
  const out = [];
  const h = rec.headers;
  if (rec.method !== req.method) out.push(`origin saw method ${rec.method}`);
  if (rec.url !== req.path) out.push(`origin saw URL ${rec.url}, expected ${req.path}`);
  if (rec.body !== (req.body ?? '')) out.push('origin saw another body');
  // Identity headers: exactly those of the verified claims, with their values.
  const want = req.expected.identity ?? {};
  for (const name of IDENTITY_HEADERS.filter((n) => n !== CLAIMS)) {
    if (h[name] !== want[name]) out.push(`${name}: origin saw ${JSON.stringify(h[name])}, expected ${JSON.stringify(want[name])}`);
  }
  const others = Object.keys(h).filter((n) => n.replaceAll('_', '-').startsWith('x-torii-') && !IDENTITY_HEADERS.includes(n) && n !== ASSERTION);
  if (others.length) out.push(`unexpected x-torii headers: ${others.join(', ')}`);
  if (req.expected.claims) {
    let got;
    try {
      got = JSON.parse(Buffer.from(h[CLAIMS] ?? '', 'base64url').toString('utf8'));
    } catch {}
    if (!isDeepStrictEqual(got, req.expected.claims)) out.push('x-torii-claims is not the token\'s claims');
  } else if (h[CLAIMS] !== undefined) out.push('x-torii-claims on a request without verified claims');
  if (typeof h[ASSERTION] !== 'string' || h[ASSERTION].split('.').length !== 3) out.push('no (single) edge assertion');
  // Forwarding headers: the edge's own values only.
  if (h['x-forwarded-host'] !== edgeHost) out.push(`x-forwarded-host ${JSON.stringify(h['x-forwarded-host'])}`);
  if (h['x-forwarded-proto'] !== 'http') out.push(`x-forwarded-proto ${JSON.stringify(h['x-forwarded-proto'])}`);
  const fwd = /^(?:for=([^;,]+);)?host="([^"]*)";proto=http$/.exec(h.forwarded ?? '');
  if (!fwd || fwd[2] !== edgeHost) out.push(`forwarded ${JSON.stringify(h.forwarded)}`);
  // The client address is the runtime's (CF-Connecting-IP): under wrangler dev, our own
  // loopback address.
  const client = fwd?.[1];
  if (client !== clientIp || h['x-forwarded-for'] !== clientIp || h['x-real-ip'] !== clientIp) {
    out.push(`client address: x-forwarded-for ${JSON.stringify(h['x-forwarded-for'])}, x-real-ip ${JSON.stringify(h['x-real-ip'])}, forwarded for=${client}, expected ${clientIp}`);
  }
  for (const n of NEVER) if (h[n] !== undefined) out.push(`${n} reached the origin`);
  for (let i = 0; i < rec.rawHeaders.length; i += 2) {
    const name = rec.rawHeaders[i].toLowerCase();
    if (!STRUCTURED.has(name) && SPOOF_TEXT.test(rec.rawHeaders[i + 1])) out.push(`spoofed value reached the origin in ${rec.rawHeaders[i]}`);
  }
  return out;
}

/** Verifies a forwarded request's edge assertion with jose, at the time it was received. */
async function assertionProblem(req, rec, { originUrl, tenants }, jwksOf) {
  const jwks = jwksOf[req.tenant];
  if (!jwks) return `no JWKS for tenant ${req.tenant}`;
  try {
    const { payload } = await jwtVerify(rec.headers[ASSERTION], jwks, {
      issuer: tenants[req.tenant].issuer,
      audience: originUrl,
      typ: EDGE_ASSERTION_TYP,
      algorithms: ['EdDSA'],
      maxTokenAge: 60,
      currentDate: new Date(rec.at),
      requiredClaims: ['exp', 'iat', 'htm', 'htu', 'ihash'],
    });
    if (payload.htm !== rec.method) return 'htm';
    if (payload.htu !== originUrl + rec.url) return 'htu';
    if (payload.ihash !== identityHash(rec.headers)) return 'ihash';
    if (payload.exp - payload.iat > 60) return 'lifetime';
    if (payload.sub !== req.expected.claims?.sub) return `sub ${payload.sub}`;
    return null;
  } catch (e) {
    return `${e.code ?? e.name}: ${e.message}`;
  }
}
