//! The README's error-code table is generated from the code table: this test fails when
//! they drift apart, and prints the table to paste.

#[test]
fn readme_lists_every_error_code_with_its_cause_and_status() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let mut table = String::from("| code | HTTP | cause |\n|---|---|---|\n");
    for c in torii_edge::ALL_CODES {
        table.push_str(&format!(
            "| `{}` | {} | {} |\n",
            c.as_str(),
            c.http_status(),
            c.description()
        ));
    }
    assert!(
        readme.contains(&table),
        "README.md must contain this exact table:\n\n{table}"
    );
}

#[test]
fn readme_opens_with_the_two_commands() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let first_block = readme.split("```").nth(1).unwrap();
    let commands: Vec<&str> = first_block
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(commands, ["make dev", "make test"]);
}
