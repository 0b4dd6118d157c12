//! backup → restore → backup gives the same dump, and the restored store
//! answers every query the same way.

use crate::helpers::{Cli, files_under};

#[test]
fn backup_restore_round_trip_changes_nothing() {
    let cli = Cli::new();
    cli.campaign("c");
    cli.campaign("d");
    let csv = cli.write(
        "in.csv",
        "name,website,email,rating\nA,a.example,a@a.example,5\nB,b.example,,3\nC,c.example,,\n",
    );
    cli.ok(&["import", csv.to_str().unwrap(), "-c", "c"]);
    cli.ok(&[
        "leads",
        "add",
        "-c",
        "d",
        "--website",
        "a.example",
        "--name",
        "Other A",
    ]);
    cli.ok(&["blacklist", "add", "b.example", "--reason", "complaint"]);
    cli.ok(&[
        "settings",
        "set",
        "sender.postal_address",
        "Hauptstr. 1, 10115 Berlin",
    ]);
    cli.ok(&["settings", "set", "sender.name", "Max", "-c", "d"]);
    {
        let store = leadscout::store::Store::open(&cli.data, "test").unwrap();
        store.blobs().put(b"\x89PNG fake screenshot bytes").unwrap();
        store.flush_blocking().unwrap();
    }

    let first = cli.path("first");
    let manifest = cli.json(&["backup", first.to_str().unwrap()]);
    assert_eq!(manifest["trees"]["leads"], 4);
    assert_eq!(manifest["blobs"], 1);
    let err = cli.fails(&["backup", first.to_str().unwrap()]);
    assert!(err.contains("is not empty"), "{err}");

    let restored = Cli::new();
    let out = restored
        .command(&["restore", first.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = restored
        .command(&["restore", first.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "restoring over an existing store is refused"
    );

    for args in [
        vec!["campaign", "list"],
        vec!["leads", "list", "-c", "c"],
        vec!["leads", "list", "-c", "d"],
        vec!["blacklist", "list"],
        vec!["settings", "list", "-c", "d"],
        vec!["export", "-c", "c", "--format", "jsonl"],
    ] {
        let mut with_json = args.clone();
        with_json.push("--json");
        assert_eq!(
            cli.ok(&with_json),
            restored.ok(&with_json),
            "{args:?} differs after restore"
        );
    }

    let second = restored.path("second");
    restored.ok(&["backup", second.to_str().unwrap()]);
    let mut first_files: Vec<_> = files_under(&first)
        .into_iter()
        .map(|p| p.strip_prefix(&first).unwrap().to_path_buf())
        .collect();
    first_files.sort();
    let mut second_files: Vec<_> = files_under(&second)
        .into_iter()
        .map(|p| p.strip_prefix(&second).unwrap().to_path_buf())
        .collect();
    second_files.sort();
    assert_eq!(first_files, second_files);
    for rel in first_files.iter().filter(|p| !p.ends_with("manifest.json")) {
        let a = std::fs::read(first.join(rel)).unwrap();
        let b = std::fs::read(second.join(rel)).unwrap();
        assert!(a == b, "{} differs between the two backups", rel.display());
    }
    let store = leadscout::store::Store::open(&restored.data, "test").unwrap();
    assert_eq!(store.check_lead_indexes().unwrap(), Vec::<String>::new());
    assert_eq!(store.blobs().list().unwrap().len(), 1);
}

/// With the umask letting everything through, the data dir (sled's files
/// included) and a backup are still the operator's alone.
#[test]
fn the_data_dir_and_backups_are_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let cli = Cli::new();
    let run = |args: &[&str]| {
        let mut command = cli.command(args);
        // SAFETY: umask only sets the child's file-creation mask.
        unsafe {
            command.pre_exec(|| {
                libc::umask(0);
                Ok(())
            });
        }
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let mode = |path: &std::path::Path| {
        std::fs::symlink_metadata(path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    run(&["campaign", "create", "c", "--slug", "c"]);
    let backup = cli.path("backup");
    run(&["backup", backup.to_str().unwrap()]);
    assert_eq!(mode(&cli.data), 0o700);
    assert_eq!(mode(&backup), 0o700);
    let data_files = files_under(&cli.data);
    assert!(
        data_files
            .iter()
            .any(|f| f.starts_with(cli.data.join("db"))),
        "sled's files: {data_files:?}"
    );
    for file in data_files.iter().chain(&files_under(&backup)) {
        assert_eq!(
            mode(file) & 0o077,
            0,
            "{} is {:o}",
            file.display(),
            mode(file)
        );
    }
    for dir in [cli.data.join("db"), backup.join("trees")] {
        assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    }
}
