// Types of the `torii-edge` npm package (src/lib.mjs, re-exported by every entry point).

/**
 * Every stable error code (src/error.rs `ALL_CODES`, docs/errors.md), in documentation
 * order: the token codes, key sets, tenants and minting, the gateway, templates, users,
 * the edge's HTTP routes, the Backend API. `errorCodes()` returns exactly these (a test checks it).
 */
export type CoreErrorCode =
  | "missing_token"
  | "invalid_request"
  | "token_too_large"
  | "malformed_token"
  | "unsupported_algorithm"
  | "unsupported_header"
  | "invalid_token_type"
  | "unknown_key"
  | "invalid_signature"
  | "token_expired"
  | "token_not_yet_valid"
  | "token_issued_in_future"
  | "token_too_old"
  | "invalid_issuer"
  | "invalid_audience"
  | "missing_claim"
  | "invalid_claim_type"
  | "invalid_jwks"
  | "invalid_key"
  | "jwks_unavailable"
  | "jwks_fetch_failed"
  | "tenant_not_found"
  | "tenant_mismatch"
  | "storage_unavailable"
  | "session_revoked"
  | "jwt_template_not_found"
  | "invalid_mint_input"
  | "token_request_failed"
  | "insufficient_scope"
  | "invalid_path"
  | "uri_too_long"
  | "invalid_claim_value"
  | "invalid_route_config"
  | "origin_unreachable"
  | "origin_timeout"
  | "assertion_mismatch"
  | "invalid_template"
  | "template_too_large"
  | "reserved_claim"
  | "private_metadata_not_allowed"
  | "unknown_shortcode"
  | "invalid_shortcode"
  | "invalid_lifetime"
  | "metadata_too_large"
  | "metadata_too_deep"
  | "invalid_user_field"
  | "not_found"
  | "method_not_allowed"
  | "payload_too_large"
  | "rate_limited"
  | "internal_error"
  | "misconfigured"
  | "missing_api_key"
  | "invalid_api_key"
  | "application_mismatch"
  | "scope_escalation"
  | "validation_failed"
  | "conflict"
  | "precondition_failed"
  | "idempotency_key_reused";

/**
 * Every code a `ToriiError` can carry: one of the table's. The npm package's own are
 * `jwks_fetch_failed` (a JWKS fetch made for this call failed and no cached set can be
 * served; `cause` says why; 503) and `token_request_failed` (the token endpoint failed or
 * answered something unexpected; 502); an origin verifying edge assertions also sees
 * `assertion_mismatch` (valid, but bound to another method, URL or `x-torii-claims`; 401).
 */
export type ToriiErrorCode = CoreErrorCode;

/** Every HTTP status of the code table (`ToriiError.status`). */
export type ToriiErrorStatus =
  | 400
  | 401
  | 403
  | 404
  | 405
  | 409
  | 412
  | 413
  | 414
  | 422
  | 429
  | 500
  | 502
  | 503
  | 504;

/** Why a template was refused (the core's `TemplateError` codes). */
export type TemplateErrorCode =
  | "invalid_template"
  | "template_too_large"
  | "reserved_claim"
  | "private_metadata_not_allowed"
  | "unknown_shortcode"
  | "invalid_shortcode"
  | "invalid_lifetime";

/** Why a user was refused (the core's `UserError` codes). */
export type UserErrorCode = "metadata_too_large" | "metadata_too_deep" | "invalid_user_field";

/** A verification failure. `code` is stable API; `message` is for humans. */
export class ToriiError extends Error {
  constructor(
    code: ToriiErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfter?: number; pointer?: string; field?: string; requestId?: string; status?: number },
  );
  readonly name: "ToriiError";
  readonly code: ToriiErrorCode;
  /** The code table's HTTP status for this code (what the edge answers with). */
  readonly status: ToriiErrorStatus;
  /** Seconds until a retry: `jwks_unavailable`, or a Backend API answer's `Retry-After`. */
  readonly retryAfter?: number;
  /** Template errors: RFC 6901 JSON pointer of the offending value (`""`: the whole template). */
  readonly pointer?: string;
  /** User errors and Backend API refusals: the field refused (`id`, `email`, `limit`, `If-Match`, ...). */
  readonly field?: string;
  /** Backend API errors: the server's request id (`request_id`, `x-request-id`). */
  readonly requestId?: string;
}

