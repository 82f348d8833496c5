//! Documentation checks: the README opens with the two commands, docs/errors.md's error-code
//! table is generated from the code table (this test fails when they drift apart, and prints
//! the table to paste), the committed OpenAPI document is the generated one, and every
//! relative link in README.md and docs/*.md resolves.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// README.md and every docs/*.md, sorted.
fn doc_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    files.sort();
    files.insert(0, root().join("README.md"));
    files
}

/// docs/errors.md's tables: one section per group, in `ALL_CODES` order.
fn error_tables() -> String {
    let mut sections = Vec::new();
    for group in torii_edge::ALL_GROUPS {
        let mut out = String::new();
        out.push_str(&format!(
            "### {}\n\n| code | HTTP | cause |\n|---|---|---|\n",
            group.title()
        ));
        for c in torii_edge::ALL_CODES.iter().filter(|c| c.group() == *group) {
            out.push_str(&format!(
                "| `{}` | {} | {} |\n",
                c.as_str(),
                c.http_status(),
                c.description()
            ));
        }
        sections.push(out);
    }
    sections.join("\n")
}

#[test]
fn error_codes_page_lists_every_error_code_with_its_cause_and_status() {
    let path = root().join("docs/errors.md");
    let page = read(&path);
    let tables = error_tables();
    // `TORII_BLESS=1 cargo test --test readme` rewrites the tables (everything from the
    // first group heading to the end of the page) from the code table.
    if std::env::var_os("TORII_BLESS").is_some() && !page.contains(&tables) {
        let first = torii_edge::ALL_GROUPS[0].title();
        let start = page.find(&format!("### {first}")).unwrap_or(page.len());
        std::fs::write(&path, format!("{}{tables}", &page[..start])).unwrap();
        return;
    }
    assert!(
        page.contains(&tables),
        "docs/errors.md must contain these exact tables (`TORII_BLESS=1 cargo test --test readme` writes them):\n\n{tables}"
    );
}

