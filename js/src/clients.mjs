// torii-edge: clients of a torii edge. createServerClient verifies end-user tokens with the
// tenant's discovery document and JWKS (fetched once, cached) and, with a secret key,
// calls the Backend API under /v1 (users, sessions, JWT templates, API keys, signing
// keys); createTokenClient mints
// session and template tokens through the edge's endpoint, caching each until ~30 s
// before it expires. Nothing here runs at import.
import { ToriiError, createVerifier, JWKS_FETCH_TIMEOUT_MS } from "./lib.mjs";
import { Flight, fetchableUrl, readBody } from "./io.mjs";

/** Path of the OIDC discovery document. */
export const DISCOVERY_PATH = "/.well-known/openid-configuration";
/** Path of the token endpoint (`?template=<name>` for a template token). */
export const TOKEN_PATH = "/_torii/auth/session/token";
/** A cached token is handed out until this many seconds before it expires. */
export const TOKEN_REFRESH_MARGIN_SECS = 30;
/** Timeout of one request to the edge, in milliseconds. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** Largest discovery or token response read, in bytes. */
const MAX_RESPONSE_BYTES = 64 * 1024;
/** Largest Backend API response read, in bytes (a page of 100 users with full metadata fits). */
export const MAX_API_RESPONSE_BYTES = 1024 * 1024;
/** Minimum time between two failed discovery attempts, in seconds. */
const DISCOVERY_COOLDOWN_SECS = 30;

function baseUrlOf(baseUrl) {
  const url = fetchableUrl(baseUrl, "baseUrl");
  if (url.search || url.hash) throw new TypeError("torii-edge: `baseUrl` must not have a query or fragment");
  return url.href.replace(/\/+$/, "");
}

function optionalString(value, name) {
  if (value !== undefined && (typeof value !== "string" || value === "")) {
    throw new TypeError(`torii-edge: \`${name}\` must be a non-empty string`);
  }
  return value;
}

/** fetch with a timeout; resolves to `{ status, json }` (json: parsed body or undefined). */
async function request(fetchImpl, url, init, timeoutMs) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const res = await fetchImpl(url, { ...init, signal: controller.signal });
    const text = await readBody(res, MAX_RESPONSE_BYTES);
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json };
  } finally {
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------ Backend API (/v1)

function pathId(value, name) {
  if (typeof value !== "string" || value === "") throw new TypeError(`torii-edge: \`${name}\` must be a non-empty string`);
  return encodeURIComponent(value);
}

function bodyObject(value, name) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`torii-edge: \`${name}\` must be an object`);
  }
  return value;
}

function queryString(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : "";
}

function retryAfterOf(headers) {
  const v = headers.get("retry-after");
  return v !== null && /^\d{1,9}$/.test(v.trim()) ? Number(v.trim()) : undefined;
}

function randomKey() {
  const c = globalThis.crypto;
  if (typeof c?.randomUUID !== "function") {
    throw new TypeError("torii-edge: no crypto.randomUUID here: pass `idempotencyKey`");
  }
  return c.randomUUID();
}

/** Adds the async iterator over every item of every page, from `page` on, following `next_cursor`. */
function iterable(target, first, next) {
  Object.defineProperty(target, Symbol.asyncIterator, {
    enumerable: false,
    value: async function* items() {
      let page = await first;
      const seen = new Set();
      for (;;) {
        yield* page.data;
        const cursor = page.next_cursor;
        if (!page.has_more || typeof cursor !== "string" || cursor === "") return;
        if (seen.has(cursor)) throw new ToriiError("internal_error", "the server repeated a list cursor");
        seen.add(cursor);
        page = await next(cursor);
      }
    },
  });
  return target;
}

/**
 * The Backend API groups of a server client. Every call sends `Authorization: Bearer
 * <apiKey>` and `x-application-id`; bodies are JSON; every POST carries an
 * `Idempotency-Key` (the caller's, or a fresh UUID). A non-2xx answer rejects with a
 * ToriiError carrying the server's code, status, field, pointer and request id.
 */
