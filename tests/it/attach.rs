//! Attaching to a running `serve` over its control socket: who may
//! connect, what a version mismatch says, a socket left by a dead server,
//! `--socket`, and the commands that must not run under a server.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::process::Command;

use crate::helpers::{BIN, Cli};

pub fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("id -u");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// `leadscout --socket SOCKET campaign list` as another OS user (nobody).
fn as_nobody(cli: &Cli, socket: &std::path::Path) -> std::process::Output {
    as_nobody_run(cli, socket, &["campaign", "list"])
}

/// `leadscout --socket SOCKET ARGS` as another OS user (nobody).
pub fn as_nobody_run(cli: &Cli, socket: &std::path::Path, args: &[&str]) -> std::process::Output {
    let theirs = nobodys_copy();
    Command::new(theirs.path().join("leadscout"))
        .args(["--socket", socket.to_str().unwrap()])
        .args(args)
        .env_clear()
        .env("HOME", "/nonexistent")
        .env("PATH", "/usr/bin:/bin")
        .env("LEADSCOUT_DATA_DIR", cli.path("nobody-data"))
        .uid(65534)
        .gid(65534)
        .output()
        .expect("run leadscout as nobody")
}

/// The binary where another user can run it: the checkout (and so the
/// target dir) may sit under a directory only its owner may enter, as
/// `mktemp -d` makes. A fresh 0755 directory under /tmp holds a hard link
/// to it (a copy when /tmp is another file system); removed when dropped.
fn nobodys_copy() -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("leadscout-bin-")
        .tempdir_in("/tmp")
        .expect("a directory under /tmp");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = dir.path().join("leadscout");
    let others_may_run = std::fs::metadata(BIN)
        .map(|m| m.permissions().mode() & 0o005 == 0o005)
        .unwrap_or(false);
    // A link shares the build's mode bits, so only when they already suit.
    if !(others_may_run && std::fs::hard_link(BIN, &exe).is_ok()) {
        std::fs::copy(BIN, &exe).expect("copy the binary for the other user");
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir
}

/// Lets other users reach the socket's directory; false when they could
/// not run the binary (then the test cannot check anything).
pub fn open_the_way(socket: &std::path::Path) -> bool {
    let mut dir = socket.parent();
    while let Some(d) = dir {
        if d == std::path::Path::new("/") {
            break;
        }
        let m = std::fs::metadata(d).unwrap().permissions().mode();
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(m | 0o711)).unwrap();
        dir = d.parent();
    }
    // The socket's directories must be reachable; the binary is run from
    // a copy they can reach (see `nobodys_copy`).
    let reachable = std::fs::metadata(socket.parent().unwrap_or(socket))
        .map(|m| m.permissions().mode() & 0o001 == 0o001)
        .unwrap_or(false);
    if !reachable {
        eprintln!(
            "skipping: {} cannot be opened to other users here",
            socket.display()
        );
    }
    reachable
}

#[test]
fn another_user_cannot_attach() {
    if !is_root() {
        eprintln!(
            "skipping: switching to a second uid needs root; run the tests as root to check it"
        );
        return;
    }
    let cli = Cli::new().attached();
    cli.campaign("c");
    let socket = cli.data.join("control.sock");
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the socket is for its owner only");
    // Let the other user reach the socket file, to see both guards.
    if !open_the_way(&socket) {
        return;
    }

    let refused = as_nobody(&cli, &socket);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Permission denied"),
        "the file mode stops it: {stderr}"
    );

    // Even with the file opened up, the server checks the peer's uid.
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)).unwrap();
    let refused = as_nobody(&cli, &socket);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("belongs to uid 0; uid 65534 may not attach"),
        "SO_PEERCRED stops it: {stderr}"
    );
    assert!(
        refused.stdout.is_empty(),
        "nothing leaks: {:?}",
        refused.stdout
    );
    // The owner still can.
    assert!(cli.ok(&["campaign", "list"]).contains("c"));
}

