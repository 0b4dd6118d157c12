//! `report export` writes only into a new or empty directory, never
//! through a symlink, with 0700 directories and 0600 files whatever the
//! umask; a read-only client (attached or not) cannot export.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;

use crate::helpers::files_under;
use crate::report::publish;

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn export_never_follows_a_symlink_nor_writes_into_a_full_directory() {
    let p = publish(&[]);
    let export = |out: &Path| {
        p.cli.fails(&[
            "report",
            "export",
            "--campaign",
            "c",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    // A robots.txt placed in the directory, pointing at another file.
    let victim = p.cli.write("victim.txt", "keep me");
    let full = p.cli.path("full");
    std::fs::create_dir(&full).unwrap();
    std::os::unix::fs::symlink(&victim, full.join("robots.txt")).unwrap();
    let err = export(&full);
    assert!(
        err.contains("is not empty") && err.contains(full.to_str().unwrap()),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    // The directory itself a symlink to an empty one.
    let empty = p.cli.path("empty");
    std::fs::create_dir(&empty).unwrap();
    let link = p.cli.path("link");
    std::os::unix::fs::symlink(&empty, &link).unwrap();
    let err = export(&link);
    assert!(
        err.contains("is a symlink") && err.contains(link.to_str().unwrap()),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);

    // A read-only client exports nothing, embedded or attached.
    let out = p.cli.path("site");
    let args = [
        "--read-only",
        "report",
        "export",
        "--campaign",
        "c",
        "--out",
        out.to_str().unwrap(),
    ];
    let err = p.cli.fails(&args);
    assert!(err.contains("read-only"), "{err}");
    p.cli.start_server();
    let err = p.cli.fails(&args);
    assert!(err.contains("read-only"), "{err}");
    assert!(!out.exists(), "nothing was written");
    p.cli.stop_server();

    // Into a new directory, with the umask letting everything through:
    // still the operator's alone.
    let out = p.cli.path("fresh/site");
    let mut command = p.cli.command(&[
        "report",
        "export",
        "--campaign",
        "c",
        "--out",
        out.to_str().unwrap(),
    ]);
    // SAFETY: umask only sets the child's file-creation mask.
    unsafe {
        command.pre_exec(|| {
            libc::umask(0);
            Ok(())
        });
    }
    let done = command.output().unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert_eq!(mode(&out), 0o700);
    assert_eq!(mode(&out.join("r")), 0o700);
    let files = files_under(&out);
    assert!(files.len() >= 4, "{files:?}");
    for file in files {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}