function managementApi({ baseUrl, applicationId, apiKey, fetchImpl, timeoutMs }) {
  async function call(method, path, { query, body, ifMatch, idempotencyKey } = {}) {
    if (apiKey === undefined) throw new TypeError("torii-edge: Backend API calls need `apiKey` (a secret key)");
    const headers = {
      accept: "application/json",
      authorization: `Bearer ${apiKey}`,
      "x-application-id": applicationId,
    };
    const init = { method, headers };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (method === "POST") {
      if (idempotencyKey !== undefined && (typeof idempotencyKey !== "string" || idempotencyKey === "")) {
        throw new TypeError("torii-edge: `idempotencyKey` must be a non-empty string");
      }
      headers["idempotency-key"] = idempotencyKey ?? randomKey();
    }
    if (ifMatch !== undefined) {
      if (typeof ifMatch !== "string" || ifMatch === "") throw new TypeError("torii-edge: `ifMatch` must be a non-empty string");
      headers["if-match"] = ifMatch;
    }
    const what = `${method} ${path}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let res;
    let text;
    try {
      res = await fetchImpl(baseUrl + path + (query ? queryString(query) : ""), { ...init, signal: controller.signal });
      text = await readBody(res, MAX_API_RESPONSE_BYTES);
    } catch (cause) {
      const why = controller.signal.aborted ? `timed out after ${timeoutMs} ms` : `failed: ${cause?.message ?? cause}`;
      throw new ToriiError("internal_error", `${what} ${why}`, { cause, status: 502 });
    } finally {
      clearTimeout(timer);
    }
    let json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    const requestId = res.headers.get("x-request-id") ?? (typeof json?.request_id === "string" ? json.request_id : undefined);
    if (res.status < 200 || res.status > 299) {
      const coded = json && typeof json.code === "string";
      throw new ToriiError(coded ? json.code : "internal_error", coded && typeof json.message === "string" ? json.message : `${what} answered ${res.status}`, {
        status: res.status,
        field: typeof json?.field === "string" ? json.field : undefined,
        pointer: typeof json?.pointer === "string" ? json.pointer : undefined,
        requestId: typeof json?.request_id === "string" ? json.request_id : requestId ?? undefined,
        retryAfter: retryAfterOf(res.headers),
      });
    }
    if (res.status === 204) return undefined;
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
      throw new ToriiError("internal_error", `${what} answered ${res.status} without a JSON object`, { status: 502 });
    }
    const etag = res.headers.get("etag");
    if (etag !== null) Object.defineProperty(json, "etag", { value: etag, enumerable: false });
    return json;
  }

  /** A list call: the page (a promise) that is also an async iterable of every item. */
  function list(path, query) {
    const fetchPage = (startingAfter) =>
      call("GET", path, { query: { ...query, starting_after: startingAfter ?? query.starting_after } }).then((page) => {
        if (!Array.isArray(page.data)) throw new ToriiError("internal_error", `GET ${path} answered without \`data\``, { status: 502 });
        return iterable(page, page, (c) => fetchPage(c));
      });
    const first = fetchPage(undefined);
    return iterable(first, first, (c) => fetchPage(c));
  }

  const paging = (o = {}) => ({ limit: o.limit, starting_after: o.startingAfter });
  // Argument errors reject like every other failure (never a synchronous throw).
  const group = (methods) => {
    const out = {};
    for (const [name, fn] of Object.entries(methods)) {
      out[name] = name === "list" ? fn : (...args) => {
        try {
          return fn(...args);
        } catch (e) {
          return Promise.reject(e);
        }
      };
    }
    return Object.freeze(out);
  };
  const post = (path, body, o = {}) => call("POST", path, { body, idempotencyKey: o.idempotencyKey });

  const users = group({
    create: (body, o) => post("/v1/users", bodyObject(body ?? {}, "body"), o),
    list: (o = {}) => list("/v1/users", { email: o.email, ...paging(o) }),
    get: (id) => call("GET", `/v1/users/${pathId(id, "id")}`),
    update: (id, body, o = {}) => call("PATCH", `/v1/users/${pathId(id, "id")}`, { body: bodyObject(body, "body"), ifMatch: o.ifMatch }),
    updateMetadata: (id, patch, o = {}) =>
      call("PATCH", `/v1/users/${pathId(id, "id")}/metadata`, { body: bodyObject(patch, "patch"), ifMatch: o.ifMatch }),
    delete: (id, o = {}) => call("DELETE", `/v1/users/${pathId(id, "id")}`, { ifMatch: o.ifMatch }),
    revokeSessions: (id, o) => post(`/v1/users/${pathId(id, "id")}/sessions/revoke`, undefined, o),
  });
  const sessions = group({
    create: (body, o) => post("/v1/sessions", bodyObject(body, "body"), o),
    list: (o = {}) => list("/v1/sessions", { user_id: o.userId, status: o.status, ...paging(o) }),
    get: (id) => call("GET", `/v1/sessions/${pathId(id, "id")}`),
    revoke: (id, o) => post(`/v1/sessions/${pathId(id, "id")}/revoke`, undefined, o),
    revokeAllOfUser: (userId, o) => users.revokeSessions(userId, o),
    createToken: (id, o = {}) =>
      call("POST", `/v1/sessions/${pathId(id, "id")}/tokens`, {
        query: { template: o.template },
        idempotencyKey: o.idempotencyKey,
      }),
  });
  const jwtTemplates = group({
    put: (name, body, o = {}) => call("PUT", `/v1/jwt-templates/${pathId(name, "name")}`, { body: bodyObject(body, "body"), ifMatch: o.ifMatch }),
    get: (name) => call("GET", `/v1/jwt-templates/${pathId(name, "name")}`),
    list: (o = {}) => list("/v1/jwt-templates", paging(o)),
    delete: (name, o = {}) => call("DELETE", `/v1/jwt-templates/${pathId(name, "name")}`, { ifMatch: o.ifMatch }),
    preview: (body, o) => post("/v1/jwt-templates/preview", bodyObject(body, "body"), o),
  });
  const apiKeys = group({
    create: (body, o) => post("/v1/api-keys", bodyObject(body, "body"), o),
    list: (o = {}) => list("/v1/api-keys", paging(o)),
    get: (id) => call("GET", `/v1/api-keys/${pathId(id, "id")}`),
    roll: (id, body, o) => post(`/v1/api-keys/${pathId(id, "id")}/roll`, body === undefined ? undefined : bodyObject(body, "body"), o),
    revoke: (id, o) => post(`/v1/api-keys/${pathId(id, "id")}/revoke`, undefined, o),
  });
  const signingKeys = group({
    list: () => list("/v1/signing-keys", {}),
    rotate: (o) => post("/v1/signing-keys/rotate", undefined, o),
  });
  return { users, sessions, jwtTemplates, apiKeys, signingKeys };
}

