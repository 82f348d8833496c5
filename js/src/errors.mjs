// ToriiError, and the wasm core's coded errors turned into it.
import { httpStatus } from "../pkg/torii_edge.js";

/**
 * A verification failure; `code` is a stable snake_case code of the core's table
 * (src/error.rs `ALL_CODES`), `status` that table's HTTP status for it.
 */
export class ToriiError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {{ cause?: unknown, retryAfter?: number, pointer?: string, field?: string, requestId?: string, status?: number }} [options]
   *   `status`: the HTTP status a server answered with (default: the code table's).
   */
  constructor(code, message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ToriiError";
    this.code = code;
    this.status = options.status ?? (httpStatus(code) || 500);
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter;
    if (options.pointer !== undefined) this.pointer = options.pointer;
    if (options.field !== undefined) this.field = options.field;
    if (options.requestId !== undefined) this.requestId = options.requestId;
  }
}

/** A coded error thrown by the wasm core as a ToriiError (TypeErrors and others as they are). */
export function toToriiError(e) {
  if (e instanceof ToriiError) return e;
  if (e && typeof e.code === "string" && !(e instanceof TypeError)) {
    return new ToriiError(e.code, e.message, { pointer: e.pointer, field: e.field });
  }
  return e;
}
