// Helpers of the gateway end-to-end tests: raw HTTP (exact header spellings, duplicates),
// and a loopback JWKS server standing in for a trusted external issuer.
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { SignJWT, calculateJwkThumbprint, exportJWK } from 'jose';

/**
 * Sends one HTTP/1.1 request over a raw socket, header lines exactly as given (so
 * `x_torii_user_id`, odd casing and duplicates reach the server as written).
 * Resolves to `{ status, headers: Map(lower name → value), body }`.
 */
export function rawRequest(origin, { method = 'GET', path = '/', headers = [], body = '' }) {
  const { hostname, port } = new URL(origin);
  const lines = [`${method} ${path} HTTP/1.1`, `Host: ${hostname}:${port}`];
  let hasConnection = false;
  for (const [name, value] of headers) {
    if (name.toLowerCase() === 'connection') hasConnection = true;
    lines.push(`${name}: ${value}`);
  }
  if (!hasConnection) lines.push('Connection: close');
  if (body) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  const request = `${lines.join('\r\n')}\r\n\r\n${body}`;
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks = [];
    socket.setTimeout(20_000, () => socket.destroy(new Error('raw request timed out')));
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      socket.destroy();
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (e) {
        reject(e);
      }
    };
    socket.on('data', (c) => {
      chunks.push(c);
      // Done once the whole message is in (the server may keep the connection open).
      const buf = Buffer.concat(chunks);
      const split = buf.indexOf('\r\n\r\n');
      if (split < 0) return;
      const head = buf.subarray(0, split).toString('latin1');
      const len = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (len && buf.length - split - 4 >= Number(len[1])) finish();
      else if (/\r\ntransfer-encoding:\s*chunked/i.test(head) && buf.subarray(-5).toString() === '0\r\n\r\n') finish();
    });
    socket.on('error', (e) => (done ? undefined : reject(e)));
    socket.on('end', finish);
    socket.write(request);
  });
}

function parseResponse(buf) {
  const split = buf.indexOf('\r\n\r\n');
  const head = buf.subarray(0, split).toString('latin1').split('\r\n');
  const status = Number(head[0].split(' ')[1]);
  const headers = new Map();
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  let body = buf.subarray(split + 4);
  if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
    const parts = [];
    let at = 0;
    for (;;) {
      const eol = body.indexOf('\r\n', at);
      const size = parseInt(body.subarray(at, eol).toString('latin1'), 16);
      if (!size) break;
      parts.push(body.subarray(eol + 2, eol + 2 + size));
      at = eol + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  return { status, headers, body: body.toString('utf8') };
}

/** A fresh Ed25519 key pair with its RFC 7638 kid. */
export async function newKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk, 'sha256');
  return { privateKey, publicJwk: { ...jwk, kid, alg: 'EdDSA', use: 'sig' }, kid };
}

/** Signs a token with `key` (from `newKey`), header typ `typ`, for 10 minutes by default. */
export function signToken(key, { iss, aud, sub = 'ext_user', typ = 'JWT', exp = '10m', claims = {} }) {
  const jwt = new SignJWT({ sub, ...claims })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ })
    .setIssuer(iss)
    .setIssuedAt()
    .setExpirationTime(exp);
  if (aud) jwt.setAudience(aud);
  return jwt.sign(key.privateKey);
}

/**
 * A loopback JWKS server: `keys` (public JWKs) served at `/jwks` with `cacheControl`;
 * a discovery document for issuer `<url>/disc` at `/disc/.well-known/openid-configuration`;
 * `/big` a set over 64 KiB; `/slow` never answers;
 * `down = true` makes it answer 503; `hits` counts requests.
 */
export async function startJwksServer({ keys = [], cacheControl = 'public, max-age=120' } = {}) {
  const state = { keys, cacheControl, down: false, hits: 0 };
  const server = createServer((req, res) => {
    state.hits += 1;
    if (!state.down && req.url === '/disc/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ issuer: `${state.url}/disc`, jwks_uri: `${state.url}/jwks` }));
      return;
    }
    if (req.url === '/big') {
      // 70 KiB: over the 64 KiB bound.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: state.keys, pad: 'x'.repeat(70 * 1024) }));
      return;
    }
    if (req.url === '/slow') return; // never answers: the edge's 5 s timeout must fire
    if (state.down || req.url !== '/jwks') {
      res.writeHead(state.down ? 503 : 404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': state.cacheControl });
    res.end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  state.url = url;
  state.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    });
  return state;
}
