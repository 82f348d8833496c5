//! No code outside the table: every source file under `src/`, `js/src/` and `dashboard/src/`
//! is scanned for string literals in the places codes are written, and each must be in
//! `ALL_CODES` (with the table's status, when a literal status sits next to it).
//!
//! The shapes, after collapsing whitespace (so calls split over lines match too):
//! * Rust: `Reply::error(<status>, "x"`, `error_reply(<status>, "x"`, `coded_error("x"`,
//!   `"code": "x"` (JSON), `code: "x"`, `.code(), "x"` (assertions), `code() == "x"`,
//!   `error_description=\"x\"` (`WWW-Authenticate`), and `=> "x"` inside a `fn code(` body;
//! * JS: `new ToriiError("x"`, `code: "x"`, `code === "x"`, `code !== "x"`.
//!
//! Not codes, so not scanned: the RFC 6750 `error="invalid_token"` value of
//! `WWW-Authenticate` (its vocabulary is the RFC's) and log fields such as `decision`.

use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Files under `dir` ending in one of `exts`, recursively, sorted.
fn sources(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .is_some_and(|x| exts.iter().any(|e| x == *e))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// One code found in a source: the literal, and the literal status next to it, if any.
#[derive(Debug, PartialEq, Eq)]
struct Found {
    code: String,
    status: Option<u16>,
}

/// Whitespace runs become one space.
fn squash(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out
}

/// The quoted literal at the start of `s` (after spaces): `"x"`, `'x'` or `\"x\"`.
fn literal(s: &str) -> Option<String> {
    let s = s.trim_start();
    let (open, close) = if s.starts_with("\\\"") {
        ("\\\"", "\\\"")
    } else if s.starts_with('"') {
        ("\"", "\"")
    } else if s.starts_with('\'') {
        ("'", "'")
    } else {
        return None;
    };
    let rest = &s[open.len()..];
    let end = rest.find(close)?;
    let text = &rest[..end];
    // A format placeholder (`"{code}"`) is filled from a code value, not a literal code.
    (!text.starts_with('{')).then(|| text.to_string())
}

/// Skips one call argument (up to the next `,` at depth 0); returns it and the rest.
fn skip_arg(s: &str) -> Option<(&str, &str)> {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
            }
            ',' if depth == 0 => return Some((&s[..i], &s[i + 1..])),
            _ => {}
        }
    }
    None
}

/// The body of the item starting at `s` (from its first `{` to the matching `}`).
fn body(s: &str) -> &str {
    let Some(open) = s.find('{') else { return "" };
    let mut depth = 0;
    for (i, c) in s[open..].char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return &s[open..open + i];
                }
            }
            _ => {}
        }
    }
    &s[open..]
}

/// Every code written in `text` in one of the shapes of the module docs.
fn scan(text: &str) -> Vec<Found> {
    let s = squash(text);
    let mut found = Vec::new();
    let each = |pattern: &str, f: &mut dyn FnMut(&str)| {
        let mut from = 0;
        while let Some(i) = s[from..].find(pattern) {
            let start = from + i;
            let at = start + pattern.len();
            // `typeof x.code === "string"` compares a type name, not a code.
            let before = &s[..start];
            let operand = before.rfind(' ').map_or(0, |j| j + 1);
            if !before[..operand].ends_with("typeof ") {
                f(&s[at..]);
            }
            from = at;
        }
    };
    // Calls with the status first.
    for call in ["Reply::error(", "error_reply("] {
        each(call, &mut |rest| {
            if let Some((status, rest)) = skip_arg(rest) {
                if let Some(code) = literal(rest) {
                    let status = status.trim().parse().ok();
                    found.push(Found { code, status });
                }
            }
        });
    }
    // A literal right after the pattern.
    for pattern in [
        "coded_error(",
        "new ToriiError(",
        "\"code\":",
        "code:",
        ".code(),",
        "code() ==",
        "code ===",
        "code !==",
        "error_description=",
    ] {
        each(pattern, &mut |rest| {
            if let Some(code) = literal(rest) {
                found.push(Found { code, status: None });
            }
        });
    }
    // Match arms returning literals in `fn code(` bodies.
    each("fn code(", &mut |rest| {
        for arm in body(rest).split("=> ").skip(1) {
            if let Some(code) = literal(arm) {
                found.push(Found { code, status: None });
            }
        }
    });
    found
}

