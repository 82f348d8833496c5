// Where an RFC 6901 JSON pointer sits in JSON text: a small position-keeping JSON
// scanner for the editor's diagnostics (the core reports a pointer, the editor needs
// offsets). `locate(text)` returns `{ spans, error }`: `spans` maps each pointer to
// `{ from, to, keyFrom?, keyTo? }` (the value, and the member name when it is an object
// member); `error` is `{ pos, message }` for text that is not JSON (spans hold what was
// scanned before it).

/** One pointer segment, escaped (RFC 6901: `~` → `~0`, `/` → `~1`). */
export const escapeSegment = (s) => s.replaceAll("~", "~0").replaceAll("/", "~1");

export function locate(text) {
  const spans = new Map();
  let i = 0;
  const fail = (message) => {
    const e = new Error(message);
    e.pos = Math.min(i, text.length);
    throw e;
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const string = () => {
    if (text[i] !== '"') fail("expected a string");
    const start = i++;
    let out = "";
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\\") {
        const c = text[i + 1];
        const simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" }[c];
        if (simple !== undefined) {
          out += simple;
          i += 2;
        } else if (c === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else fail("invalid escape");
      } else if (text.charCodeAt(i) < 0x20) fail("control character in a string");
      else out += text[i++];
    }
    if (text[i] !== '"') fail("unterminated string");
    i++;
    return { value: out, from: start, to: i };
  };
  const value = (ptr, key) => {
    ws();
    const from = i;
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") i++;
      else {
        for (;;) {
          ws();
          const k = string();
          ws();
          if (text[i] !== ":") fail("expected `:`");
          i++;
          value(`${ptr}/${escapeSegment(k.value)}`, k);
          ws();
          if (text[i] === ",") i++;
          else if (text[i] === "}") {
            i++;
            break;
          } else fail("expected `,` or `}`");
        }
      }
    } else if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") i++;
      else {
        for (let n = 0; ; n++) {
          value(`${ptr}/${n}`);
          ws();
          if (text[i] === ",") i++;
          else if (text[i] === "]") {
            i++;
            break;
          } else fail("expected `,` or `]`");
        }
      }
    } else if (c === '"') string();
    else {
      const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
      if (!m) fail("expected a JSON value");
      i += m[0].length;
    }
    spans.set(ptr, key ? { from, to: i, keyFrom: key.from, keyTo: key.to } : { from, to: i });
  };
  try {
    value("");
    ws();
    if (i < text.length) fail("unexpected text after the JSON value");
    return { spans, error: null };
  } catch (e) {
    return { spans, error: { pos: e.pos ?? 0, message: e.message } };
  }
}

/** The range `[from, to)` to mark for `pointer` in `text`, or of the whole text. */
export function rangeOf(text, pointer, { key = false } = {}) {
  const { spans } = locate(text);
  const s = spans.get(pointer ?? "");
  if (!s || !pointer) return { from: 0, to: text.length };
  return key && s.keyFrom !== undefined ? { from: s.keyFrom, to: s.keyTo } : { from: s.from, to: s.to };
}

/** The shortcode fields a template may read (docs/templates.md). */
export const SHORTCODE_FIELDS = [
  "user.id",
  "user.email",
  "user.email_verified",
  "user.name",
  "user.first_name",
  "user.last_name",
  "user.public_metadata",
  "user.unsafe_metadata",
];

function distance(a, b) {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

/** The known shortcode nearest to an unknown one (`user.emial` → `user.email`), if close. */
export function didYouMean(shortcode) {
  const head = shortcode.split(".").slice(0, 2).join(".");
  let best = null;
  for (const f of SHORTCODE_FIELDS) {
    const d = distance(head, f);
    if (d <= 3 && (!best || d < best.d)) best = { f, d };
  }
  if (!best) return null;
  const rest = shortcode.split(".").slice(2);
  return best.f.endsWith("_metadata") && rest.length ? `${best.f}.${rest.join(".")}` : best.f;
}
