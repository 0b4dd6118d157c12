//! The control socket's guard: every call that changes something (or
//! writes files, `report_export` included) is refused to a read-only
//! client before its body is read, and a body larger than its call's cap
//! is refused by its declared length, without reading it.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use leadscout::service::{CALLS, CallMode, STREAMS};
use serde_json::Value;

use crate::attach::{as_nobody_run, is_root, open_the_way};
use crate::helpers::Cli;

/// One HTTP request over the control socket: the status and the body.
/// Only the head and `body` are sent, whatever Content-Length says: a
/// server that waits for the rest never answers, and the read times out
/// (after a generous 60 s) and fails the test.
fn request(socket: &Path, head: &str, body: &[u8]) -> (u16, Value) {
    let mut stream = UnixStream::connect(socket).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(b"\r\n").unwrap();
    // A server that refuses at once may close before the body is in.
    let _ = stream.write_all(body);
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream
            .read(&mut chunk)
            .unwrap_or_else(|e| panic!("no answer to `{head}`: {e}"));
        assert!(n > 0, "the server closed without answering `{head}`");
        got.extend_from_slice(&chunk[..n]);
    };
    let head_text = String::from_utf8_lossy(&got[..head_end]).to_string();
    let status: u16 = head_text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    let length: usize = head_text
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    while got.len() < head_end + length {
        let n = stream.read(&mut chunk).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&got[head_end..]).unwrap_or(Value::Null);
    (status, body)
}

fn post(path: &str, read_only: bool, length: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: leadscout\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n{}",
        if read_only {
            "x-leadscout-read-only: 1\r\n"
        } else {
            ""
        }
    )
}

#[test]
fn a_read_only_client_is_refused_every_write_call_report_export_included() {
    let cli = Cli::new().attached();
    cli.campaign("c");
    let socket = cli.data.join("control.sock");
    // Every write the tables declare, plain and streaming.
    let writes = CALLS
        .iter()
        .filter(|(_, mode)| *mode == CallMode::Write)
        .map(|(name, _)| format!("/v1/call/{name}"))
        .chain(
            STREAMS
                .iter()
                .filter(|(_, mode)| *mode == CallMode::Write)
                .map(|(name, _)| format!("/v1/stream/{name}")),
        )
        .collect::<Vec<_>>();
    assert!(writes.iter().any(|p| p == "/v1/call/report_export"));
    assert!(writes.iter().any(|p| p == "/v1/stream/send_outreach"));
    for path in writes {
        // Arguments that would not even decode: the refusal comes first.
        let (status, body) = request(&socket, &post(&path, true, 2), b"[]");
        assert_eq!(status, 403, "{path}: {body}");
        assert_eq!(body["kind"], "read_only", "{path}: {body}");
    }
    // With arguments that would work, report_export writes nothing.
    let out = cli.path("exported");
    let args = serde_json::to_vec(&("c", &out)).unwrap();
    let (status, body) = request(
        &socket,
        &post("/v1/call/report_export", true, args.len()),
        &args,
    );
    assert_eq!(status, 403, "{body}");
    assert!(!out.exists(), "nothing was written");
    // Reading works.
    let (status, body) = request(&socket, &post("/v1/call/list_campaigns", true, 4), b"null");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[0]["slug"], "c");
}

#[test]
fn oversized_bodies_are_refused_by_their_length_without_being_read() {
    let cli = Cli::new().attached();
    let socket = cli.data.join("control.sock");
    // 10 MiB declared, none of it sent: an ordinary call takes 1 MiB.
    let (status, body) = request(
        &socket,
        &post("/v1/call/list_campaigns", false, 10 << 20),
        b"",
    );
    assert_eq!(status, 413, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("takes at most 1048576 bytes"),
        "{body}"
    );
    let (status, body) = request(&socket, &post("/v1/stream/leads", false, 10 << 20), b"");
    assert_eq!(status, 413, "{body}");
    // The import call carries a file, up to its own (larger) cap.
    let (status, body) = request(&socket, &post("/v1/call/import", false, 1 << 30), b"");
    assert_eq!(status, 413, "{body}");
    // A read-only client's import is refused before its body is read.
    let (status, body) = request(&socket, &post("/v1/call/import", true, 100 << 20), b"");
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["kind"], "read_only", "{body}");
    // Small bodies still work on the same server.
    let (status, body) = request(&socket, &post("/v1/call/list_campaigns", false, 4), b"null");
    assert_eq!(status, 200, "{body}");
}

#[test]
fn another_user_browsing_read_only_cannot_export_reports() {
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
    let out = cli.path("theirs");
    let refused = as_nobody_run(
        &cli,
        &socket,
        &[
            "report",
            "export",
            "--campaign",
            "c",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("read-only") && stderr.contains("report export"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing was written");
}
