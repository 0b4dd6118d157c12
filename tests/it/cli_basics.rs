//! Campaigns, leads, blacklist, settings, export, doctor and the lock, through
//! the real binary.

use crate::helpers::Cli;

fn campaigns_are_created_listed_shown_and_archived(cli: Cli) {
    assert!(cli.ok(&["campaign", "list"]).contains("No campaigns yet"));
    let created = cli.json(&["campaign", "create", "Dentists Berlin"]);
    assert_eq!(created["slug"], "dentists-berlin");
    assert_eq!(created["status"], "active");
    assert_eq!(
        cli.fails(&["campaign", "create", "Dentists Berlin"]),
        "leadscout: a campaign with slug `dentists-berlin` already exists; pick another with --slug"
    );
    cli.ok(&[
        "campaign",
        "create",
        "Dentists Berlin",
        "--slug",
        "dentists-2",
    ]);
    let list = cli.json(&["campaign", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 2);

    let archived = cli.json(&["campaign", "archive", "dentists-2"]);
    assert_eq!(archived["status"], "archived");
    let err = cli.fails(&["leads", "add", "-c", "dentists-2", "--website", "x.example"]);
    assert!(err.contains("is archived"), "{err}");
    assert_eq!(
        cli.fails(&["campaign", "show", "nope"]),
        "leadscout: no campaign `nope`; `leadscout campaign list` shows them"
    );
    let err = cli.fails(&["campaign", "create", "x", "--slug", "Bad Slug"]);
    assert!(err.contains("not a valid campaign slug"), "{err}");
}

fn leads_are_added_listed_and_shown_with_the_json_fields(cli: Cli) {
    cli.campaign("c");
    let added = cli.json(&[
        "leads",
        "add",
        "-c",
        "c",
        "--website",
        "HTTP://WWW.Bakery.example/",
        "--name",
        "Bakery",
        "--email",
        "Info@Bakery.example",
        "--phone",
        "+49 30 1",
    ]);
    assert_eq!(added["domain"], "bakery.example");
    assert_eq!(added["email"], "info@bakery.example");
    let err = cli.fails(&[
        "leads",
        "add",
        "-c",
        "c",
        "--website",
        "https://bakery.example/contact",
    ]);
    assert!(
        err.contains("already has a lead for bakery.example"),
        "{err}"
    );
    let err = cli.fails(&["leads", "add", "-c", "c", "--website", "ftp://x.example"]);
    assert!(
        err.contains("--website") && err.contains("only http and https"),
        "{err}"
    );
    let err = cli.fails(&[
        "leads",
        "add",
        "-c",
        "c",
        "--website",
        "y.example",
        "--email",
        "bob@",
    ]);
    assert!(err.contains("--email") && err.contains("`bob@`"), "{err}");

    let list = cli.json(&["leads", "list", "--campaign", "c"]);
    let lead = &list[0];
    let mut keys: Vec<&str> = lead
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "business_name",
            "campaign",
            "category",
            "city",
            "created_at",
            "domain",
            "email",
            "hot",
            "id",
            "last_viewed_at",
            "phone",
            "score",
            "status",
            "views",
            "website"
        ]
    );
    assert_eq!(lead["campaign"], "c");
    assert_eq!(lead["score"], serde_json::Value::Null);
    assert_eq!(lead["status"], "new");

    let id = lead["id"].as_str().unwrap();
    let by_id = cli.json(&["leads", "show", id]);
    let by_site = cli.json(&["leads", "show", "bakery.example"]);
    assert_eq!(by_id, by_site);
    assert_eq!(by_id["source"]["kind"], "manual");
    assert!(cli.ok(&["leads", "show", id]).contains("not audited yet"));
    assert_eq!(
        cli.fails(&["leads", "show", "01J0000000000000000000000Z"]),
        "leadscout: no lead with id 01J0000000000000000000000Z"
    );
    let err = cli.fails(&["leads", "list", "-c", "c", "--status", "nonsense"]);
    assert!(err.contains("`nonsense` is not a lead status"), "{err}");
    assert_eq!(
        cli.json(&["leads", "list", "-c", "c", "--status", "sent"]),
        serde_json::json!([])
    );
}