// ------------------------------------------------------------------ server client

/**
 * A server-side client of one application (tenant): `verifyToken(authorizationHeader)`
 * verifies end-user tokens locally against the tenant's JWKS, found through its discovery
 * document (`${baseUrl}/.well-known/openid-configuration` → `issuer`, `jwks_uri`). Both
 * are fetched once, with `x-application-id`; the JWKS is then cached like `createVerifier`'s.
 * `apiKey` (a secret key) is only sent by the Backend API calls (`users`, `sessions`,
 * `jwtTemplates`, `apiKeys`, `signingKeys`, `fetch`); verification works without it.
 */
export function createServerClient(options) {
  if (!options || typeof options !== "object") throw new TypeError("torii-edge: options are required");
  const baseUrl = baseUrlOf(options.baseUrl);
  const applicationId = optionalString(options.applicationId, "applicationId");
  if (applicationId === undefined) throw new TypeError("torii-edge: `applicationId` is required");
  const apiKey = optionalString(options.apiKey, "apiKey");
  const fetchImpl = options.fetch ?? ((...a) => globalThis.fetch(...a));
  const now = options.now ?? (() => Date.now());
  const timeoutMs = options.timeoutMs ?? JWKS_FETCH_TIMEOUT_MS;
  const { audience, clockTolerance, requiredClaims, maxTokenLength, maxTokenAge, typ, cacheConfig } = options;
  // JWKS requests carry the application id (the edge may resolve the tenant by it).
  const appFetch = (url, init = {}) =>
    fetchImpl(url, { ...init, headers: { ...init.headers, "x-application-id": applicationId } });

  const api = managementApi({
    baseUrl,
    applicationId,
    apiKey,
    fetchImpl,
    timeoutMs: options.timeoutMs ?? REQUEST_TIMEOUT_MS,
  });

  let verifier = null;
  // The discovery under way, shared by state only (never by promise: see Flight).
  const flight = new Flight(timeoutMs);
  let failedAt = null;
  let discoveryFetches = 0;

  async function discover() {
    discoveryFetches += 1;
    let res;
    try {
      res = await request(appFetch, baseUrl + DISCOVERY_PATH, { headers: { accept: "application/json" } }, timeoutMs);
    } catch (cause) {
      throw new ToriiError("jwks_fetch_failed", `fetching the discovery document failed: ${cause?.message ?? cause}`, { cause });
    }
    const doc = res.json;
    if (res.status !== 200 || !doc || typeof doc.issuer !== "string" || typeof doc.jwks_uri !== "string") {
      throw new ToriiError("jwks_fetch_failed", `${baseUrl}${DISCOVERY_PATH} answered ${res.status} without an issuer and a jwks_uri`);
    }
    try {
      fetchableUrl(doc.jwks_uri, "jwks_uri");
    } catch (cause) {
      throw new ToriiError("jwks_fetch_failed", `${baseUrl}${DISCOVERY_PATH}: ${cause.message}`, { cause });
    }
    return createVerifier({
      issuer: doc.issuer,
      jwksUrl: doc.jwks_uri,
      audience,
      clockTolerance,
      requiredClaims,
      maxTokenLength,
      maxTokenAge,
      typ,
      cacheConfig,
      timeoutMs,
      now,
      fetch: appFetch,
    });
  }

  async function current() {
    for (let round = 0; round < 4; round++) {
      if (verifier) return verifier;
      const busy = flight.active();
      if (busy) {
        // Another caller is discovering: wait on this caller's own timers, then look again.
        const outcome = await flight.wait(busy);
        if (outcome?.error !== undefined && !verifier) throw outcome.error;
        continue;
      }
      const t = Math.floor(now() / 1000);
      if (failedAt !== null && t < failedAt + DISCOVERY_COOLDOWN_SECS) {
        throw new ToriiError("jwks_unavailable", "the discovery document could not be fetched recently", {
          retryAfter: failedAt + DISCOVERY_COOLDOWN_SECS - t,
        });
      }
      const run = flight.begin();
      try {
        verifier = await discover();
        flight.end(run);
        return verifier;
      } catch (e) {
        failedAt = Math.floor(now() / 1000);
        flight.end(run, e);
        throw e;
      }
    }
    throw new ToriiError("jwks_unavailable", "the discovery requests under way did not finish", { retryAfter: 1 });
  }

  return Object.freeze({
    baseUrl,
    applicationId,
    /** Verifies an `Authorization` header value (or a bare token); resolves to the claims. */
    async verifyToken(authorizationHeader, verifyOptions) {
      return (await current()).verify(authorizationHeader, verifyOptions);
    },
    ...api,
    /**
     * A management request: `path` below `baseUrl`, sent with `x-application-id` and
     * `Authorization: Bearer <apiKey>`. Returns the Response.
     */
    async fetch(path, init = {}) {
      if (apiKey === undefined) throw new TypeError("torii-edge: management calls need `apiKey`");
      if (typeof path !== "string" || !path.startsWith("/")) throw new TypeError("torii-edge: `path` must start with /");
      return fetchImpl(baseUrl + path, {
        ...init,
        headers: { ...init.headers, "x-application-id": applicationId, authorization: `Bearer ${apiKey}` },
      });
    },
    /** How many discovery and JWKS fetches were started (tests, metrics). */
    get fetches() {
      return { discovery: discoveryFetches, jwks: verifier?.jwksFetches ?? 0 };
    },
  });
}