#[test]
fn other_users_may_browse_read_only_when_the_server_allows_it() {
    if !is_root() {
        eprintln!(
            "skipping: switching to a second uid needs root; run the tests as root to check it"
        );
        return;
    }
    let cli = Cli::new()
        .env("LEADSCOUT_SERVER__OTHERS_READ_ONLY", "true")
        .attached();
    cli.campaign("c");
    let socket = cli.data.join("control.sock");
    if !open_the_way(&socket) {
        return;
    }
    let listed = as_nobody_run(&cli, &socket, &["campaign", "list", "--json"]);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    assert!(String::from_utf8_lossy(&listed.stdout).contains("\"slug\": \"c\""));
    let refused = as_nobody_run(&cli, &socket, &["campaign", "create", "Theirs"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("read-only"), "{stderr}");
    assert_eq!(cli.json(&["campaign", "list"]).as_array().unwrap().len(), 1);
}

/// A socket that answers `/v1/hello` like a server of another version.
fn fake_server(socket: &std::path::Path, version: &str) -> std::thread::JoinHandle<()> {
    let listener = std::os::unix::net::UnixListener::bind(socket).unwrap();
    let body = serde_json::json!({
        "version": format!("{version} (0000000000)"),
        "package": version,
        "protocol": 1,
        "pid": 4242,
        "data_dir": "/srv/leadscout",
        "pages_url": "http://127.0.0.1:8080",
        "public_links": false,
    })
    .to_string();
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    })
}

#[test]
fn a_version_mismatch_names_both_versions() {
    let cli = Cli::new();
    let socket = cli.path("old.sock");
    let server = fake_server(&socket, "0.0.1");
    let err = cli.fails(&["--socket", socket.to_str().unwrap(), "campaign", "list"]);
    server.join().unwrap();
    assert!(
        err.contains("version mismatch: this is leadscout 0.1.0")
            && err.contains("the host (`serve`, pid 4242) runs leadscout 0.0.1 (0000000000)"),
        "{err}"
    );
}

#[test]
fn a_socket_without_a_server_falls_back_to_the_store_and_socket_errors_are_clear() {
    let cli = Cli::new().attached();
    cli.campaign("c");
    let pid = cli.server_pid().unwrap();
    // SIGKILL leaves the socket file behind.
    Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    let socket = cli.data.join("control.sock");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::os::unix::net::UnixStream::connect(&socket).is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not die"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(socket.exists(), "a killed server leaves its socket file");
    let list = cli.json(&["campaign", "list"]);
    assert_eq!(list[0]["slug"], "c", "opened the store itself: {list}");

    // An explicit --socket that nothing answers is an error, not a fallback.
    let err = cli.fails(&["--socket", socket.to_str().unwrap(), "campaign", "list"]);
    assert!(
        err.starts_with(&format!(
            "leadscout: cannot reach the leadscout server at {}",
            socket.display()
        )),
        "{err}"
    );
}

#[test]
fn attached_commands_that_need_the_store_to_themselves_refuse_clearly() {
    let cli = Cli::new().attached();
    cli.campaign("c");
    let pid = cli.server_pid().unwrap();
    let backup = cli.path("backup");
    let manifest = cli.json(&["backup", backup.to_str().unwrap()]);
    assert!(
        manifest["trees"].is_object(),
        "the server wrote the backup: {manifest}"
    );
    assert_eq!(
        cli.fails(&["restore", backup.to_str().unwrap()]),
        format!(
            "leadscout: a restore replaces the whole store, so the server (pid {pid}) must not be running; stop it first (e.g. systemctl stop leadscout) and run the restore again"
        )
    );
    assert!(cli.fails(&["work"]).contains(&format!(
        "the server (pid {pid}) already works on this data dir's jobs"
    )),);
    // The same data dir reached through --socket, as over an SSH forward.
    let socket = cli.data.join("control.sock");
    let other = Cli::new();
    let list = other.json(&["--socket", socket.to_str().unwrap(), "campaign", "list"]);
    assert_eq!(list[0]["slug"], "c", "{list}");
}