fn blacklisting_marks_matching_leads_and_removal_restores_them(cli: Cli) {
    cli.campaign("c");
    cli.ok(&[
        "leads",
        "add",
        "-c",
        "c",
        "--website",
        "a.example",
        "--email",
        "boss@a.example",
    ]);
    cli.ok(&[
        "leads",
        "add",
        "-c",
        "c",
        "--website",
        "b.example",
        "--email",
        "owner@gmail.example",
    ]);
    cli.ok(&["leads", "add", "-c", "c", "--website", "c.example"]);

    let added = cli.json(&[
        "blacklist",
        "add",
        "https://WWW.A.example/x",
        "--reason",
        "legal",
    ]);
    assert_eq!(added["entry"]["kind"], "domain");
    assert_eq!(added["entry"]["value"], "a.example");
    assert_eq!(added["leads_blacklisted"], 1);
    let added = cli.json(&["blacklist", "add", "Owner@Gmail.example"]);
    assert_eq!(added["entry"]["kind"], "email");
    assert_eq!(added["leads_blacklisted"], 1);
    let again = cli.json(&["blacklist", "add", "owner@gmail.example"]);
    assert_eq!(again["added"], false);

    let blocked = cli.json(&["leads", "list", "-c", "c", "--status", "blacklisted"]);
    assert_eq!(blocked.as_array().unwrap().len(), 2);
    let err = cli.fails(&["leads", "add", "-c", "c", "--website", "shop.a.example"]);
    assert!(err.contains("is on the blacklist"), "{err}");
    let err = cli.fails(&["blacklist", "add", "x", "--reason", "whim"]);
    assert!(err.contains("not a blacklist reason"), "{err}");

    let list = cli.json(&["blacklist", "list"]);
    assert_eq!(list.as_array().unwrap().len(), 2);
    cli.ok(&["blacklist", "remove", "a.example"]);
    assert_eq!(cli.json(&["leads", "show", "a.example"])["status"], "new");
    let err = cli.fails(&["blacklist", "remove", "a.example"]);
    assert_eq!(err, "leadscout: domain a.example is not on the blacklist");

    let file = cli.write(
        "block.txt",
        "email\n# comment\nc.example\nnot an entry\nowner@gmail.example\n",
    );
    let report = cli.json(&[
        "blacklist",
        "import",
        file.to_str().unwrap(),
        "--reason",
        "complaint",
    ]);
    assert_eq!(report["added"], 1);
    assert_eq!(report["already_listed"], 1);
    assert_eq!(report["leads_blacklisted"], 1);
    assert_eq!(report["rejected"][0]["row"], 4);
}

fn settings_refuse_secrets_and_unknown_keys(cli: Cli) {
    cli.campaign("c");
    let err = cli.fails(&["settings", "set", "smtp.password", "x"]);
    assert!(
        err.contains("looks like a secret key") && err.contains("password_env"),
        "{err}"
    );
    let err = cli.fails(&[
        "settings",
        "set",
        "sender.name",
        "ghp_0123456789abcdefghijABCDEFGHIJ0123",
    ]);
    assert!(
        err.contains("looks like a secret") && !err.contains("ghp_"),
        "{err}"
    );
    let err = cli.fails(&["settings", "set", "sender.nam", "Jane"]);
    assert!(err.contains("unknown setting `sender.nam`"), "{err}");

    cli.ok(&["settings", "set", "sender.name", "Jane Doe"]);
    cli.ok(&["settings", "set", "sender.name", "Max", "--campaign", "c"]);
    assert_eq!(cli.ok(&["settings", "get", "sender.name"]), "Jane Doe\n");
    assert_eq!(
        cli.ok(&["settings", "get", "sender.name", "-c", "c"]),
        "Max\n"
    );
    let list = cli.json(&["settings", "list", "-c", "c"]);
    let name = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "sender.name")
        .unwrap();
    assert_eq!(name["source"], "campaign");
    cli.ok(&["settings", "unset", "sender.name", "-c", "c"]);
    assert_eq!(
        cli.ok(&["settings", "get", "sender.name", "-c", "c"]),
        "Jane Doe\n"
    );
}

fn export_writes_csv_and_jsonl_with_attributes(cli: Cli) {
    cli.campaign("c");
    let csv = cli.write(
        "in.csv",
        "name,website,rating,owner\nA,a.example,4.5,Ann\nB,b.example,,\n",
    );
    cli.ok(&["import", csv.to_str().unwrap(), "-c", "c"]);
    let out = cli.path("out.csv");
    cli.ok(&[
        "export",
        "-c",
        "c",
        "--format",
        "csv",
        "--out",
        out.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "id,campaign,business_name,website,domain,email,phone,city,category,status,score,created_at,source,owner,rating"
    );
    let first = lines.next().unwrap();
    assert!(
        first.contains(",A,http://a.example/,a.example,")
            && first.ends_with(",import in.csv row 2,Ann,4.5"),
        "{first}"
    );

    let jsonl = cli.ok(&["export", "-c", "c", "--format", "jsonl"]);
    let rows: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["attributes"]["rating"], "4.5");
    assert_eq!(rows[1]["business_name"], "B");
}

