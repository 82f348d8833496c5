// The peer: what a user would otherwise write — a minimal Cloudflare Worker doing the
// gateway's checks with panva/jose (keys already in isolate memory, like the edge's warm
// path): strip x-torii-* (any spelling) and Connection-listed headers, verify the bearer
// token (EdDSA, typ JWT, issuer, exp), forward claims headers and a signed edge assertion,
// propagate a request id and log one JSON line per request.
import { SignJWT, base64url, createLocalJWKSet, importJWK, jwtVerify } from 'jose';

let state;
async function init(env) {
  state ??= {
    jwks: createLocalJWKSet(JSON.parse(env.JWKS)),
    signingJwk: JSON.parse(env.SIGNING_JWK),
    key: await importJWK(JSON.parse(env.SIGNING_JWK), 'EdDSA'),
    audience: new URL(env.ORIGIN_URL).origin,
  };
  return state;
}
const reply = (status, code) =>
  Response.json({ code, message: code }, { status, headers: { 'www-authenticate': `Bearer realm="demo", error="invalid_token"` } });

export default {
  async fetch(req, env) {
    const s = await init(env);
    const url = new URL(req.url);
    // ISSUER=origin (the load harness, whose port is chosen at start): the request's origin.
    const issuer = env.ISSUER === 'origin' ? url.origin : env.ISSUER;
    const requestId = req.headers.get('x-request-id') ?? crypto.randomUUID();
    const listed = (req.headers.get('connection') ?? '').split(',').map((t) => t.trim().toLowerCase());
    const headers = new Headers();
    for (const [n, v] of req.headers) {
      if (!n.replaceAll('_', '-').startsWith('x-torii-') && !listed.includes(n) && n !== 'host') headers.append(n, v);
    }
    headers.set('x-request-id', requestId);
    let claimsHeader = '';
    let sub;
    if (!url.pathname.startsWith('/public/')) {
      const token = /^Bearer (\S+)$/i.exec(req.headers.get('authorization') ?? '')?.[1];
      if (!token) return reply(401, 'missing_token');
      let payload;
      try {
        ({ payload } = await jwtVerify(token, s.jwks, { issuer, algorithms: ['EdDSA'], typ: 'JWT', requiredClaims: ['exp', 'sub'] }));
      } catch (e) {
        return reply(401, e.code ?? 'invalid_token');
      }
      sub = payload.sub;
      claimsHeader = base64url.encode(JSON.stringify(payload));
      headers.set('x-torii-user-id', payload.sub);
      if (payload.sid) headers.set('x-torii-session-id', payload.sid);
      headers.set('x-torii-tenant-id', 'demo');
      headers.set('x-torii-claims', claimsHeader);
    }
    const target = env.ORIGIN_URL + url.pathname + url.search;
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(claimsHeader));
    const assertion = await new SignJWT({ htm: req.method, htu: target, chash: base64url.encode(new Uint8Array(digest)), ...(sub ? { sub } : {}) })
      .setProtectedHeader({ alg: 'EdDSA', kid: s.signingJwk.kid, typ: 'torii-edge-assertion+jwt' })
      .setIssuer(issuer).setAudience(s.audience).setIssuedAt().setExpirationTime('60s')
      .sign(s.key);
    headers.set('x-torii-edge-assertion', assertion);
    const res = await fetch(target, { method: req.method, headers, body: req.body, redirect: 'manual' });
    // The same per-request duties as the edge: a request id on the response, a JSON log line.
    const out = new Response(res.body, res);
    out.headers.set('x-request-id', requestId);
    console.log(JSON.stringify({ msg: 'gateway', request_id: requestId, path: url.pathname, status: res.status }));
    return out;
  },
};