/** The verified claims (the token's payload, after every check passed). */
export interface Claims {
  iss: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  sid?: string;
  aal?: string;
  org?: string;
  org_id?: string;
  org_role?: string;
  pid?: string;
  act?: Record<string, unknown>;
  [claim: string]: unknown;
}

/** A JSON Web Key Set: `{ "keys": [...] }` (only OKP/Ed25519 public keys are used). */
export interface JSONWebKeySet {
  keys: Array<Record<string, unknown>>;
}

/** The JWKS cache policy, in seconds (the core's `CacheConfig`). */
export interface JwksCacheConfig {
  /** Freshness without a usable `Cache-Control: max-age` (600). */
  defaultTtl: number;
  /** Lower clamp of `max-age` (60). */
  minTtl: number;
  /** Upper clamp of `max-age` (86400). */
  maxTtl: number;
  /** Minimum time between two fetch attempts, e.g. for unknown `kid`s (30). */
  cooldown: number;
  /** How long past freshness the last good set is served while fetches fail (86400). */
  maxStale: number;
}

/** What a token must satisfy besides a valid signature. */
export interface PolicyOptions {
  /** Accepted `iss` values (exact match); required. */
  issuer: string | string[];
  /** When set, `aud` must contain one of these. */
  audience?: string | string[];
  /** Clock skew tolerance in seconds (default 60, capped at 300). */
  clockTolerance?: number;
  /** Claims that must be present (default `["exp", "iss", "sub"]`; `iss` is always checked). */
  requiredClaims?: string[];
  /** Longest accepted token in bytes (default 8192). */
  maxTokenLength?: number;
  /** Maximum age of a token in seconds, from its `iat` (then required); default: none. */
  maxTokenAge?: number;
  /** Required `typ` header (default: absent or `JWT`). */
  typ?: string;
}

/** Options with a key set given inline. */
export interface LocalJwksOptions extends PolicyOptions {
  /** The key set, as an object or JSON text. */
  jwks: JSONWebKeySet | string;
  jwksUrl?: never;
}

/** Options with a key set fetched and cached in memory. */
export interface RemoteJwksOptions extends PolicyOptions {
  /**
   * Where the key set is fetched from (fetched with a 5 s timeout, at most 64 KiB): https,
   * or plain http only to a loopback host (127.0.0.0/8, ::1, localhost); else a TypeError.
   */
  jwksUrl: string | URL;
  jwks?: never;
  /** The `fetch` to use (default: `globalThis.fetch`). */
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
  /** The JWKS cache's clock, in milliseconds (default `Date.now`; a non-finite reading is a TypeError); `currentDate` does not move it. */
  now?: () => number;
  /** Timeout of one JWKS fetch, in milliseconds (default 5000). */
  timeoutMs?: number;
  /** Overrides of the cache policy (defaults: `DEFAULT_CACHE_CONFIG`). */
  cacheConfig?: Partial<JwksCacheConfig>;
}

export type VerifierOptions = LocalJwksOptions | RemoteJwksOptions;

export interface VerifyOptions {
  /** The time to check `exp`/`nbf`/`iat` against (default: now); an invalid Date is a TypeError. */
  currentDate?: Date;
}

export interface TokenVerifier {
  /**
   * Verifies a bare JWT or an `Authorization` header value (`Bearer <jwt>`); `undefined`,
   * `null` or `""` rejects with `missing_token`.
   */
  verify<T extends Claims = Claims>(tokenOrAuthorizationHeader: string | null | undefined, options?: VerifyOptions): Promise<T>;
  /** How many JWKS fetches were started (remote key sets only). */
  readonly jwksFetches?: number;
}

/** A verifier for one issuer; keys inline (`jwks`) or fetched and cached (`jwksUrl`). */
export function createVerifier(options: VerifierOptions): TokenVerifier;

/**
 * One-shot `createVerifier(options).verify(tokenOrHeader, options)`; verifiers (and so JWKS
 * caches) are reused across calls with equal options.
 */
export function verifyToken<T extends Claims = Claims>(
  authorizationHeaderOrToken: string | null | undefined,
  options: VerifierOptions & VerifyOptions,
): Promise<T>;

/** Every stable error code (the core's table), in documentation order. */
export function errorCodes(): CoreErrorCode[];