// ------------------------------------------------------------------ token client

function expirySecs(expiresAt) {
  if (typeof expiresAt === "number" && Number.isFinite(expiresAt)) return expiresAt;
  if (typeof expiresAt === "string") {
    const ms = Date.parse(expiresAt);
    if (Number.isFinite(ms)) return Math.floor(ms / 1000);
  }
  return undefined;
}

/**
 * A client-side token source: `getToken()` returns a fresh session token, and
 * `getToken({ template })` a token minted from the named JWT template, both through
 * `POST ${baseUrl}/_torii/auth/session/token[?template=<name>]` with the session token
 * from `getSessionToken()` as Bearer. Each template's token is cached in memory and
 * reused until ~30 s before `expiresAt` (and only for the same session token); concurrent
 * calls share one request. Resolves `null` when the template does not exist (404
 * `jwt_template_not_found`) or the session has ended (401, or no session token).
 */
export function createTokenClient(options) {
  if (!options || typeof options !== "object") throw new TypeError("torii-edge: options are required");
  const baseUrl = baseUrlOf(options.baseUrl);
  const { getSessionToken } = options;
  if (typeof getSessionToken !== "function") throw new TypeError("torii-edge: `getSessionToken` must be a function");
  const applicationId = optionalString(options.applicationId, "applicationId");
  const fetchImpl = options.fetch ?? ((...a) => globalThis.fetch(...a));
  const now = options.now ?? (() => Date.now());
  const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
  const cache = new Map(); // template ("" = session) → { token, exp, session }
  const inflight = new Map(); // `${template}\0${session}` → Promise
  let requests = 0;

  async function mint(template, session) {
    requests += 1;
    const url = baseUrl + TOKEN_PATH + (template ? `?template=${encodeURIComponent(template)}` : "");
    const headers = { authorization: `Bearer ${session}`, accept: "application/json" };
    if (applicationId !== undefined) headers["x-application-id"] = applicationId;
    let res;
    try {
      res = await request(fetchImpl, url, { method: "POST", headers }, timeoutMs);
    } catch (cause) {
      throw new ToriiError("token_request_failed", `POST ${TOKEN_PATH} failed: ${cause?.message ?? cause}`, { cause });
    }
    if (res.status === 404 && res.json?.code === "jwt_template_not_found") return null;
    if (res.status === 401) {
      // The session ended: nothing minted for it may be handed out any more.
      for (const [k, v] of cache) if (v.session === session) cache.delete(k);
      return null;
    }
    const exp = expirySecs(res.json?.expiresAt);
    if (res.status !== 200 || typeof res.json?.accessToken !== "string" || exp === undefined) {
      const code = typeof res.json?.code === "string" ? ` (${res.json.code})` : "";
      throw new ToriiError("token_request_failed", `POST ${TOKEN_PATH} answered ${res.status}${code}`);
    }
    cache.set(template, { token: res.json.accessToken, exp, session });
    return res.json.accessToken;
  }

  return Object.freeze({
    /** Resolves to a token (string) or null; rejects with `token_request_failed`. */
    async getToken({ template } = {}) {
      if (template !== undefined && (typeof template !== "string" || template === "")) {
        throw new TypeError("torii-edge: `template` must be a non-empty string");
      }
      const name = template ?? "";
      const session = await getSessionToken();
      if (session === null || session === undefined || session === "") return null;
      if (typeof session !== "string") throw new TypeError("torii-edge: getSessionToken() must resolve to a string or null");
      const hit = cache.get(name);
      if (hit && hit.session === session && Math.floor(now() / 1000) < hit.exp - TOKEN_REFRESH_MARGIN_SECS) return hit.token;
      const key = `${name}\0${session}`;
      let p = inflight.get(key);
      if (!p) {
        p = mint(name, session).finally(() => inflight.delete(key));
        inflight.set(key, p);
      }
      return p;
    },
    /** Forgets every cached token (e.g. on sign-out). */
    clear() {
      cache.clear();
    },
    /** How many token requests were sent (tests, metrics). */
    get requests() {
      return requests;
    },
  });
}