/// Every file under src/ (`.rs`), js/src/ and dashboard/src/ (`.mjs`, `.js`) with its findings.
fn scan_sources() -> Vec<(String, Vec<Found>)> {
    let mut files = sources(&root().join("src"), &["rs"]);
    files.extend(sources(&root().join("js/src"), &["mjs", "js"]));
    files.extend(sources(&root().join("dashboard/src"), &["mjs", "js"]));
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.strip_prefix(root()).unwrap().display().to_string();
            (name, scan(&text))
        })
        .collect()
}

/// Why a finding is not in the table (or has another status), if it is not.
fn problem(found: &Found) -> Option<String> {
    let Some(code) = torii_edge::ErrorCode::from_code(&found.code) else {
        return Some(format!("`{}` is not in ALL_CODES", found.code));
    };
    match found.status {
        Some(status) if status != code.http_status() => Some(format!(
            "`{}` with status {status}; the table says {}",
            found.code,
            code.http_status()
        )),
        _ => None,
    }
}

#[test]
fn every_code_written_in_the_sources_is_in_the_table() {
    let mut problems = Vec::new();
    let mut total = 0;
    for (file, found) in scan_sources() {
        total += found.len();
        for f in &found {
            if let Some(p) = problem(f) {
                problems.push(format!("{file}: {p}"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "codes outside the table (add them to ErrorCode in src/error.rs):\n{}",
        problems.join("\n")
    );
    // The scanner sees the sources' codes at all (it is not vacuously green).
    assert!(total >= 10, "only {total} codes found");
}

#[test]
fn the_scanner_sees_the_codes_of_each_adapter() {
    let all = scan_sources();
    let codes_in = |file: &str| -> Vec<String> {
        all.iter()
            .find(|(f, _)| f == file)
            .unwrap_or_else(|| panic!("{file} not scanned"))
            .1
            .iter()
            .map(|f| f.code.clone())
            .collect()
    };
    let lib = codes_in("js/src/lib.mjs");
    assert!(lib.iter().any(|c| c == "jwks_fetch_failed"), "{lib:?}");
    let clients = codes_in("js/src/clients.mjs");
    assert!(
        clients.iter().any(|c| c == "token_request_failed"),
        "{clients:?}"
    );
    // The Worker writes no code string at all: its replies take `ErrorCode`s.
    let worker: Vec<&(String, Vec<Found>)> = all
        .iter()
        .filter(|(f, found)| f.starts_with("src/worker/") && !found.is_empty())
        .collect();
    assert!(worker.is_empty(), "code strings in the Worker: {worker:?}");
}

#[test]
fn the_scanner_finds_a_planted_unknown_code_in_every_shape() {
    let planted = [
        "Reply::error(418, \"planted_code\", \"m\")",
        "error_reply(\n    500,\n    \"planted_code\",\n    \"m\",\n)",
        "coded_error(\"planted_code\", \"m\")",
        "json!({ \"code\": \"planted_code\", \"message\": m })",
        "Found { code: \"planted_code\" }",
        "assert_eq!(e.code(), \"planted_code\");",
        "if e.code() == \"planted_code\" {}",
        "format!(\"error_description=\\\"planted_code\\\"\")",
        "pub const fn code(&self) -> &'static str {\n    match self {\n        Self::A => \"planted_code\",\n    }\n}",
        "throw new ToriiError(\"planted_code\", `x`);",
        "throw new ToriiError('planted_code', 'x');",
        "return json(500, { code: \"planted_code\" });",
        "if (res.json?.code === \"planted_code\") return null;",
        "if (e.code !== \"planted_code\") throw e;",
    ];
    for text in planted {
        let found = scan(text);
        assert_eq!(found.len(), 1, "{text}: {found:?}");
        assert_eq!(found[0].code, "planted_code", "{text}");
        assert_eq!(
            problem(&found[0]).as_deref(),
            Some("`planted_code` is not in ALL_CODES"),
            "{text}"
        );
    }
    // A known code with another status than the table's is caught too.
    let found = scan("Reply::error(400, \"not_found\", \"m\")");
    assert_eq!(
        found,
        [Found {
            code: "not_found".into(),
            status: Some(400)
        }]
    );
    assert!(problem(&found[0]).unwrap().contains("the table says 404"));
    // Known codes, and text that is not a code position, pass.
    for text in [
        "Reply::error(404, \"not_found\", \"m\")",
        "Reply::from_code(ErrorCode::NotFound, \"no route\")",
        "www_authenticate(realm, Some((\"invalid_token\", code.as_str())))",
        "if (e && typeof e.code === \"string\") {}",
        "format!(\"error_description=\\\"{code}\\\"\")",
        "line.decision = \"origin_unreachable\";",
        "Self::Public => \"public_metadata\",",
    ] {
        assert!(scan(text).iter().all(|f| problem(f).is_none()), "{text}");
    }
}
