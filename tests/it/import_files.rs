//! Importing well-formed and malformed files: each bad row is rejected with
//! its row number and reason, good rows still go in, and a bad file writes
//! nothing.

use serde_json::json;

use crate::helpers::{Cli, generated_csv};

fn import(cli: &Cli, name: &str, contents: impl AsRef<[u8]>) -> serde_json::Value {
    let path = cli.write(name, contents);
    cli.json(&["import", path.to_str().unwrap(), "--campaign", "c"])
}

fn import_fails(cli: &Cli, name: &str, contents: impl AsRef<[u8]>) -> String {
    let path = cli.write(name, contents);
    cli.fails(&["import", path.to_str().unwrap(), "--campaign", "c"])
}

fn lead_count(cli: &Cli) -> usize {
    cli.json(&["leads", "list", "-c", "c"])
        .as_array()
        .unwrap()
        .len()
}

fn the_json_summary_has_exactly_the_documented_shape(cli: Cli) {
    cli.campaign("c");
    let report = import(
        &cli,
        "leads.csv",
        "Company,URL,E-Mail\nA,a.example,a@a.example\nB,,\nA2,https://www.a.example/x,\nC,c.example,not-an-email\nD,d.example,\n",
    );
    assert_eq!(
        report,
        json!({
            "imported": 2,
            "duplicates": 1,
            "blacklisted": 0,
            "rejected": [
                {"row": 3, "reason": "no website"},
                {"row": 5, "reason": "invalid email: `not-an-email` is not a valid email address: it has no @"}
            ]
        })
    );
    let again = import(
        &cli,
        "leads.csv",
        std::fs::read(cli.path("leads.csv")).unwrap(),
    );
    assert_eq!(
        again["imported"], 0,
        "re-running the same import adds nothing"
    );
    assert_eq!(again["duplicates"], 3);
    assert_eq!(lead_count(&cli), 2);
}

fn delimiters_bom_quotes_and_aliases(cli: Cli) {
    cli.campaign("c");
    let semicolon = "\u{feff}Name;Website;Town;Industry;Notes\n\"Smith; Sons\";smith.example;Köln;plumber;\"line one\nline two\"\n";
    assert_eq!(import(&cli, "semi.csv", semicolon)["imported"], 1);
    let lead = cli.json(&["leads", "show", "smith.example"]);
    assert_eq!(lead["business_name"], "Smith; Sons");
    assert_eq!(lead["city"], "Köln");
    assert_eq!(lead["category"], "plumber");
    // Quoted line breaks are read, then flattened: every imported field
    // is one line, since templates put them in email bodies.
    assert_eq!(lead["attributes"]["Notes"], "line one line two");

    assert_eq!(
        import(
            &cli,
            "tab.tsv",
            "website\temail\ntab.example\tx@tab.example\n"
        )["imported"],
        1
    );
    assert_eq!(
        import(&cli, "pipe.csv", "site|tel\npipe.example|+49 30 123456\n")["imported"],
        1
    );
    assert_eq!(
        cli.json(&["leads", "show", "pipe.example"])["phone"],
        "+49 30 123456"
    );
}

fn other_encodings_are_read_and_named(cli: Cli) {
    cli.campaign("c");
    let latin1 = b"name,website\nB\xe4ckerei M\xfcller,mueller.example\n".to_vec();
    let path = cli.write("latin1.csv", &latin1);
    let human = cli.ok(&["import", path.to_str().unwrap(), "-c", "c"]);
    assert!(
        human.contains("not UTF-8; read it as windows-1252"),
        "{human}"
    );
    assert_eq!(
        cli.json(&["leads", "show", "mueller.example"])["business_name"],
        "Bäckerei Müller"
    );

    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(
            "website,name\nutf16.example,Zoë\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    assert_eq!(import(&cli, "utf16.csv", utf16)["imported"], 1);
    assert_eq!(
        cli.json(&["leads", "show", "utf16.example"])["business_name"],
        "Zoë"
    );
}

fn unreadable_files_are_clear_errors_and_write_nothing(cli: Cli) {
    cli.campaign("c");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.csv", Vec::new(), "the file is empty"),
        ("blank.csv", b"\n \n".to_vec(), "the file is empty"),
        (
            "header.csv",
            b"name,website\n".to_vec(),
            "the file has a header row but no data rows",
        ),
        (
            "binary.csv",
            vec![0u8, 159, 146, 150, 0, 1, 2, 3],
            "binary data",
        ),
        (
            "report.pdf",
            b"%PDF-1.7\n%...".to_vec(),
            "this is a PDF document",
        ),
        (
            "sheet.xlsx",
            b"PK\x03\x04rest".to_vec(),
            "save it as CSV first",
        ),
        (
            "nosite.csv",
            b"name,email\nA,a@a.example\n".to_vec(),
            "the header has no website column",
        ),
        (
            "dup.csv",
            b"website,email,Email\na.example,,\n".to_vec(),
            "column `Email` appears twice in the header (columns 2 and 3)",
        ),
        (
            "broken.json",
            b"[{\"website\": \"a.example\"".to_vec(),
            "not valid JSON",
        ),
    ];
    for (name, bytes, expected) in cases {
        let err = import_fails(&cli, name, bytes);
        assert!(err.contains(expected), "{name}: {err}");
        assert!(err.contains(name), "the error names the file: {err}");
    }
    assert_eq!(lead_count(&cli), 0);

    let path = cli.write("ok.csv", "website\na.example\n");
    let err = cli.fails(&["import", path.to_str().unwrap(), "-c", "missing"]);
    assert_eq!(
        err,
        "leadscout: no campaign `missing`; `leadscout campaign list` shows them"
    );
    let err = cli.fails(&[
        "import",
        cli.path("absent.csv").to_str().unwrap(),
        "-c",
        "c",
    ]);
    assert!(
        err.contains("cannot read") && err.contains("absent.csv"),
        "{err}"
    );
    assert_eq!(lead_count(&cli), 0);
}

