// Checks Backend API responses against the OpenAPI document (GET /v1/openapi.json, built
// by src/api/openapi/) with a real JSON Schema validator: ajv, draft 2020-12 (the
// dialect of OpenAPI 3.1), strict mode.
//
//   import { checkResponse, coreDocument } from "./openapi-check.mjs";
//   const doc = await (await fetch(`${base}/v1/openapi.json`)).json(); // or coreDocument()
//   checkResponse(doc, "GET", "/v1/users/user_1", res.status, await res.json());
//
// checkResponse throws an Error naming the operation, the status and every mismatch;
// validateResponse returns { valid, errors, operationId } instead.
import { execFileSync } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv2020Module from "ajv/dist/2020.js";

const Ajv2020 = Ajv2020Module.default ?? Ajv2020Module;
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const COMPONENTS_ID = "urn:torii-edge:openapi:components";
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

let core;
/** The document as the core builds it (`cargo run --example openapi`), parsed; cached. */
export function coreDocument() {
  if (!core) {
    execFileSync("cargo", ["build", "--quiet", "--locked", "--example", "openapi"], { cwd: root, stdio: "inherit" });
    const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, "target");
    const text = execFileSync(join(targetDir, "debug", "examples", "openapi"), { encoding: "utf8", maxBuffer: 16 << 20 });
    core = JSON.parse(text);
  }
  return structuredClone(core);
}

/** `value` with every `#/components/schemas/X` reference pointing into the ajv resource. */
function rewriteRefs(value) {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === "$ref" && typeof v === "string" && v.startsWith("#/components/schemas/")) {
        out[k] = `${COMPONENTS_ID}#/$defs/${v.slice("#/components/schemas/".length)}`;
      } else {
        out[k] = rewriteRefs(v);
      }
    }
    return out;
  }
  return value;
}

function resolve(doc, node) {
  for (let i = 0; node && typeof node.$ref === "string" && i < 8; i++) {
    if (!node.$ref.startsWith("#/")) throw new Error(`openapi-check: only local refs: ${node.$ref}`);
    node = node.$ref
      .slice(2)
      .split("/")
      .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
      .reduce((n, key) => n?.[key], doc);
  }
  if (node === undefined) throw new Error("openapi-check: dangling $ref");
  return node;
}

const compiled = new WeakMap();

/**
 * Compiles every component schema of `doc` (strict: an unknown keyword, a bad pattern or
 * a dangling reference throws) and returns the checker state; cached per document.
 */
export function compileDocument(doc) {
  let state = compiled.get(doc);
  if (state) return state;
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  const defs = rewriteRefs(doc.components?.schemas ?? {});
  ajv.addSchema({ $id: COMPONENTS_ID, $defs: defs });
  for (const name of Object.keys(defs)) ajv.getSchema(`${COMPONENTS_ID}#/$defs/${name}`);
  state = { ajv, validators: new Map() };
  compiled.set(doc, state);
  return state;
}

/** The path template of `doc` that `path` (a template or a concrete path; a query is ignored) is. */
export function matchPath(doc, path) {
  const bare = String(path).split("?")[0];
  if (doc.paths[bare]) return bare;
  const segs = bare.split("/");
  let best = null;
  let bestLiterals = -1;
  for (const template of Object.keys(doc.paths)) {
    const t = template.split("/");
    if (t.length !== segs.length) continue;
    let literals = 0;
    const ok = t.every((part, i) => {
      if (/^\{[^}]+\}$/.test(part)) return segs[i] !== "";
      literals += 1;
      return part === segs[i];
    });
    if (ok && literals > bestLiterals) {
      best = template;
      bestLiterals = literals;
    }
  }
  return best;
}

/** Validates one response: `{ valid, errors, operationId }` (errors: strings). */
export function validateResponse(doc, method, path, status, body) {
  const m = String(method).toLowerCase();
  if (!METHODS.includes(m)) return { valid: false, errors: [`unknown method ${method}`] };
  const template = matchPath(doc, path);
  const operation = template && doc.paths[template][m];
  if (!operation) return { valid: false, errors: [`no operation ${method.toUpperCase()} ${path} in the document`] };
  const operationId = operation.operationId;
  const code = String(status);
  const responses = operation.responses ?? {};
  const declared = responses[code] ?? responses[`${code[0]}XX`] ?? responses.default;
  if (!declared) return { valid: false, operationId, errors: [`${operationId}: status ${code} is not documented`] };
  const response = resolve(doc, declared);
  const schema = response.content?.["application/json"]?.schema;
  let value = body;
  if (typeof value === "string" || value instanceof Uint8Array) {
    const text = typeof value === "string" ? value : new TextDecoder().decode(value);
    if (text === "") value = undefined;
    else {
      try {
        value = JSON.parse(text);
      } catch {
        return { valid: false, operationId, errors: [`${operationId} ${code}: the body is not JSON`] };
      }
    }
  }
  if (!schema) {
    const empty = value === undefined || value === null;
    return empty ? { valid: true, operationId, errors: [] } : { valid: false, operationId, errors: [`${operationId} ${code}: no body is documented, got one`] };
  }
  if (value === undefined) return { valid: false, operationId, errors: [`${operationId} ${code}: a body is documented, got none`] };
  const state = compileDocument(doc);
  const key = `${m} ${template} ${code}`;
  let validate = state.validators.get(key);
  if (!validate) {
    validate = state.ajv.compile(rewriteRefs(schema));
    state.validators.set(key, validate);
  }
  if (validate(value)) return { valid: true, operationId, errors: [] };
  const errors = validate.errors.map((e) => {
    const extra = e.keyword === "additionalProperties" ? ` (${e.params.additionalProperty})` : "";
    return `${e.instancePath || "/"} ${e.message}${extra}`;
  });
  return { valid: false, operationId, errors };
}

/** Throws unless `body` is what the document says `method path` answers with `status`. */
export function checkResponse(doc, method, path, status, body) {
  const result = validateResponse(doc, method, path, status, body);
  if (!result.valid) {
    const err = new Error(`${method.toUpperCase()} ${path} ${status} does not match the OpenAPI document:\n  ${result.errors.join("\n  ")}`);
    err.errors = result.errors;
    throw err;
  }
  return result.operationId;
}
