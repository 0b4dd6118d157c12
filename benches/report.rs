//! Report page throughput: `leadscout serve` answering `/r/TOKEN` on
//! loopback under wrk (another process), side by side with nginx serving a
//! static copy of the same HTML. Needs `wrk` and `nginx` on PATH
//! (`apt install wrk nginx-light`).
//!
//! `cargo bench --bench report` (env `REPORT_BENCH_SECS` per round, default
//! 10; `REPORT_BENCH_ROUNDS`, default 3; `REPORT_BENCH_CONNECTIONS`,
//! default 32).

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A small business site with the usual problems, so the report has
/// findings, categories and a search preview to render.
const SITE: &str = r#"<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Crumbs Bakery — fresh bread every morning in Kreuzberg since 1987</title>
<meta name="description" content="Sourdough, rye and pretzels baked daily.">
</head><body><h1>Crumbs Bakery</h1><img src="/shop.jpg"><p>Call us: 030 1234567</p>
<a href="/menu">Menu</a> <a href="/contact">Contact</a></body></html>"#;

fn serve_site() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind site");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) <= 2 {
                        break;
                    }
                }
                let (status, body) = if path == "/" {
                    ("200 OK", SITE)
                } else {
                    ("404 Not Found", "")
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    port
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn leadscout(data: &Path, env: &[(&str, String)], args: &[&str]) -> String {
    let mut cmd = Command::new(common::BIN);
    // The bench's addresses are at made-up domains no DNS knows.
    cmd.env("LEADSCOUT_DATA_DIR", data)
        .env("LEADSCOUT_VERIFY__ENABLED", "false")
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run leadscout");
    assert!(
        out.status.success(),
        "leadscout {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn wait_for_port(port: u16) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "nothing listens on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn fetch(port: u16, path: &str) -> (String, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a full response")
        + 4;
    (
        String::from_utf8_lossy(&raw[..split]).to_string(),
        raw[split..].to_vec(),
    )
}

struct Load {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: String,
}

fn to_ms(text: &str) -> f64 {
    let (number, unit) = text.split_at(
        text.find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(text.len()),
    );
    let n: f64 = number.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        _ => f64::NAN,
    }
}

fn wrk(url: &str, secs: u64, connections: u32) -> Load {
    let out = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{secs}s"),
            "--latency",
            url,
        ])
        .output()
        .expect("run wrk (apt install wrk)");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
            .unwrap_or_default()
    };
    Load {
        rps: field("Requests/sec:").parse().unwrap_or(0.0),
        p50_ms: to_ms(&field("50%")),
        p99_ms: to_ms(&field("99%")),
        errors: text
            .lines()
            .filter(|l| l.contains("Non-2xx") || l.contains("Socket errors"))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// CPU time (user + system, in clock ticks) a process and its direct
/// children have used: nginx serves from worker processes.
fn cpu_ticks(pid: u32) -> u64 {
    let own = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                // Fields after the parenthesised command name; utime and
                // stime are the 14th and 15th fields of the line.
                let rest = &s[s.rfind(')')? + 2..];
                let fields: Vec<&str> = rest.split_whitespace().collect();
                Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
            })
            .unwrap_or(0)
    };
    let children =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    own(&pid.to_string()) + children.split_whitespace().map(own).sum::<u64>()
}

/// Microseconds of CPU per request: the throughput-independent cost.
fn cpu_us_per_request(ticks: u64, load: &Load, secs: u64) -> f64 {
    // SAFETY: sysconf reads a constant of the system; no pointers.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    ticks as f64 / hz * 1e6 / (load.rps * secs as f64)
}

