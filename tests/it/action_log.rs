//! The action log and read-only mode, embedded and attached to `serve`:
//! every listed action appears exactly once with the OS user and the way
//! it came, and `--read-only` refuses each of them with a clear line,
//! changing nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::helpers::Cli;
use crate::smtp::SmtpServer;

fn os_user() -> String {
    let out = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The log's actions and how often each appears.
fn counts(cli: &Cli) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in cli.json(&["log"]).as_array().unwrap() {
        *out.entry(r["action"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    out
}

fn every_action_is_logged_once_and_read_only_refuses_it(attached: bool) {
    let smtp = SmtpServer::start(Duration::ZERO);
    let s = crate::outreach::setup(
        smtp.port,
        &[
            ("Alpha Bakery", "a@alpha.example"),
            ("Bravo Dental", "b@bravo.example"),
        ],
        &[],
    );
    let (a, b) = (
        s.leads["a@alpha.example"].clone(),
        s.leads["b@bravo.example"].clone(),
    );
    let cli = if attached { s.cli.attached() } else { s.cli };
    let text = cli.write("edit.txt", "Subject: Hello again\n\nA shorter note.\n");
    let actions: Vec<(&str, Vec<&str>)> = vec![
        (
            "settings_set",
            vec![
                "settings",
                "set",
                "report.cta_text",
                "Book a call",
                "-c",
                "c",
            ],
        ),
        (
            "settings_unset",
            vec!["settings", "unset", "report.cta_text", "-c", "c"],
        ),
        (
            "edit_draft",
            vec![
                "outreach",
                "edit",
                &b,
                "--from-file",
                text.to_str().unwrap(),
            ],
        ),
        ("reject", vec!["outreach", "reject", &b]),
        ("approve", vec!["outreach", "approve", &a]),
        (
            "blacklist_add",
            vec!["blacklist", "add", "spam@else.example"],
        ),
        (
            "blacklist_remove",
            vec!["blacklist", "remove", "spam@else.example"],
        ),
        ("send", vec!["outreach", "send", "-c", "c"]),
    ];
    let csv = cli.write("more.csv", "name,website\nCharlie,charlie.example\n");
    let import = vec!["import", csv.to_str().unwrap(), "-c", "c"];

    // Read-only first: each is refused and nothing is logged or changed.
    let before = counts(&cli);
    for (action, args) in actions.iter().chain([&("import", import.clone())]) {
        let mut ro = vec!["--read-only"];
        ro.extend(args.iter().copied());
        let err = cli.fails(&ro);
        assert!(
            err.starts_with("leadscout: read-only:") && err.contains("refused"),
            "{action}: {err}"
        );
    }
    assert_eq!(counts(&cli), before, "refused actions leave no trace");
    assert_eq!(smtp.received().len(), 0, "nothing was sent");
    let listed = cli.json(&["--read-only", "leads", "list", "-c", "c"]);
    assert_eq!(listed.as_array().unwrap().len(), 2, "browsing works");

    for (_, args) in &actions {
        cli.ok(args);
    }
    cli.ok(&import);
    let log = cli.json(&["log"]);
    let counts = counts(&cli);
    for action in actions.iter().map(|(a, _)| *a) {
        assert_eq!(counts.get(action), Some(&1), "{action} once: {log}");
    }
    // The setup's import and this one.
    assert_eq!(counts.get("import"), Some(&2), "{log}");
    let user = os_user();
    for record in log.as_array().unwrap() {
        assert_eq!(record["user"], user.as_str(), "{record}");
        assert!(
            record["via"].as_str().unwrap().starts_with("cli "),
            "{record}"
        );
    }
    let approve = log
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "approve")
        .unwrap();
    assert_eq!(approve["campaign"], "c");
    assert_eq!(approve["target"], a.as_str());
    assert!(
        approve["change"]
            .as_str()
            .unwrap()
            .contains("approved 1 (Alpha Bakery)"),
        "the record names the lead approved: {approve}"
    );
    let sent = log
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["action"] == "send")
        .unwrap();
    assert!(
        sent["change"].as_str().unwrap().starts_with("sent 1"),
        "{sent}"
    );
    assert_eq!(smtp.received().len(), 1);
    // A campaign's log: its own records and those for every campaign
    // (the blacklist), none of another campaign's.
    let only_c = cli.json(&["log", "--campaign", "c"]);
    assert!(
        only_c
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["campaign"] == "c" || r["campaign"].is_null()),
        "{only_c}"
    );
    assert!(
        only_c
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "blacklist_add"),
        "{only_c}"
    );
    assert!(cli.ok(&["log"]).contains("blacklist_add"));
}

#[test]
fn embedded() {
    every_action_is_logged_once_and_read_only_refuses_it(false);
}

#[test]
fn attached() {
    every_action_is_logged_once_and_read_only_refuses_it(true);
}

/// `leadscout log` prints each record's description, the same words the
/// TUI's action log draws: naming the setting, the lead and the address.
/// A blacklist made the TUI's way (through a client acting via the TUI)
/// is in the campaign's log too.
#[test]
fn the_cli_log_and_the_tui_say_the_same() {
    use leadscout::domain::BlacklistReason;
    use leadscout::domain::action_log::ActionRecord;
    use leadscout::service::{Api, Opener};

    let smtp = SmtpServer::start(Duration::ZERO);
    let s = crate::outreach::setup(
        smtp.port,
        &[
            ("Alpha Bakery", "a@alpha.example"),
            ("Bravo Dental", "b@bravo.example"),
        ],
        &[],
    );
    let b = s.leads["b@bravo.example"].clone();
    s.cli.ok(&[
        "settings",
        "set",
        "report.cta_url",
        "https://agency.example/book",
        "-c",
        "c",
    ]);
    s.cli.ok(&["outreach", "reject", &b]);
    s.cli.ok(&["blacklist", "add", "tiny.example"]);

    let config = leadscout::config::Config::load(None, s.cli.env_pairs()).unwrap();
    crate::report::runtime().block_on(async {
        let service = crate::report::opener(&s.cli, config).open("tui").unwrap();
        let tui = leadscout::service::face_client(&service, "tui", false);
        tui.blacklist_add(
            "spam@else.example".into(),
            BlacklistReason::Manual,
            "tui".into(),
        )
        .await
        .unwrap();
        let log = tui.action_log(Some("c".into()), 100).await.unwrap();
        assert!(
            log.iter().any(|r| r.action == "blacklist_add"
                && r.via == "tui"
                && r.target == "spam@else.example"),
            "{log:?}"
        );
    });

    let records: Vec<ActionRecord> =
        serde_json::from_value(s.cli.json(&["log", "--campaign", "c"])).unwrap();
    let text = s.cli.ok(&["log", "--campaign", "c"]);
    let said = |action: &str, target: &str| {
        let r = records
            .iter()
            .find(|r| r.action == action && r.target.contains(target))
            .unwrap_or_else(|| panic!("no {action} of {target} in {records:?}"));
        let described = r.describe();
        assert!(text.contains(&described), "`{described}` not in\n{text}");
        described
    };
    let setting = said("settings_set", "report.cta_url");
    assert!(
        setting.contains("setting `report.cta_url`")
            && setting.contains("https://agency.example/book"),
        "{setting}"
    );
    let reject = said("reject", &b);
    assert!(reject.contains("Bravo Dental"), "names the lead: {reject}");
    let blacklist = said("blacklist_add", "tiny.example");
    assert!(blacklist.contains("tiny.example"), "{blacklist}");
    said("blacklist_add", "spam@else.example");
}
