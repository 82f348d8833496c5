// The edge's physical floor (benches/edge/bench.mjs): a pass-through Worker that does only
// the cryptography the targets cannot go below, with WebCrypto in workerd:
// - a first-seen token: one SHA-256 of the token (the cache key) and one Ed25519 verify of
//   its signature;
// - a repeated token: one SHA-256 of the token (found in a bounded set: no verify);
// - every forwarded request, public or not: one Ed25519 sign (the edge assertion, here over
//   a fixed 300-byte input).
// Nothing else: no header filtering, no claims, no log line. Its added latency over the bare
// pass-through is what those operations cost through the same harness.
const SEEN_MAX = 4096;
let state;
async function init(env) {
  if (state) return state;
  const jwk = JSON.parse(env.SIGNING_JWK);
  const { d, ...pub } = jwk;
  state = {
    sign: await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', d, x: jwk.x }, { name: 'Ed25519' }, false, ['sign']),
    verify: await crypto.subtle.importKey('jwk', { kty: pub.kty, crv: pub.crv, x: pub.x }, { name: 'Ed25519' }, false, ['verify']),
    assertion: new Uint8Array(300).fill(0x41),
    seen: new Set(),
  };
  return state;
}

function b64urlBytes(s) {
  const bin = atob(s.replaceAll('-', '+').replaceAll('_', '/'));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

export default {
  async fetch(req, env) {
    const s = await init(env);
    const url = new URL(req.url);
    const token = /^Bearer (\S+)$/.exec(req.headers.get('authorization') ?? '')?.[1];
    if (token) {
      const key = hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)));
      if (!s.seen.has(key)) {
        const dot = token.lastIndexOf('.');
        const ok = await crypto.subtle.verify('Ed25519', s.verify, b64urlBytes(token.slice(dot + 1)), new TextEncoder().encode(token.slice(0, dot)));
        if (!ok) return new Response('invalid_signature', { status: 401 });
        if (s.seen.size >= SEEN_MAX) s.seen.clear();
        s.seen.add(key);
      }
    }
    const sig = await crypto.subtle.sign('Ed25519', s.sign, s.assertion);
    if (sig.byteLength !== 64) return new Response('sign', { status: 500 });
    return fetch(env.ORIGIN_URL + url.pathname + url.search, req);
  },
};
