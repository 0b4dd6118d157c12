//! TUI speed with 100,000 leads: drawing one frame into a 200x50 buffer,
//! a key press to a redrawn frame (in process), and the real binary in
//! tmux: time to the first frame and to the leads on screen, RSS, and idle
//! CPU. Needs tmux for the second part.
//!
//! `cargo bench --bench tui`

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use leadscout::config::Config;
use leadscout::runtime::LocalOpener;
use leadscout::service::Opener;
use leadscout::service::leads::LeadQuery;
use leadscout::tui::action::{Action, Command as TuiCommand};
use leadscout::tui::app::App;
use leadscout::tui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const ROWS: usize = 100_000;

fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn proc_stat(pid: u32) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let cpu = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((cpu, rss))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!("machine: {}", common::machine());
    let work = tempfile::tempdir().expect("tempdir");
    let data = work.path().join("data");
    let csv = work.path().join("leads.csv");
    std::fs::write(&csv, common::generated_csv(ROWS)).expect("csv");
    common::measure(&data, &["campaign", "create", "Bench", "--slug", "bench"]);
    common::measure(
        &data,
        &["import", csv.to_str().expect("path"), "--campaign", "bench"],
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (load, frames, keys) = rt.block_on(async {
        let service = LocalOpener::new(data.clone(), Config::default())
            .open("bench")
            .expect("open");
        let started = Instant::now();
        let campaigns = service.list_campaigns().await.expect("campaigns");
        let rows = service
            .list_leads(&LeadQuery {
                campaign: "bench".into(),
                status: None,
                limit: None,
            })
            .await
            .expect("leads");
        let load = started.elapsed();
        assert_eq!(rows.len(), ROWS);
        let mut app = App::new(jiff::Timestamp::now(), Some("http://127.0.0.1:8080".into()));
        app.update(Action::CampaignsLoaded(campaigns));
        app.update(Action::LeadsLoaded {
            campaign: "bench".into(),
            rows,
            complete: true,
        });
        let theme = Theme { color: true };
        let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
        let mut frames = Vec::new();
        for _ in 0..500 {
            let t = Instant::now();
            terminal
                .draw(|f| leadscout::tui::panes::draw(f, &mut app, &theme))
                .expect("draw");
            frames.push(t.elapsed());
        }
        // A key press: j (down), then Ctrl-d, G, g, then a filter, each
        // followed by a frame, as the loop does.
        let mut keys = Vec::new();
        let commands = [
            TuiCommand::Down,
            TuiCommand::PageDown,
            TuiCommand::Bottom,
            TuiCommand::Top,
            TuiCommand::SortReverse,
        ];
        for i in 0..500 {
            let t = Instant::now();
            app.update(Action::Command(commands[i % commands.len()]));
            terminal
                .draw(|f| leadscout::tui::panes::draw(f, &mut app, &theme))
                .expect("draw");
            keys.push(t.elapsed());
        }
        let t = Instant::now();
        app.update(Action::Command(TuiCommand::Filter));
        for c in "city7 score:<50".chars() {
            app.update(Action::Key(KeyEvent::new(
                KeyCode::Char(c),
                KeyModifiers::NONE,
            )));
        }
        app.update(Action::Key(KeyEvent::new(
            KeyCode::Enter,
            KeyModifiers::NONE,
        )));
        terminal
            .draw(|f| leadscout::tui::panes::draw(f, &mut app, &theme))
            .expect("draw");
        println!(
            "filter over 100,000 leads to a redrawn frame: {}",
            ms(t.elapsed())
        );
        service.shutdown().await;
        (load, frames, keys)
    });
    println!("loading 100,000 leads through the service: {}", ms(load));
    println!(
        "one frame, 200x50, 100,000 leads: p50 {}, p99 {}",
        ms(percentile(frames.clone(), 0.5)),
        ms(percentile(frames, 0.99))
    );
    println!(
        "key to redrawn frame: p50 {}, p99 {}",
        ms(percentile(keys.clone(), 0.5)),
        ms(percentile(keys, 0.99))
    );

    if !Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        println!("tmux is not installed: the whole-program figures are skipped (apt install tmux)");
        return;
    }
    let socket = work.path().join("tmux.sock");
    let tmux = |args: &[&str]| {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .args(args)
            .output()
            .expect("tmux");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let started = Instant::now();
    let status = Command::new("tmux")
        .arg("-S")
        .arg(&socket)
        .args([
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            "200",
            "-y",
            "50",
            "env",
        ])
        .arg(format!("LEADSCOUT_DATA_DIR={}", data.display()))
        .arg("LEADSCOUT_SERVER__BIND=127.0.0.1:0")
        .arg("TERM=xterm-256color")
        .arg(common::BIN)
        .status()
        .expect("tmux");
    assert!(status.success());
    let mut first_frame = None;
    let mut first_rows = None;
    let leads_shown = loop {
        let screen = tmux(&["capture-pane", "-p"]);
        if first_frame.is_none() && screen.contains("Run log") {
            first_frame = Some(started.elapsed());
        }
        if first_rows.is_none() && screen.contains("Business 0 ") {
            first_rows = Some(started.elapsed());
        }
        if screen.contains("bench — 100000 leads") && screen.contains("Business 0 ") {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the leads never showed:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    let pid: u32 = tmux(&["display", "-p", "#{pane_pid}"])
        .trim()
        .parse()
        .expect("pane pid");
    std::thread::sleep(Duration::from_secs(1));
    let (cpu_before, _) = proc_stat(pid).expect("stat");
    let idle = Duration::from_secs(10);
    std::thread::sleep(idle);
    let (cpu_after, rss) = proc_stat(pid).expect("stat");
    let ticks = 100.0; // USER_HZ on Linux
    let idle_cpu = (cpu_after - cpu_before) as f64 / ticks / idle.as_secs_f64() * 100.0;
    // Moving through the list, then the RSS again.
    for _ in 0..20 {
        tmux(&["send-keys", "C-d"]);
    }
    std::thread::sleep(Duration::from_millis(500));
    let (_, rss_after_keys) = proc_stat(pid).expect("stat");
    tmux(&["send-keys", "q"]);
    std::thread::sleep(Duration::from_millis(500));
    if tmux(&["capture-pane", "-p"]).contains("Quit anyway") {
        tmux(&["send-keys", "y"]);
    }
    std::thread::sleep(Duration::from_millis(1500));
    let _ = tmux(&["kill-server"]);
    println!(
        "leadscout tui in tmux 200x50: first frame after {} (including tmux start), first rows after {}, all 100,000 leads loaded after {}",
        ms(first_frame.unwrap_or_default()),
        ms(first_rows.unwrap_or_default()),
        ms(leads_shown)
    );
    println!(
        "RSS {} MiB idle, {} MiB after paging; idle CPU {:.2}% over {}s",
        rss / 1024,
        rss_after_keys / 1024,
        idle_cpu,
        idle.as_secs()
    );
}
