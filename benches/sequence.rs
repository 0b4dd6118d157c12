//! Follow-up sequences over a 100,000-lead campaign of which 20,000 got
//! their first email and 2,000 have their follow-up due: one scheduler
//! pass (`draft_due_followups`, drafting the 2,000), a pass with nothing
//! due (the host repeats it every minute), the funnel by step (`sequence
//! show`), one lead's `sequence status`, the dashboard, and the lead list
//! (`leads list`, the TUI's table) with what it cost before the index of
//! follow-ups waiting: one outreach read per mailed lead, timed here as
//! that read alone.
//!
//! `cargo bench --bench sequence`

mod common;

use std::time::{Duration, Instant};

use jiff::SignedDuration;
use leadscout::config::Config;
use leadscout::domain::outreach::{Author, Outreach, OutreachStatus};
use leadscout::domain::sequence::{Sequence, Step};
use leadscout::domain::{LeadId, LeadStatus, Timestamp};
use leadscout::runtime::LocalOpener;
use leadscout::service::Opener;
use leadscout::service::leads::LeadQuery;

const ROWS: usize = 100_000;
/// Every fifth lead got mail; every tenth of those is due.
const MAILED_EVERY: usize = 5;
const DUE_EVERY: usize = 10;

const FOLLOWUP: &str = "Subject: not used\nHi {{ business_name }},\n\n\
a short follow-up (step {{ followup.step }}) to my note of {{ followup.first_sent_on }}: \
{{ report_url }}\n\nBest, {{ sender.name }}\n";

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn range(v: &[Duration]) -> String {
    let min = v.iter().min().copied().unwrap_or_default();
    let max = v.iter().max().copied().unwrap_or_default();
    format!("{} – {}", ms(min), ms(max))
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
    let template = work.path().join("followup.txt");
    std::fs::write(&template, FOLLOWUP).expect("template");
    common::measure(&data, &["campaign", "create", "Bench", "--slug", "bench"]);
    common::measure(&data, &["import", csv.to_str().unwrap(), "-c", "bench"]);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        // The first emails and the sequence go in through the store, as
        // the sender and `sequence set` write them.
        let store = leadscout::store::Store::open(&data, "bench").expect("store");
        let mut campaign = store
            .campaigns()
            .expect("campaigns")
            .into_iter()
            .find(|c| c.slug.as_str() == "bench")
            .expect("campaign");
        campaign.sequence = Some(Sequence {
            steps: vec![
                Step {
                    template: String::new(),
                    after: None,
                },
                Step {
                    template: template.display().to_string(),
                    after: Some("2 days".parse().expect("delay")),
                },
            ],
            auto_approve_followups: false,
        });
        store.update_campaign(&campaign).expect("sequence");
        let ids: Vec<LeadId> = store
            .campaign_lead_ids(campaign.id, None)
            .collect::<Result<_, _>>()
            .expect("ids");
        let now = Timestamp::now();
        let started = Instant::now();
        let (mut mailed, mut due) = (0usize, 0usize);
        for (n, id) in ids.iter().enumerate().step_by(MAILED_EVERY) {
            let lead = store.lead(*id).expect("lead").expect("exists");
            let is_due = mailed.is_multiple_of(DUE_EVERY);
            let sent_at = if is_due {
                now - SignedDuration::from_hours(24 * 3)
            } else {
                now - SignedDuration::from_hours(1)
            };
            if is_due {
                store
                    .add_audit(ulid::Ulid::new(), &common::audit::generated(*id, n, 20, 50), None)
                    .expect("audit");
                due += 1;
            }
            let first = Outreach {
                status: OutreachStatus::Approved,
                approved_at: Some(sent_at),
                report_url: format!("https://reports.agency.example/r/{n}"),
                unsubscribe_url: format!("https://reports.agency.example/u/{n}"),
                message_id: Some(format!("<{n}@agency.example>")),
                ..Outreach::draft(
                    *id,
                    campaign.id,
                    lead.email.clone().expect("email"),
                    (
                        format!("Your website, {}", lead.business_name),
                        "Hello,\nthe report is ready.\nBest".into(),
                    ),
                    Author::Template,
                    sent_at,
                )
            };
            store.put_outreach(&first, None).expect("outreach");
            store.record_sent(*id, sent_at, "2026-01-01").expect("sent");
            mailed += 1;
        }
        store.flush().await.expect("flush");
        println!(
            "wrote {mailed} first emails ({due} due) in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        // What the lead list paid per load before the index: one outreach
        // read and decode per mailed lead (three runs).
        let mut old_reads = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            let mut waiting = 0usize;
            for id in store.campaign_lead_ids(campaign.id, Some(LeadStatus::Sent)) {
                let id = id.expect("id");
                if let Some(o) = store.outreach(id).expect("outreach")
                    && leadscout::domain::followup::waiting_step(&o).is_some()
                {
                    waiting += 1;
                }
            }
            assert_eq!(waiting, 0);
            old_reads.push(t.elapsed());
        }
        drop(store);

        let env = [
            ("LEADSCOUT_SENDER__NAME", "Jane Doe"),
            ("LEADSCOUT_SENDER__EMAIL", "jane@agency.example"),
            ("LEADSCOUT_SENDER__POSTAL_ADDRESS", "Main St 1, 10115 Berlin"),
            ("LEADSCOUT_SENDING__WINDOW", "00:00-24:00"),
            ("LEADSCOUT_SENDING__WEEKDAYS", "mon,tue,wed,thu,fri,sat,sun"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let config = Config::load(None, env).expect("config");
        let service = LocalOpener::new(data.clone(), config)
            .open("bench")
            .expect("open");
        let query = LeadQuery {
            campaign: "bench".into(),
            status: None,
            limit: None,
        };
        let mut lists = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            let rows = service.list_leads(&query).await.expect("list");
            lists.push(t.elapsed());
            assert_eq!(rows.len(), ROWS);
        }

        let t = Instant::now();
        let pass = service.draft_due_followups().await.expect("pass");
        let first_pass = t.elapsed();
        assert_eq!(pass.drafted as usize, due, "{:?}", pass.failed.first());
        let mut idle = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            let pass = service.draft_due_followups().await.expect("pass");
            idle.push(t.elapsed());
            assert_eq!(pass.drafted, 0);
        }

        let mut lists_after = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            let rows = service.list_leads(&query).await.expect("list");
            lists_after.push(t.elapsed());
            let waiting = rows.iter().filter(|r| r.followup_waiting.is_some()).count();
            assert_eq!(waiting, due);
        }

        let mut funnels = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            let view = service.sequence_show("bench").await.expect("funnel");
            funnels.push(t.elapsed());
            assert_eq!(view.steps[0].sent as usize, mailed);
            assert_eq!(view.steps[1].pending as usize, due);
        }
        let mut statuses = Vec::new();
        for id in ids.iter().step_by(MAILED_EVERY).take(200) {
            let t = Instant::now();
            service
                .lead_sequence(&id.to_string())
                .await
                .expect("status");
            statuses.push(t.elapsed());
        }
        statuses.sort();
        let mut dashboards = Vec::new();
        for _ in 0..3 {
            let t = Instant::now();
            service.campaign_dashboard("bench").await.expect("dashboard");
            dashboards.push(t.elapsed());
        }
        service.shutdown().await;

        println!("| benchmark (100,000 leads, {mailed} mailed, {due} due) | figure |");
        println!("|---|---|");
        println!(
            "| scheduler pass drafting {due} follow-ups | {} |",
            ms(first_pass)
        );
        println!(
            "| scheduler pass with nothing due (3 runs) | {} |",
            range(&idle)
        );
        println!(
            "| `leads list`, all 100,000 (3 runs, nothing waiting) | {} |",
            range(&lists)
        );
        println!(
            "| `leads list`, all 100,000 ({due} follow-ups waiting, 3 runs) | {} |",
            range(&lists_after)
        );
        println!(
            "| the outreach reads the list did per load before the index ({mailed} reads, 3 runs) | {} |",
            range(&old_reads)
        );
        println!("| funnel by step, `sequence show` (3 runs) | {} |", range(&funnels));
        println!(
            "| one lead's `sequence status` (200 leads) | p50 {}, max {} |",
            ms(statuses[statuses.len() / 2]),
            ms(statuses[statuses.len() - 1])
        );
        println!("| campaign dashboard (3 runs) | {} |", range(&dashboards));
    });
}