/// CPU time (µs) used by this process's children that have ended and were
/// waited for: around one `wrk` run, the load generator's own cost.
fn ended_children_cpu_us() -> u64 {
    // SAFETY: getrusage fills the zeroed struct owned by this frame.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    us(usage.ru_utime) + us(usage.ru_stime)
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

struct Stop(Child);

impl Drop for Stop {
    fn drop(&mut self) {
        // SIGTERM so serve and nginx shut down cleanly.
        unsafe { libc::kill(self.0.id() as i32, libc::SIGTERM) };
        let _ = self.0.wait();
    }
}

fn main() {
    for program in ["wrk", "nginx"] {
        if Command::new("sh")
            .args(["-c", &format!("command -v {program}")])
            .output()
            .map(|o| !o.status.success())
            .unwrap_or(true)
        {
            eprintln!(
                "report bench skipped: `{program}` is not installed (apt install wrk nginx-light)"
            );
            return;
        }
    }
    let secs: u64 = std::env::var("REPORT_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let connections: u32 = std::env::var("REPORT_BENCH_CONNECTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32);
    println!("machine: {}", common::machine());
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let site = serve_site();
    let port = free_port();
    let env = vec![
        ("LEADSCOUT_FETCH__ALLOW_HOSTS", format!("127.0.0.1:{site}")),
        ("LEADSCOUT_SERVER__BIND", format!("127.0.0.1:{port}")),
        ("LEADSCOUT_LOG__LEVEL", "warn".to_string()),
        // Metrics are not measured here; no fixed port to collide on.
        ("LEADSCOUT_SERVER__METRICS_BIND", "127.0.0.1:0".to_string()),
    ];
    leadscout(
        &data,
        &env,
        &["campaign", "create", "Bench", "--slug", "bench"],
    );
    let csv = dir.path().join("leads.csv");
    std::fs::write(
        &csv,
        format!("name,website\nCrumbs Bakery,http://127.0.0.1:{site}/\n"),
    )
    .expect("csv");
    leadscout(
        &data,
        &env,
        &["import", csv.to_str().expect("path"), "--campaign", "bench"],
    );
    leadscout(&data, &env, &["settings", "set", "sender.name", "Jane Doe"]);
    leadscout(
        &data,
        &env,
        &[
            "settings",
            "set",
            "report.cta_url",
            "https://agency.example/book",
        ],
    );
    leadscout(
        &data,
        &env,
        &[
            "run",
            "--campaign",
            "bench",
            "--stages",
            "fetch,audit,report",
            "--wait",
        ],
    );
    let leads: serde_json::Value = serde_json::from_str(&leadscout(
        &data,
        &env,
        &["leads", "list", "--campaign", "bench", "--json"],
    ))
    .expect("json");
    let lead = leads[0]["id"].as_str().expect("lead id").to_string();
    let url = leadscout(&data, &env, &["report", "url", &lead])
        .trim()
        .to_string();
    let path = url
        .trim_start_matches(&format!("http://127.0.0.1:{port}"))
        .to_string();

    let mut cmd = Command::new(common::BIN);
    cmd.env("LEADSCOUT_DATA_DIR", &data)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, v) in &env {
        cmd.env(k, v);
    }
    let serve = Stop(cmd.spawn().expect("start serve"));
    wait_for_port(port);
    let (head, html) = fetch(port, &path);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    println!("report page: {} bytes of HTML", html.len());
    let idle_rss = rss_kib(serve.0.id());
    // nginx sends the same response headers as leadscout (the security
    // headers and no-store), so both put the same bytes on the wire.
    let same_headers: String = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| {
            !matches!(
                name.to_ascii_lowercase().as_str(),
                "date" | "content-length" | "content-type" | "connection" | "server"
            )
        })
        .map(|(name, value)| format!("    add_header {name} \"{}\" always;\n", value.trim()))
        .collect();
    let root = dir.path().join("static");
    std::fs::create_dir_all(root.join("r")).expect("static dir");
    std::fs::write(root.join("r/page.html"), &html).expect("page");
    let nginx_port = free_port();
    let conf = dir.path().join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "daemon off;\nworker_processes auto;\npid {pid};\nerror_log stderr error;\nevents {{ worker_connections 1024; }}\nhttp {{\n  access_log off;\n  client_body_temp_path {tmp}/body;\n  proxy_temp_path {tmp}/proxy;\n  fastcgi_temp_path {tmp}/fastcgi;\n  uwsgi_temp_path {tmp}/uwsgi;\n  scgi_temp_path {tmp}/scgi;\n  server {{\n    listen 127.0.0.1:{nginx_port};\n    root {root};\n    location / {{\n    default_type text/html;\n{same_headers}    }}\n  }}\n}}\n",
            pid = dir.path().join("nginx.pid").display(),
            tmp = dir.path().display(),
            root = root.display(),
        ),
    )
    .expect("nginx.conf");
    let nginx = Stop(
        Command::new("nginx")
            .args([
                "-c",
                conf.to_str().expect("path"),
                "-p",
                dir.path().to_str().expect("path"),
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("start nginx"),
    );
    wait_for_port(nginx_port);
    let (nginx_head, _) = fetch(nginx_port, "/r/page.html");
    assert!(nginx_head.starts_with("HTTP/1.1 200"), "{nginx_head}");
    println!(
        "response head: leadscout {} bytes, nginx {} bytes",
        head.len(),
        nginx_head.len()
    );
    // Rounds alternate between the two servers, so a machine that gets
    // busier or quieter during the run weighs on both alike.
    let rounds: usize = std::env::var("REPORT_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let ours_url = format!("http://127.0.0.1:{port}{path}");
    let nginx_url = format!("http://127.0.0.1:{nginx_port}/r/page.html");
    let _ = wrk(&ours_url, 2, connections);
    let _ = wrk(&nginx_url, 2, connections);
    let mut ours = Vec::new();
    let mut static_copy = Vec::new();
    // Per round and server: (server µs CPU/request, wrk µs CPU/request).
    let (mut ours_cpu, mut nginx_cpu) = (Vec::new(), Vec::new());
    let measure = |url: &str, pid: u32, cpu: &mut Vec<(f64, f64)>| {
        let (server, generator) = (cpu_ticks(pid), ended_children_cpu_us());
        let load = wrk(url, secs, connections);
        let requests = load.rps * secs as f64;
        cpu.push((
            cpu_us_per_request(cpu_ticks(pid) - server, &load, secs),
            (ended_children_cpu_us() - generator) as f64 / requests,
        ));
        load
    };
    for _ in 0..rounds {
        ours.push(measure(&ours_url, serve.0.id(), &mut ours_cpu));
        static_copy.push(measure(&nginx_url, nginx.0.id(), &mut nginx_cpu));
    }
    let loaded_rss = rss_kib(serve.0.id());
    drop(nginx);
    drop(serve);

    println!(
        "wrk -t2 -c{connections} -d{secs}s, loopback, load generator in its own process; {rounds} alternating rounds"
    );
    for (round, (a, b)) in ours.iter().zip(&static_copy).enumerate() {
        println!(
            "round {}: leadscout {:.0} req/s (p99 {:.2} ms, CPU/req {:.1} µs, wrk's {:.1} µs){}, nginx {:.0} req/s (p99 {:.2} ms, CPU/req {:.1} µs, wrk's {:.1} µs){}, ratio {:.2}×",
            round + 1,
            a.rps,
            a.p99_ms,
            ours_cpu[round].0,
            ours_cpu[round].1,
            errors(a),
            b.rps,
            b.p99_ms,
            nginx_cpu[round].0,
            nginx_cpu[round].1,
            errors(b),
            a.rps / b.rps
        );
    }
    let (a, b) = (median(&ours), median(&static_copy));
    println!(
        "leadscout serve /r/TOKEN: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms (median round); RSS {} MiB idle, {} MiB after",
        a.rps,
        a.p50_ms,
        a.p99_ms,
        idle_rss / 1024,
        loaded_rss / 1024
    );
    println!(
        "nginx, static copy:        {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms (median round)",
        b.rps, b.p50_ms, b.p99_ms,
    );
    let mut ratios: Vec<f64> = ours
        .iter()
        .zip(&static_copy)
        .map(|(a, b)| a.rps / b.rps)
        .collect();
    ratios.sort_by(f64::total_cmp);
    println!(
        "ratio (leadscout / nginx): {:.2}× throughput (median of the rounds' ratios; range {:.2}–{:.2}×)",
        ratios[ratios.len() / 2],
        ratios[0],
        ratios[ratios.len() - 1]
    );
}

fn errors(load: &Load) -> String {
    if load.errors.is_empty() {
        String::new()
    } else {
        format!(" [{}]", load.errors)
    }
}

/// The round with the median throughput.
fn median(loads: &[Load]) -> &Load {
    let mut sorted: Vec<&Load> = loads.iter().collect();
    sorted.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    sorted[sorted.len() / 2]
}
