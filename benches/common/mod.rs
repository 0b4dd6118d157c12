//! Shared bench helpers: run the release binary as a child and measure its
//! wall time and peak RSS.

#![allow(dead_code)]

pub mod audit;
pub mod shop;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_leadscout");

/// Wall time and peak resident memory of one child process.
pub struct Measured {
    pub wall: Duration,
    pub max_rss_kib: u64,
    pub stdout: Vec<u8>,
}

/// Runs `leadscout ARGS` on `data_dir`, measuring it. Panics if it fails.
pub fn measure(data_dir: &Path, args: &[&str]) -> Measured {
    let stdout_file = tempfile::tempfile().expect("temp file");
    let started = Instant::now();
    // Reaped by wait4 below, which also reports the child's peak RSS.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(BIN)
        .env("LEADSCOUT_DATA_DIR", data_dir)
        .args(args)
        .stdout(Stdio::from(stdout_file.try_clone().expect("clone")))
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn leadscout");
    let (status, rss) = wait_with_rusage(child.id() as i32);
    let wall = started.elapsed();
    assert!(
        status == 0,
        "`leadscout {}` exited with {status}",
        args.join(" ")
    );
    use std::io::{Read, Seek};
    let mut file = stdout_file;
    file.rewind().expect("rewind");
    let mut stdout = Vec::new();
    file.read_to_end(&mut stdout).expect("read stdout");
    Measured {
        wall,
        max_rss_kib: rss,
        stdout,
    }
}

fn wait_with_rusage(pid: i32) -> (i32, u64) {
    let mut status = 0;
    // SAFETY: plain libc call with valid out-pointers owned by this frame.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert!(rc == pid, "wait4 failed");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, usage.ru_maxrss as u64)
}

pub fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

/// One line describing this machine for BENCHMARKS.md.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!("{cpu}, {cores} cores")
}

/// A CSV of `rows` distinct businesses, like the tests generate.
pub fn generated_csv(rows: usize) -> String {
    let mut out = String::from("name,website,email,phone,city,category,rating\n");
    for i in 0..rows {
        out.push_str(&format!(
            "Business {i},https://www.biz{i}.example/,info@biz{i}.example,+49 30 {i:07},City{},cat{},{}\n",
            i % 50,
            i % 20,
            i % 5
        ));
    }
    out
}