/** Largest JWKS document accepted, in bytes (65536). */
export const MAX_JWKS_BYTES: number;
/** Timeout of one JWKS fetch, in milliseconds (5000). */
export const JWKS_FETCH_TIMEOUT_MS: number;
/** The JWKS cache policy's defaults. */
export const DEFAULT_CACHE_CONFIG: Readonly<JwksCacheConfig>;

/** A decision of the JWKS cache policy. */
export type JwksLookup =
  | { kind: "use" }
  | { kind: "revalidate" }
  | { kind: "fetch" }
  | { kind: "unavailable"; retryAfter: number };

/** The JWKS cache policy as a state machine without I/O (the core's `JwksCache`). */
export class JwksCachePolicy<T = unknown> {
  constructor(config?: Partial<JwksCacheConfig>);
  readonly config: JwksCacheConfig;
  /** Decides how to get keys at `now` (seconds) for a token whose key is (not) known. */
  lookup(knowsKid: boolean, now: number): JwksLookup;
  /** Records that a fetch starts now (starts the cooldown, whatever the outcome). */
  beginFetch(now: number): void;
  /** Stores a fetched value, fresh for `maxAge` (clamped; default when undefined). */
  onFetchOk(value: T, maxAge: number | undefined, now: number): void;
  /** Freshness for a `max-age`, clamped to the policy's bounds. */
  ttl(maxAge: number | undefined): number;
  /** The cached value, whatever its age. */
  readonly value: T | undefined;
}

/** `x-torii-edge-assertion`: the header the edge signs every forwarded request with. */
export const EDGE_ASSERTION_HEADER: "x-torii-edge-assertion";
/** `x-torii-claims`: the verified claims as base64url JSON, bound by the assertion. */
export const CLAIMS_HEADER: "x-torii-claims";
/**
 * The identity headers the edge forwards and its assertion binds (`ihash`), in canonical
 * order: `x-torii-user-id`, `-session-id`, `-tenant-id`, `-issuer`, `-org-id`, `-org-role`,
 * `-aal`, `-claims`. `verifyEdgeAssertion` checks all of them.
 */
export const IDENTITY_HEADERS: readonly string[];

/** Where edge assertions come from and who they are for. */
export interface EdgeAssertionOptions {
  /** The tenant's issuer (the edge's URL, as in its tokens' `iss`); required. */
  issuer: string;
  /**
   * This origin, as the edge's `ORIGIN_URL` names it: `scheme://host[:port]` (a path or
   * query is refused). The assertion's `aud`, and the base of the bound URL.
   */
  audience: string | URL;
  /** The tenant's key set inline... */
  jwks?: JSONWebKeySet | string;
  /** ...or fetched and cached (default `${issuer}/_torii/.well-known/jwks.json`). */
  jwksUrl?: string | URL;
  fetch?: RemoteJwksOptions["fetch"];
  now?: RemoteJwksOptions["now"];
  timeoutMs?: number;
  cacheConfig?: Partial<JwksCacheConfig>;
}

/** What identifies the request when the first argument does not (or to override it). */
export interface EdgeRequestOptions extends VerifyOptions {
  /**
   * The full URL the origin received. Default: the `audience` origin + the request's path
   * and query (`IncomingMessage.url`, or the path and query of `Request.url`), which is how
   * the edge builds it (`ORIGIN_URL` + forwarded path), whatever host the origin sees.
   */
  url?: string | URL;
  /** The request method (default: the request's). */
  method?: string;
}

/** A Fetch `Request`, a Node `http.IncomingMessage` (anything with `method`, `url`, `headers`), or headers alone. */
export type EdgeRequest =
  | { method: string; url: string; headers: Headers | Record<string, string | string[] | undefined> }
  | Headers
  | Record<string, string | string[] | undefined>;

export interface EdgeAssertionVerifier {
  /**
   * Checks `x-torii-edge-assertion` (EdDSA signature against the tenant JWKS, `typ`
   * `torii-edge-assertion+jwt`, issuer, audience, at most 60 s old) and its binding to the
   * method, the URL and `x-torii-claims`. Resolves to the claims the edge verified (the
   * decoded `x-torii-claims`), or `null` for a request the edge forwarded without a token.
   */
  verify<T extends Claims = Claims>(request: EdgeRequest, options?: EdgeRequestOptions): Promise<T | null>;
  readonly jwksFetches?: number;
}

