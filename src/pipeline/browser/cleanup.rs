//! Chromium processes that must not outlive their session. Killing
//! chromedriver does not kill the browsers it started, and a browser stuck
//! in a page's endless script may not quit when asked, so leadscout finds
//! them by their profile directory (which it chose) and kills the whole
//! process tree. Linux only, through /proc.

use std::path::Path;

/// Every process id with its parent, from /proc.
fn processes() -> Vec<(u32, u32)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The parent pid is the second field after the ")" ending the name.
            let ppid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((pid, ppid))
        })
        .collect()
}

fn command_line(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| String::from_utf8_lossy(&raw).replace('\0', " "))
        .unwrap_or_default()
}

/// Kills `roots` and everything below them.
fn kill_trees(roots: &[u32], all: &[(u32, u32)]) -> usize {
    let mut doomed: Vec<u32> = roots.to_vec();
    let mut i = 0;
    while i < doomed.len() {
        let parent = doomed[i];
        doomed.extend(all.iter().filter(|(_, pp)| *pp == parent).map(|(p, _)| *p));
        i += 1;
    }
    let mut killed = 0;
    for pid in doomed {
        // SAFETY: sending SIGKILL to a process id read from /proc; the worst
        // case (the id was reused in between) is bounded by the checks above.
        if unsafe { libc::kill(pid as i32, libc::SIGKILL) } == 0 {
            killed += 1;
        }
    }
    killed
}

/// Kills every browser process started with this profile directory.
pub fn kill_profile(profile: &Path) -> usize {
    let marker = format!("--user-data-dir={}", profile.display());
    let all = processes();
    let roots: Vec<u32> = all
        .iter()
        .map(|(p, _)| *p)
        .filter(|p| command_line(*p).contains(&marker))
        .collect();
    kill_trees(&roots, &all)
}

/// Kills leadscout browsers whose session owner is gone (re-parented to
/// init after a crash or a SIGKILL of leadscout).
pub fn kill_orphans(profile_prefix: &str) -> usize {
    let marker = format!(
        "--user-data-dir={}",
        std::env::temp_dir().join(profile_prefix).display()
    );
    let all = processes();
    let roots: Vec<u32> = all
        .iter()
        .filter(|(pid, ppid)| *ppid == 1 && command_line(*pid).contains(&marker))
        .map(|(pid, _)| *pid)
        .collect();
    kill_trees(&roots, &all)
}