#[test]
fn a_second_process_gets_one_clear_line_naming_the_holder() {
    let cli = Cli::new();
    cli.campaign("c");
    let store = leadscout::store::Store::open(&cli.data, "serve").unwrap();
    let err = cli.fails(&["campaign", "list"]);
    assert!(
        err.starts_with(&format!(
            "leadscout: data dir {} is in use by leadscout",
            cli.data.display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("pid {}", std::process::id())) && err.contains("`leadscout serve`"),
        "{err}"
    );
    assert!(err.contains("--data-dir"), "{err}");

    let doctor = cli.run(&["doctor"]);
    let text = String::from_utf8_lossy(&doctor.stdout);
    assert!(
        doctor.status.success(),
        "a held lock is a warning, not a failure: {text}"
    );
    assert!(
        text.contains("lock") && text.contains("warn") && text.contains("in use by"),
        "{text}"
    );
    drop(store);
    let checks = cli.json(&["doctor"]);
    let names: Vec<&str> = checks
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        // With a WebDriver, doctor adds one line per hop of the browser path.
        .filter(|name| !name.starts_with("webdriver: "))
        .collect();
    assert_eq!(
        names,
        [
            "config",
            "data dir",
            "lock",
            "store",
            "indexes",
            "blobs",
            "webdriver",
            "chromium sandbox"
        ]
    );
    // WebDriver is a warning where Chromium is not installed, the sandbox
    // one when leadscout runs as root; the rest is ok.
    let fine = |c: &serde_json::Value| {
        c["status"] == "ok"
            || (["webdriver", "chromium sandbox"].contains(&c["name"].as_str().unwrap_or(""))
                && c["status"] == "warn")
    };
    assert!(checks.as_array().unwrap().iter().all(fine), "{checks}");
}

#[test]
fn bad_config_names_the_key_and_the_file() {
    let cli = Cli::new();
    let config = cli.write("config.toml", "[import]\nbatch_size = \"lots\"\n");
    let err = cli.fails(&["--config", config.to_str().unwrap(), "campaign", "list"]);
    assert!(
        err.starts_with(&format!(
            "leadscout: bad value for config key `import.batch_size` in {}",
            config.display()
        )),
        "{err}"
    );
    let config = cli.write("config2.toml", "[log]\nlevl = \"info\"\n");
    let err = cli.fails(&["--config", config.to_str().unwrap(), "campaign", "list"]);
    assert_eq!(
        err,
        format!(
            "leadscout: unknown config key `log.levl` in {}",
            config.display()
        )
    );
    let err = cli.fails(&["--config", "/nonexistent/config.toml", "campaign", "list"]);
    assert!(
        err.contains("cannot read config file /nonexistent/config.toml"),
        "{err}"
    );

    let cli = cli.env("LEADSCOUT_IMPORT__MAX_FILE_MB", "-1");
    let err = cli.fails(&["campaign", "list"]);
    assert!(
        err.contains("`import.max_file_mb` in environment variable LEADSCOUT_IMPORT__MAX_FILE_MB"),
        "{err}"
    );
    let doctor = cli.run(&["doctor"]);
    assert_eq!(
        doctor.status.code(),
        Some(1),
        "doctor reports a broken config as a failed check"
    );
    assert!(String::from_utf8_lossy(&doctor.stdout).contains("FAIL"));
}

#[test]
fn completions_man_page_and_version() {
    let cli = Cli::new();
    for shell in ["bash", "zsh", "fish"] {
        let text = cli.ok(&["completions", shell]);
        assert!(
            text.contains("outreach") && text.contains("report"),
            "{shell} completions name the commands"
        );
    }
    let man = cli.ok(&["man"]);
    assert!(
        man.contains(".TH leadscout 1") && man.contains("demo"),
        "{}",
        &man[..man.len().min(400)]
    );
    let version = cli.ok(&["--version"]);
    assert!(
        version.starts_with(&format!("leadscout {}", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    let bad = cli.run(&["completions", "tcsh"]);
    assert!(!bad.status.success());
}

both_modes!(
    campaigns_are_created_listed_shown_and_archived,
    leads_are_added_listed_and_shown_with_the_json_fields,
    blacklisting_marks_matching_leads_and_removal_restores_them,
    settings_refuse_secrets_and_unknown_keys,
    export_writes_csv_and_jsonl_with_attributes,
);