fn malformed_rows_are_rejected_one_by_one(cli: Cli) {
    cli.campaign("c");
    let huge = "x".repeat(10 * 1024 * 1024);
    let text = format!(
        "name,website,notes\nGood,good.example,\nShort,short.example\nLong,long.example,a,b\nHuge,huge.example,{huge}\nAfter,after.example,\nOpen,\"open.example,\nNever,never.example,\n"
    );
    let report = import(&cli, "mixed.csv", text);
    assert_eq!(report["imported"], 2, "{report}");
    let rejected = report["rejected"].as_array().unwrap();
    let reasons: Vec<(u64, &str)> = rejected
        .iter()
        .map(|r| (r["row"].as_u64().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(reasons[0], (3, "the row has 2 fields, the header has 3"));
    assert_eq!(reasons[1], (4, "the row has 4 fields, the header has 3"));
    assert_eq!(reasons[2].0, 5);
    assert!(
        reasons[2].1.starts_with("field `notes` is 10485760 bytes"),
        "{}",
        reasons[2].1
    );
    assert_eq!(reasons[3].0, 7);
    assert!(reasons[3].1.contains("never closed"), "{}", reasons[3].1);
    let names: Vec<String> = cli
        .json(&["leads", "list", "-c", "c"])
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["business_name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["Good", "After"]);
}

fn json_and_json_lines_imports(cli: Cli) {
    cli.campaign("c");
    let array = r#"[{"business": "A", "website": "a.example", "rating": 4.5, "open": true}, {"website": "nope"}, "text"]"#;
    let report = import(&cli, "leads.json", array);
    assert_eq!(report["imported"], 1);
    assert_eq!(report["rejected"][0]["row"], 2);
    assert_eq!(
        report["rejected"][1],
        json!({"row": 3, "reason": "expected a JSON object, found a string"})
    );
    let a = cli.json(&["leads", "show", "a.example"]);
    assert_eq!(a["attributes"]["rating"], "4.5");
    assert_eq!(a["attributes"]["open"], "true");

    let lines =
        "{\"url\":\"b.example\"}\n{oops}\n\n{\"url\":\"c.example\",\"email\":\"x@c.example\"}\n";
    let report = import(&cli, "leads.jsonl", lines);
    assert_eq!(report["imported"], 2);
    assert_eq!(report["rejected"][0]["row"], 2);
}

fn blacklisted_rows_are_counted_not_stored_and_dry_run_writes_nothing(cli: Cli) {
    cli.campaign("c");
    cli.ok(&["blacklist", "add", "b.example"]);
    cli.ok(&["blacklist", "add", "owner@gmail.example"]);
    let csv = "website,email\na.example,\nb.example,\nc.example,owner@gmail.example\nd.example,\n";
    let path = cli.write("leads.csv", csv);
    let dry = cli.json(&["import", path.to_str().unwrap(), "-c", "c", "--dry-run"]);
    assert_eq!(
        dry,
        json!({"imported": 2, "duplicates": 0, "blacklisted": 2, "rejected": []})
    );
    assert_eq!(lead_count(&cli), 0);
    let real = cli.json(&["import", path.to_str().unwrap(), "-c", "c"]);
    assert_eq!(real, dry);
    assert_eq!(lead_count(&cli), 2);
}

fn a_large_import_matches_its_row_count_and_keeps_indexes_consistent(cli: Cli) {
    cli.campaign("c");
    let report = import(&cli, "big.csv", generated_csv(5_000));
    assert_eq!(report["imported"], 5_000);
    // Listing and exporting this many stream in many pieces when attached.
    assert_eq!(lead_count(&cli), 5_000);
    let csv = cli.ok(&["export", "--campaign", "c", "--format", "csv"]);
    assert_eq!(csv.lines().count(), 5_001, "a header and one line per lead");
    assert!(
        csv.lines().all(|l| l.split(',').count() >= 13),
        "no line split"
    );
    cli.stop_server();
    let store = leadscout::store::Store::open(&cli.data, "test").unwrap();
    assert_eq!(store.check_lead_indexes().unwrap(), Vec::<String>::new());
}

both_modes!(
    the_json_summary_has_exactly_the_documented_shape,
    delimiters_bom_quotes_and_aliases,
    other_encodings_are_read_and_named,
    unreadable_files_are_clear_errors_and_write_nothing,
    malformed_rows_are_rejected_one_by_one,
    json_and_json_lines_imports,
    blacklisted_rows_are_counted_not_stored_and_dry_run_writes_nothing,
    a_large_import_matches_its_row_count_and_keeps_indexes_consistent,
);