/** A verifier of edge assertions for one origin. */
export function createEdgeAssertionVerifier(options: EdgeAssertionOptions): EdgeAssertionVerifier;

/** One-shot form of `createEdgeAssertionVerifier(options).verify(request, options)` (verifiers are reused). */
export function verifyEdgeAssertion<T extends Claims = Claims>(
  request: EdgeRequest,
  options: EdgeAssertionOptions & EdgeRequestOptions,
): Promise<T | null>;

/** A JWT template: JSON text (checked byte for byte: size, duplicate keys) or an object. */
export type JwtTemplate = string | Record<string, unknown>;

/** A user as templates see it (camelCase spellings are accepted too). */
export interface TemplateUser {
  /** 1..64 printable ASCII bytes, no quotes or backslashes. */
  id: string;
  email?: string | null;
  email_verified?: boolean;
  first_name?: string | null;
  last_name?: string | null;
  /** Explicit full name (default: first and last joined by a space). */
  name?: string | null;
  /** ≤ 512 bytes as compact JSON, ≤ 8 levels deep (each bag). */
  public_metadata?: Record<string, unknown>;
  unsafe_metadata?: Record<string, unknown>;
  /** Never reaches a token. */
  private_metadata?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface TemplateOptions {
  /** Budget for the worst-case size of the rendered claims, in bytes (default 1200). */
  budget?: number;
}

export type TemplateValidation =
  | { valid: true; /** Worst-case compact-JSON size of the rendered claims, in bytes. */ worstCaseSize: number }
  | { valid: false; /** `code` is a TemplateErrorCode; `pointer` locates it. */ error: ToriiError };

/** Validates a template as the edge does when it is saved (plus `lifetime`, 30..86400 s, when given). */
export function validateTemplate(template: JwtTemplate, options?: TemplateOptions & { lifetime?: number }): TemplateValidation;

/** The custom claims the edge would mint for `user`; throws a ToriiError (template or user code). */
export function renderTemplate(template: JwtTemplate, user: TemplateUser, options?: TemplateOptions): Record<string, unknown>;

/** `/.well-known/openid-configuration`. */
export const DISCOVERY_PATH: string;
/** `/_torii/auth/session/token`. */
export const TOKEN_PATH: string;
/** 30: cached tokens are handed out until this many seconds before they expire. */
export const TOKEN_REFRESH_MARGIN_SECS: number;
/** 10000: timeout of one token request, in milliseconds. */
export const REQUEST_TIMEOUT_MS: number;

export interface ServerClientOptions extends Omit<PolicyOptions, "issuer"> {
  /** The edge's URL for this application (no query): https, or http only to a loopback host. */
  baseUrl: string | URL;
  /** The publishable application id, sent as `x-application-id`. */
  applicationId: string;
  /** Secret key (`sk_test_…`/`sk_live_…`): only sent by the Backend API calls; verification works without it. */
  apiKey?: string;
  fetch?: RemoteJwksOptions["fetch"];
  now?: RemoteJwksOptions["now"];
  /** Timeout of one request: discovery/JWKS (default 5000) and Backend API calls (default 10000), in ms. */
  timeoutMs?: number;
  cacheConfig?: Partial<JwksCacheConfig>;
}

// ------------------------------------------------------------------ Backend API (/v1)

/** 1048576: the largest Backend API response read, in bytes. */
export const MAX_API_RESPONSE_BYTES: number;

/** An API key scope (`admin` holds every other). */
export type Scope =
  | "admin"
  | "users:read"
  | "users:write"
  | "sessions:read"
  | "sessions:write"
  | "templates:read"
  | "templates:write"
  | "api_keys:read"
  | "api_keys:write"
  | "signing_keys:read"
  | "signing_keys:write";

export type Metadata = Record<string, unknown>;

/** A user, as the Backend API returns it (times: seconds since the epoch). */
export interface User {
  id: string;
  email: string | null;
  email_verified: boolean;
  first_name: string | null;
  last_name: string | null;
  public_metadata: Metadata;
  private_metadata: Metadata;
  unsafe_metadata: Metadata;
  created_at: number;
  updated_at: number;
}

export interface Session {
  id: string;
  user_id: string;
  status: "active" | "revoked" | "expired";
  aal: "aal1" | "aal2" | "aal3" | null;
  org_id: string | null;
  org_role: string | null;
  /** The `act` claim its tokens carry (impersonation), or `null`. */
  actor: ({ sub: string } & Record<string, unknown>) | null;
  created_at: number;
  expires_at: number;
}

export interface SessionToken {
  jwt: string;
  expires_at: number;
  template: string | null;
}

/** A saved JWT template, as the Backend API returns it. */
export interface StoredJwtTemplate {
  name: string;
  claims: Record<string, unknown>;
  lifetime: number | null;
  default: boolean;
  created_at: number;
  updated_at: number;
}

export interface JwtTemplatePreview {
  claims: Record<string, unknown>;
  lifetime: number | null;
}

/** A secret key as listed: never its secret. */
export interface ApiKey {
  id: string;
  name: string;
  scopes: Scope[];
  /** `sk_live_<key id>` / `sk_test_<key id>`. */
  prefix: string;
  last_four: string;
  /** `revoked` once `revoked_at` has passed, `expired` once `expires_at` has. */
  status: "active" | "revoked" | "expired";
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
  revoked_at: number | null;
}

/**
 * A key just created or rolled: `secret` is returned only here, once (`null` when the
 * call was an `Idempotency-Key` replay: the edge never stores a secret).
 */
export interface ApiKeyWithSecret extends ApiKey {
  secret: string | null;
}

export interface SigningKey {
  version: number;
  kid: string;
  state: "published" | "active" | "retiring" | "retired";
  published_at: number;
  signs_from: number;
  signs_until: number | null;
  jwk?: Record<string, unknown>;
}

/** A resource answered with an `ETag` (users, templates): `etag` is non-enumerable. */
export type Tagged<T> = T & { readonly etag?: string };

/** One page of a list; iterating it yields every item from this page on, following `next_cursor`. */
export interface Page<T> extends AsyncIterable<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

/** What a list method returns: the first page (await it) and an async iterable of every item. */
export type PagePromise<T> = Promise<Page<T>> & AsyncIterable<T>;

export interface ListOptions {
  /** 1 to 100 (default 20). */
  limit?: number;
  /** A `next_cursor` of this list. */
  startingAfter?: string;
}

export interface PostOptions {
  /** Sent as `Idempotency-Key` (default: a fresh `crypto.randomUUID()` per call). */
  idempotencyKey?: string;
}

export interface WriteOptions {
  /** Sent as `If-Match`: an `etag` read before, or `*`. */
  ifMatch?: string;
}

export interface CreateUserInput {
  id?: string | null;
  email?: string | null;
  email_verified?: boolean | null;
  first_name?: string | null;
  last_name?: string | null;
  public_metadata?: Metadata | null;
  private_metadata?: Metadata | null;
  unsafe_metadata?: Metadata | null;
}

export type UpdateUserInput = Omit<CreateUserInput, "id">;

export interface MetadataPatch {
  public_metadata?: Metadata | null;
  private_metadata?: Metadata | null;
  unsafe_metadata?: Metadata | null;
}

export interface CreateSessionInput {
  user_id: string;
  org_id?: string | null;
  org_role?: string | null;
  aal?: "aal1" | "aal2" | "aal3" | null;
  actor?: ({ sub: string } & Record<string, unknown>) | null;
  expires_in?: number | null;
}

export interface PutJwtTemplateInput {
  claims: Record<string, unknown>;
  lifetime?: number | null;
  default?: boolean | null;
}

export interface PreviewJwtTemplateInput {
  claims: Record<string, unknown>;
  lifetime?: number | null;
  user_id?: string | null;
  user?: CreateUserInput | null;
}

export interface CreateApiKeyInput {
  name: string;
  scopes: Scope[];
  expires_in?: number | null;
}

export interface RollApiKeyInput {
  expire_previous_in?: number | null;
}

export interface UsersApi {
  create(body?: CreateUserInput, options?: PostOptions): Promise<Tagged<User>>;
  list(options?: ListOptions & { email?: string }): PagePromise<User>;
  get(id: string): Promise<Tagged<User>>;
  update(id: string, body: UpdateUserInput, options?: WriteOptions): Promise<Tagged<User>>;
  updateMetadata(id: string, patch: MetadataPatch, options?: WriteOptions): Promise<Tagged<User>>;
  delete(id: string, options?: WriteOptions): Promise<void>;
  revokeSessions(id: string, options?: PostOptions): Promise<{ revoked: number }>;
}

export interface SessionsApi {
  create(body: CreateSessionInput, options?: PostOptions): Promise<{ session: Session; token: SessionToken }>;
  list(options?: ListOptions & { userId?: string; status?: Session["status"] }): PagePromise<Session>;
  get(id: string): Promise<Session>;
  revoke(id: string, options?: PostOptions): Promise<Session>;
  revokeAllOfUser(userId: string, options?: PostOptions): Promise<{ revoked: number }>;
  createToken(id: string, options?: PostOptions & { template?: string }): Promise<SessionToken>;
}

export interface JwtTemplatesApi {
  put(name: string, body: PutJwtTemplateInput, options?: WriteOptions): Promise<Tagged<StoredJwtTemplate>>;
  get(name: string): Promise<Tagged<StoredJwtTemplate>>;
  list(options?: ListOptions): PagePromise<StoredJwtTemplate>;
  delete(name: string, options?: WriteOptions): Promise<void>;
  preview(body: PreviewJwtTemplateInput, options?: PostOptions): Promise<JwtTemplatePreview>;
}

export interface ApiKeysApi {
  create(body: CreateApiKeyInput, options?: PostOptions): Promise<ApiKeyWithSecret>;
  list(options?: ListOptions): PagePromise<ApiKey>;
  get(id: string): Promise<ApiKey>;
  roll(id: string, body?: RollApiKeyInput, options?: PostOptions): Promise<ApiKeyWithSecret>;
  revoke(id: string, options?: PostOptions): Promise<ApiKey>;
}

export interface SigningKeysApi {
  list(): PagePromise<SigningKey>;
  rotate(options?: PostOptions): Promise<SigningKey>;
}

export interface ServerClient {
  readonly baseUrl: string;
  readonly applicationId: string;
  /**
   * Verifies an end-user token locally: the issuer and JWKS come from the discovery
   * document (fetched once), the JWKS is cached as `createVerifier` caches it.
   */
  verifyToken<T extends Claims = Claims>(authorizationHeader: string | null | undefined, options?: VerifyOptions): Promise<T>;
  /**
   * The Backend API (`/v1`), with `apiKey` as Bearer and `x-application-id`. Rejects with a
   * ToriiError carrying the server's `code`, `status`, `field`, `pointer` and `requestId`
   * (`internal_error`, status 502, for a failed, timed-out, oversized or non-JSON answer),
   * or a TypeError for a bad argument or a missing `apiKey`.
   */
  readonly users: UsersApi;
  readonly sessions: SessionsApi;
  readonly jwtTemplates: JwtTemplatesApi;
  readonly apiKeys: ApiKeysApi;
  readonly signingKeys: SigningKeysApi;
  /** A management request below `baseUrl` with `x-application-id` and the API key as Bearer. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** Discovery and JWKS fetches started so far. */
  readonly fetches: { discovery: number; jwks: number };
}

/** The server SDK shape (`IdentraServer`): local verification of end-user tokens, and the Backend API. */
export function createServerClient(options: ServerClientOptions): ServerClient;

export interface TokenClientOptions {
  /** The edge's URL (no query). */
  baseUrl: string | URL;
  /** The current session token (null/undefined/"" when signed out). */
  getSessionToken: () => string | null | undefined | Promise<string | null | undefined>;
  /** Sent as `x-application-id` when given. */
  applicationId?: string;
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
  /** Clock for the cache, in milliseconds (default `Date.now`). */
  now?: () => number;
  /** Timeout of one request, in milliseconds (default 10000). */
  timeoutMs?: number;
}

export interface TokenClient {
  /**
   * A session token (no `template`) or a token minted from the named template. Cached per
   * template until ~30 s before `expiresAt`; one request in flight per template. `null`
   * when the template does not exist, the session has ended (401) or there is no session.
   */
  getToken(options?: { template?: string }): Promise<string | null>;
  /** Forgets every cached token. */
  clear(): void;
  /** Token requests sent so far. */
  readonly requests: number;
}

/** `getToken({ template })` over the edge's token endpoint. */
export function createTokenClient(options: TokenClientOptions): TokenClient;
