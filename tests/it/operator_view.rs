//! What an operator reads about a lead through the CLI: internationalised
//! domains in Unicode in the tables (punycode on the wire, in `--json`),
//! and why a lead has no draft (the draft job's skip reason), which the
//! TUI's draft tab shows from the same lead detail.

use crate::helpers::Cli;

#[test]
fn an_idn_lead_reads_in_unicode_and_its_missing_draft_says_why() {
    let cli = Cli::new();
    cli.campaign("c");
    cli.ok(&[
        "leads",
        "add",
        "-c",
        "c",
        "--website",
        "https://bäckerei-süß.example/",
    ]);
    let rows = cli.json(&["leads", "list", "-c", "c"]);
    let row = &rows[0];
    let ascii = row["domain"].as_str().unwrap();
    assert!(ascii.starts_with("xn--"), "the wire keeps punycode: {row}");
    let id = row["id"].as_str().unwrap().to_string();

    let table = cli.ok(&["leads", "list", "-c", "c"]);
    assert!(table.contains("bäckerei-süß.example"), "{table}");
    assert!(!table.contains(ascii), "no punycode for people:\n{table}");
    let shown = cli.ok(&["leads", "show", &id]);
    assert!(
        shown.contains("https://bäckerei-süß.example/"),
        "the website in Unicode:\n{shown}"
    );

    // The lead has no email address: the draft stage skips it and says so.
    let detail = cli.json(&["leads", "show", &id]);
    assert!(detail.get("no_draft_reason").is_none(), "{detail}");
    cli.json(&["run", "-c", "c", "--stages", "draft", "--wait"]);
    let detail = cli.json(&["leads", "show", &id]);
    let why = detail["no_draft_reason"].as_str().unwrap_or_default();
    assert!(
        why.contains("no email address"),
        "the skip reason is in the lead detail: {detail}"
    );
    let shown = cli.ok(&["leads", "show", &id]);
    assert!(shown.contains("no email address"), "{shown}");
}
