// Internal helpers shared by lib.mjs and clients.mjs (not re-exported by the entries).

/** Reads a response body as UTF-8 text, refusing more than `limit` bytes (declared or streamed). */
export async function readBody(response, limit) {
  const declared = Number(response.headers.get("content-length"));
  if (declared > limit) throw new Error(`the response is ${declared} bytes, more than ${limit}`);
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw new Error(`the response is more than ${limit} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

/** Extra time past a fetch's own timeout before its owner is presumed gone. */
const FLIGHT_GRACE_MS = 1000;

/**
 * One fetch at a time, shared by state and never by promise. Cloudflare Workers refuse to
 * let a request await I/O that another request started ("Cannot perform I/O on behalf of
 * a different request"), and cancel a request's I/O when it ends or its client goes away,
 * so a promise shared across requests can hang or fail every request that joined it. So:
 * the caller that fetches records a run here; a caller that needs the result waits for it
 * with its own timers (`wait`), polling plain state, then reads the shared cache. A run
 * whose owner never reports back (its request was cancelled) is abandoned after the
 * fetch's own timeout and may be taken over by one waiter.
 */
export class Flight {
  /** @param {number} timeoutMs the timeout of one fetch */
  constructor(timeoutMs) {
    this.limitMs = timeoutMs + FLIGHT_GRACE_MS;
    /** The latest run: `{ until, outcome }` (outcome: undefined while under way, then `{ error? }`). */
    this.latest = null;
  }

  /** The run under way whose owner may still finish it, or null. */
  active() {
    const run = this.latest;
    return run && run.outcome === undefined && Date.now() < run.until ? run : null;
  }

  /** Whether the latest run never reported back before its deadline. */
  abandoned() {
    const run = this.latest;
    return Boolean(run && run.outcome === undefined && Date.now() >= run.until);
  }

  /** Records that this caller starts a fetch; pass the run to `end`. */
  begin() {
    this.latest = { until: Date.now() + this.limitMs, outcome: undefined };
    return this.latest;
  }

  end(run, error) {
    run.outcome = error === undefined ? {} : { error };
  }

  /**
   * Waits, on this caller's own timers, until `run` has ended or is abandoned; resolves
   * to its outcome (undefined when abandoned).
   */
  async wait(run) {
    let step = 2;
    while (run.outcome === undefined && Date.now() < run.until) {
      await new Promise((resolve) => setTimeout(resolve, step));
      step = Math.min(step * 2, 50);
    }
    return run.outcome;
  }
}

/** Whether a URL's (WHATWG-normalized) hostname is loopback: 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackHost(hostname) {
  const host = hostname.toLowerCase();
  return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * `value` as a URL the package may fetch from (keys, discovery, tokens): https, or plain
 * http only to a loopback host (local development). Throws a TypeError naming `name`.
 */
export function fetchableUrl(value, name) {
  let url;
  try {
    url = new URL(String(value));
  } catch {
    throw new TypeError(`torii-edge: \`${name}\` must be an absolute URL`);
  }
  if (url.protocol === "https:") return url;
  if (url.protocol === "http:") {
    if (isLoopbackHost(url.hostname)) return url;
    throw new TypeError(`torii-edge: \`${name}\` must be an https URL (plain http only to a loopback host): ${url.origin}`);
  }
  throw new TypeError(`torii-edge: \`${name}\` must be an https URL`);
}
