//! A canary secret in the environment variables the config names never shows
//! up in any output, log, or file in the data dir.

use crate::helpers::{Cli, files_under};

const CANARY_SMTP: &str = "canary-smtp-7f3a9c1e5b";
const CANARY_LLM: &str = "canary-llm-2d8e4b6a0f";

#[test]
fn canary_secrets_never_leak() {
    let cli = Cli::new()
        .env("LEADSCOUT_SMTP_PASSWORD", CANARY_SMTP)
        .env("LEADSCOUT_LLM_API_KEY", CANARY_LLM);
    let csv = cli.write(
        "in.csv",
        "website,email\na.example,a@a.example\nb.example,\n",
    );
    let block = cli.write("block.txt", "b.example\n");
    let backup = cli.path("backup");
    let out_csv = cli.path("out.csv");
    let restored = cli.path("restored");
    let commands: Vec<Vec<&str>> = vec![
        vec!["campaign", "create", "Canary Test", "--slug", "c"],
        vec!["campaign", "list"],
        vec!["campaign", "show", "c"],
        vec!["import", csv.to_str().unwrap(), "-c", "c", "--dry-run"],
        vec!["import", csv.to_str().unwrap(), "-c", "c"],
        vec!["leads", "list", "-c", "c"],
        vec!["leads", "show", "a.example"],
        vec!["leads", "add", "-c", "c", "--website", "d.example"],
        vec!["blacklist", "add", "x@a.example"],
        vec!["blacklist", "import", block.to_str().unwrap()],
        vec!["blacklist", "list"],
        vec!["blacklist", "remove", "x@a.example"],
        vec!["settings", "set", "sender.name", "Jane"],
        vec!["settings", "list"],
        vec!["settings", "get", "sender.name"],
        vec!["settings", "unset", "sender.name"],
        vec!["settings", "set", "sender.name", CANARY_SMTP],
        vec!["export", "-c", "c", "--out", out_csv.to_str().unwrap()],
        vec!["export", "-c", "c", "--format", "jsonl"],
        vec!["backup", backup.to_str().unwrap()],
        vec!["doctor"],
        vec!["campaign", "archive", "c"],
    ];
    for args in &commands {
        for json in [false, true] {
            let mut full: Vec<&str> = vec!["-vv"];
            full.extend(args);
            if json {
                full.push("--json");
            }
            let out = cli.run(&full);
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                !text.contains(CANARY_SMTP) && !text.contains(CANARY_LLM),
                "`{}` printed a secret:\n{text}",
                full.join(" ")
            );
        }
    }
    let restore = cli
        .command(&["-vv", "restore", backup.to_str().unwrap()])
        .env("LEADSCOUT_DATA_DIR", &restored)
        .output()
        .unwrap();
    assert!(
        restore.status.success(),
        "{}",
        String::from_utf8_lossy(&restore.stderr)
    );
    for dir in [&cli.data, &backup, &restored] {
        let files = files_under(dir);
        assert!(!files.is_empty(), "{} has files to scan", dir.display());
        for file in files {
            let bytes = std::fs::read(&file).unwrap();
            for canary in [CANARY_SMTP, CANARY_LLM] {
                assert!(
                    !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                    "{} contains a secret",
                    file.display()
                );
            }
        }
    }
}
