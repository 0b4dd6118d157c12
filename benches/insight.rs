//! Operator insight over a 100,000-lead campaign: what recording a report
//! view costs (it happens inside the report request; target ≤ 0.5 ms at
//! p99), computing the campaign dashboard, and drawing it from the kept
//! figures (target ≤ 50 ms).
//!
//! Every lead gets an audit of 40 checks so that scores and the problem
//! sample are real reads.
//!
//! `cargo bench --bench insight`

mod common;

use std::time::{Duration, Instant};

use leadscout::config::Config;
use leadscout::domain::Timestamp;
use leadscout::runtime::LocalOpener;
use leadscout::service::Opener;
use leadscout::service::leads::LeadQuery;
use leadscout::tui::action::{Action, Command as TuiCommand};
use leadscout::tui::app::App;
use leadscout::tui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const ROWS: usize = 100_000;
const VIEWS: usize = 20_000;

fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
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
    common::measure(&data, &["import", csv.to_str().unwrap(), "-c", "bench"]);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let opener = LocalOpener::new(data.clone(), Config::default());
        let service = opener.open("bench").expect("open");
        let leads = service
            .list_leads(&LeadQuery {
                campaign: "bench".into(),
                status: None,
                limit: None,
            })
            .await
            .expect("leads");
        service.shutdown().await;
        drop(service);
        // Audits go in through the store, as the audit stage writes them.
        let store = leadscout::store::Store::open(&data, "bench").expect("store");
        let started = Instant::now();
        for (n, lead) in leads.iter().enumerate() {
            store
                .add_audit(ulid::Ulid::new(), &common::audit::generated(lead.id, n, 40, (n * 37 % 101) as u8), None)
                .expect("audit");
        }
        store.flush().await.expect("flush");
        println!("wrote {} audits in {:.1} s", leads.len(), started.elapsed().as_secs_f64());
        drop(store);

        let service = opener.open("bench").expect("open");
        // Recording views: a spread of leads and user agents.
        let agents = [
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (compatible; Googlebot/2.1)",
            "Slackbot-LinkExpanding 1.0",
        ];
        let mut views = Vec::with_capacity(VIEWS);
        for i in 0..VIEWS {
            let lead = leads[(i * 7919) % leads.len()].id;
            let t = Instant::now();
            service
                .record_view(lead, agents[i % agents.len()])
                .expect("view");
            views.push(t.elapsed());
        }

        let mut computes = Vec::new();
        let mut dashboard = None;
        for _ in 0..3 {
            let t = Instant::now();
            dashboard = Some(service.campaign_dashboard("bench").await.expect("dashboard"));
            computes.push(t.elapsed());
        }
        let dashboard = dashboard.expect("computed");
        assert_eq!(dashboard.count("leads"), ROWS as u64);
        assert_eq!(dashboard.count("audited"), ROWS as u64);

        let mut app = App::new(Timestamp::now(), None);
        app.update(Action::CampaignsLoaded(service.list_campaigns().await.expect("c")));
        app.update(Action::LeadsLoaded {
            campaign: "bench".into(),
            rows: leads,
            complete: true,
        });
        app.update(Action::Command(TuiCommand::Dashboard));
        app.update(Action::DashboardLoaded(Box::new(dashboard)));
        let theme = Theme { color: true };
        let mut frames = Vec::new();
        for (w, h) in [(80, 24), (160, 48)] {
            let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
            let mut these = Vec::new();
            for _ in 0..500 {
                let t = Instant::now();
                terminal
                    .draw(|f| leadscout::tui::panes::draw(f, &mut app, &theme))
                    .expect("draw");
                these.push(t.elapsed());
            }
            frames.push(((w, h), these));
        }
        service.shutdown().await;

        println!("| benchmark | figure | target |");
        println!("|---|---|---|");
        println!(
            "| recording a report view ({VIEWS} views over 100,000 leads) | p50 {}, p99 {} | ≤ 0.5 ms p99 |",
            ms(percentile(views.clone(), 0.5)),
            ms(percentile(views, 0.99))
        );
        println!(
            "| computing the dashboard, 100,000 leads (3 runs) | {} – {} | — (kept, not per frame) |",
            ms(*computes.iter().min().unwrap()),
            ms(*computes.iter().max().unwrap())
        );
        for ((w, h), these) in frames {
            println!(
                "| drawing the dashboard at {w}x{h} (500 frames) | p50 {}, p99 {} | ≤ 50 ms |",
                ms(percentile(these.clone(), 0.5)),
                ms(percentile(these, 0.99))
            );
        }
    });
}