/// The Worker serves `torii_edge::api::openapi::DOCUMENT` (src/api/openapi/openapi.json,
/// committed): it must be exactly the document the core builds from its tables.
#[test]
fn the_served_openapi_document_is_the_generated_one() {
    let path = root().join("src/api/openapi/openapi.json");
    let generated = torii_edge::api::openapi::document();
    // `TORII_BLESS=1 cargo test --test readme` rewrites the file (rebuild to serve it).
    if std::env::var_os("TORII_BLESS").is_some() && read(&path) != generated {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    assert!(
        torii_edge::api::openapi::DOCUMENT == generated,
        "src/api/openapi/openapi.json is not the generated OpenAPI document: \
         `TORII_BLESS=1 cargo test --test readme` rewrites it"
    );
}

#[test]
fn the_code_table_is_ordered_by_group_token_codes_first() {
    let codes = torii_edge::ALL_CODES;
    assert_eq!(codes[0].group(), torii_edge::CodeGroup::Token);
    let order: Vec<_> = codes.iter().map(|c| c.group()).collect();
    let mut runs = order.clone();
    runs.dedup();
    assert_eq!(
        runs,
        torii_edge::ALL_GROUPS,
        "ALL_CODES must hold each group in one run, in ALL_GROUPS order"
    );
    let mut seen = HashSet::new();
    for c in codes {
        assert!(seen.insert(c.as_str()), "{} is listed twice", c.as_str());
        assert_eq!(torii_edge::ErrorCode::from_code(c.as_str()), Some(*c));
        assert!(c.description().ends_with('.'), "{}", c.as_str());
    }
}

#[test]
fn readme_opens_with_the_two_commands() {
    let readme = read(&root().join("README.md"));
    let first_block = readme.split("```").nth(1).unwrap();
    let commands: Vec<&str> = first_block
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(commands, ["make dev", "make test"]);
}

/// The text outside fenced code blocks.
fn prose(markdown: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// `prose` without inline code spans (which may span lines).
fn without_code_spans(prose: &str) -> String {
    let mut out = String::new();
    for (i, part) in prose.split('`').enumerate() {
        if i % 2 == 0 {
            out.push_str(part);
        }
    }
    out
}

/// GitHub's heading anchors: lower case, punctuation dropped, spaces to `-`, `-1`, `-2`...
/// for repeats.
fn anchors(markdown: &str) -> HashSet<String> {
    let mut seen = HashSet::new();
    for line in prose(markdown).lines() {
        let Some(text) = line.strip_prefix('#') else {
            continue;
        };
        let text = text.trim_start_matches('#');
        if !text.starts_with(' ') {
            continue;
        }
        let slug: String = text
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let mut candidate = slug.clone();
        let mut n = 0;
        while seen.contains(&candidate) {
            n += 1;
            candidate = format!("{slug}-{n}");
        }
        seen.insert(candidate);
    }
    seen
}

/// The targets of the inline links `[text](target)`.
fn link_targets(markdown: &str) -> Vec<String> {
    let text = without_code_spans(&prose(markdown));
    let mut targets = Vec::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        let end = rest.find(')').expect("unclosed link");
        targets.push(rest[..end].trim().to_string());
        rest = &rest[end..];
    }
    targets
}

#[test]
fn every_relative_link_in_the_docs_resolves() {
    let mut broken = Vec::new();
    for file in doc_files() {
        let name = file.strip_prefix(root()).unwrap().display().to_string();
        for target in link_targets(&read(&file)) {
            if target.starts_with("http://")
                || target.starts_with("https://")
                || target.starts_with("mailto:")
            {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (target.as_str(), None),
            };
            let resolved = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(path)
            };
            if !resolved.exists() {
                broken.push(format!("{name}: {target} (no such file)"));
                continue;
            }
            if let Some(anchor) = anchor {
                let is_md = resolved.extension().is_some_and(|x| x == "md");
                if is_md && !anchors(&read(&resolved)).contains(anchor) {
                    broken.push(format!("{name}: {target} (no such heading)"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_readme_links_every_docs_page() {
    let readme = read(&root().join("README.md"));
    let linked: HashSet<String> = link_targets(&readme)
        .into_iter()
        .map(|t| t.split('#').next().unwrap_or_default().to_string())
        .collect();
    for file in doc_files().into_iter().skip(1) {
        let page = format!("docs/{}", file.file_name().unwrap().to_string_lossy());
        assert!(linked.contains(&page), "README.md does not link {page}");
    }
}

#[test]
fn the_link_checker_sees_links_and_anchors() {
    let md =
        "# A `b`: c\n\n## A b c\n\n```sh\n[x](nope.md)\n```\n[y](docs/x.md#a-b-c-1) `[z](no)`\n";
    assert_eq!(link_targets(md), ["docs/x.md#a-b-c-1"]);
    let a = anchors(md);
    assert!(a.contains("a-b-c") && a.contains("a-b-c-1"), "{a:?}");
}

/// Every path the README's layout block names exists (indented names live in the folder
/// above them).
#[test]
fn readme_layout_names_real_paths() {
    let readme = read(&root().join("README.md"));
    let block = readme
        .split("## Layout")
        .nth(1)
        .and_then(|s| s.split("```text\n").nth(1))
        .and_then(|s| s.split("```").next())
        .expect("a ```text block under ## Layout");
    let mut parent = String::new();
    let mut checked = 0;
    for line in block.lines() {
        let indented = line.starts_with("  ");
        let first = line.split_whitespace().next().unwrap_or_default();
        if first.is_empty() || !(first.contains('.') || first.ends_with('/')) {
            continue;
        }
        for name in first.split(' ').filter(|n| !n.is_empty()) {
            let path = if indented {
                format!("{parent}{name}")
            } else {
                name.to_string()
            };
            assert!(
                root().join(&path).exists(),
                "README layout names {path}, which does not exist"
            );
            checked += 1;
        }
        if !indented && first.ends_with('/') {
            parent = first.to_string();
        }
    }
    assert!(checked >= 15, "only {checked} paths checked");
}

/// SECURITY.md names the tests that show each point: every test name it cites is a test
/// function in src/ or tests/, and every path it cites exists.
#[test]
fn security_page_cites_real_tests_and_files() {
    let page = read(&root().join("SECURITY.md"));
    let mut sources = String::new();
    let mut stack = vec![root().join("src"), root().join("tests")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "rs" || x == "mjs") {
                sources.push_str(&read(&path));
            }
        }
    }
    let mut cited = 0;
    for span in page.split('`').skip(1).step_by(2) {
        let is_test_name = span.split('_').count() >= 4
            && span
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if is_test_name {
            assert!(
                sources.contains(&format!("fn {span}(")),
                "SECURITY.md cites `{span}`, which is no test"
            );
            cited += 1;
        } else if span.starts_with("tests/")
            || span.starts_with("src/")
            || span.starts_with("docs/")
        {
            assert!(
                root().join(span).exists(),
                "SECURITY.md cites {span}, which does not exist"
            );
            cited += 1;
        }
    }
    assert!(cited >= 30, "only {cited} citations checked");
}
