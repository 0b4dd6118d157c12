//! Sequences under load and races, over a real store in a tempdir: the
//! scheduler pass against stops on other threads, what the lead list and
//! the dashboard read, and how a reply marked by hand is announced.

use std::sync::{Arc, Barrier};

use super::Service;
use super::leads::{LeadQuery, NewLead};
use super::outreach::Mark;
use crate::config::Config;
use crate::domain::audit::{Audit, Category, CheckResult, MeasuredBy, Scores, Severity};
use crate::domain::event::{Event, ReplySource};
use crate::domain::followup::waiting_step;
use crate::domain::outreach::{Author, Outreach, OutreachStatus};
use crate::domain::sequence::{Sequence, Step};
use crate::domain::{
    CampaignId, Email, FixedClock, Lead, LeadId, LeadSource, LeadStatus, Timestamp, Website,
};
use crate::runtime::LocalOpener;
use crate::service::Opener;

const FOLLOWUP: &str = "Subject: not used\nHi {{ business_name }},\n\n\
a short follow-up (step {{ followup.step }}).\n\nBest, {{ sender.name }}\n";

fn t0() -> Timestamp {
    "2027-03-10T10:00:00Z".parse().unwrap()
}

struct Fixture {
    _dir: tempfile::TempDir,
    service: Service,
    campaign: CampaignId,
    rt: tokio::runtime::Runtime,
}

/// A campaign `c` with a two-step sequence (the follow-up an hour after
/// the first email, any day, any hour), and the sender's identity set.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("followup.txt");
    std::fs::write(&template, FOLLOWUP).unwrap();
    let env = [
        ("LEADSCOUT_SENDER__NAME", "Jane Doe"),
        ("LEADSCOUT_SENDER__EMAIL", "jane@agency.example"),
        (
            "LEADSCOUT_SENDER__POSTAL_ADDRESS",
            "Main St 1, 10115 Berlin",
        ),
        ("LEADSCOUT_SENDING__WINDOW", "00:00-24:00"),
        ("LEADSCOUT_SENDING__WEEKDAYS", "mon,tue,wed,thu,fri,sat,sun"),
        ("LEADSCOUT_VERIFY__ENABLED", "false"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let config = Config::load(None, env).unwrap();
    let clock = Arc::new(FixedClock::new(t0()));
    let service = LocalOpener::new(dir.path().join("data"), config)
        .with_clock(clock)
        .open("test")
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(service.create_campaign("C", Some("c")))
        .unwrap();
    let mut campaign = service.campaign_by_slug("c").unwrap();
    campaign.sequence = Some(Sequence {
        steps: vec![
            Step {
                template: String::new(),
                after: None,
            },
            Step {
                template: template.display().to_string(),
                after: Some("1 hours".parse().unwrap()),
            },
        ],
        auto_approve_followups: false,
    });
    service.store().update_campaign(&campaign).unwrap();
    Fixture {
        campaign: campaign.id,
        _dir: dir,
        service,
        rt,
    }
}

fn audit(lead: LeadId) -> Audit {
    Audit {
        lead,
        created_at: t0(),
        url: "https://shop.example/".into(),
        final_url: "https://shop.example/".into(),
        status: 200,
        timings: Default::default(),
        bytes_wire: 1000,
        bytes_decoded: 4000,
        http_version: "HTTP/1.1".into(),
        page: Default::default(),
        scores: Scores {
            overall: 40,
            categories: [(Category::Seo, 40)].into_iter().collect(),
        },
        checks: vec![CheckResult {
            id: "seo.title".into(),
            category: Category::Seo,
            severity: Severity::Medium,
            passed: false,
            title: "The page has no title".into(),
            evidence: "no <title>".into(),
            why: "Search results show it.".into(),
            fix: "Add one.".into(),
            measured_by: MeasuredBy::Http,
        }],
        contacts: Default::default(),
        screenshots: Default::default(),
        metrics: Default::default(),
    }
}

/// `n` audited leads whose first email went two hours before t0: each
/// has its follow-up due.
fn mailed_leads(f: &Fixture, n: usize, tag: &str) -> Vec<LeadId> {
    let store = f.service.store();
    // Ids in making order, as the service makes them (a bare
    // `Ulid::new()` can order two leads of one millisecond either way).
    let id_gen = crate::domain::IdGen::new();
    let mut ids = Vec::new();
    for i in 0..n {
        let id = LeadId::from_ulid(id_gen.next(Timestamp::now()));
        let website = Website::parse(&format!("https://{tag}-{i}.example")).unwrap();
        let lead = Lead {
            email: Some(Email::parse(&format!("info@{tag}-{i}.example")).unwrap()),
            ..Lead::new(id, f.campaign, website, LeadSource::Manual, t0())
        };
        store.insert_leads(std::slice::from_ref(&lead)).unwrap();
        store
            .add_audit(ulid::Ulid::new(), &audit(id), None)
            .unwrap();
        let sent_at = t0() - jiff::SignedDuration::from_hours(2);
        let first = Outreach {
            status: OutreachStatus::Approved,
            approved_at: Some(sent_at),
            ..Outreach::draft(
                id,
                f.campaign,
                lead.email.clone().unwrap(),
                ("Your website".into(), "Hello".into()),
                Author::Template,
                sent_at,
            )
        };
        store.put_outreach(&first, None).unwrap();
        store.record_sent(id, sent_at, "2027-03-10").unwrap();
        ids.push(id);
    }
    ids
}

/// A stop and the scheduler racing on two threads, many times over: once
/// both are done, no stopped lead has a follow-up drafted and waiting.
/// (Before the stop was read inside the scheduler's transaction, a stop
/// landing while the pass composed the step was followed by a draft.)
#[test]
fn a_stop_racing_the_scheduler_always_wins() {
    let f = fixture();
    let mut drafted = 0;
    for round in 0..30 {
        let leads = mailed_leads(&f, 20, &format!("r{round}"));
        let start = Barrier::new(2);
        std::thread::scope(|s| {
            s.spawn(|| {
                start.wait();
                let pass = f.rt.block_on(f.service.draft_due_followups()).unwrap();
                assert!(pass.failed.is_empty(), "{pass:?}");
                drafted += pass.drafted;
            });
            s.spawn(|| {
                start.wait();
                // Half the rounds from the front, half from the back, so
                // the stops meet the pass at different points.
                let order: Vec<&LeadId> = if round % 2 == 0 {
                    leads.iter().rev().collect()
                } else {
                    leads.iter().collect()
                };
                for lead in order {
                    f.service
                        .halt_sequence(*lead, "stopped by the test")
                        .unwrap();
                }
            });
        });
        for lead in &leads {
            let store = f.service.store();
            assert!(store.sequence_stop(*lead).unwrap().is_some());
            let o = store.outreach(*lead).unwrap().unwrap();
            assert_eq!(
                waiting_step(&o),
                None,
                "round {round}: lead {lead} stopped, yet step {} is {}",
                o.step,
                o.status
            );
        }
        let waiting = f.service.store().followups_waiting(f.campaign).unwrap();
        assert!(waiting.is_empty(), "round {round}: {waiting:?}");
    }
    // The pass did draft some before their stop: the race was run.
    eprintln!("drafted before the stop: {drafted} of 600");
}

/// The scheduler drafts a follow-up, and the lead list
/// shows it waiting without reading the email (the index answers).
#[test]
fn the_lead_list_shows_a_waiting_follow_up_without_reading_an_email() {
    let f = fixture();
    let leads = mailed_leads(&f, 3, "list");
    let pass = f.rt.block_on(f.service.draft_due_followups()).unwrap();
    assert_eq!(pass.drafted, 3, "{pass:?}");
    // One is withdrawn again: it waits no more.
    f.service.halt_sequence(leads[1], "operator").unwrap();
    let query = LeadQuery {
        campaign: "c".into(),
        status: None,
        limit: None,
    };
    let before = f.service.store().outreach_reads();
    let rows = f.rt.block_on(f.service.list_leads(&query)).unwrap();
    assert_eq!(
        f.service.store().outreach_reads(),
        before,
        "listing read an email"
    );
    let waiting: Vec<(LeadId, Option<u32>)> =
        rows.iter().map(|r| (r.id, r.followup_waiting)).collect();
    assert_eq!(
        waiting,
        [(leads[0], Some(2)), (leads[1], None), (leads[2], Some(2))]
    );
    assert!(rows.iter().all(|r| r.status == LeadStatus::Sent));
}

/// The dashboard's funnel and its funnel by step come from one read of
/// the campaign's emails.
#[test]
fn the_dashboard_reads_each_email_once() {
    let f = fixture();
    mailed_leads(&f, 4, "dash");
    let before = f.service.store().outreach_reads();
    let dashboard = f.rt.block_on(f.service.campaign_dashboard("c")).unwrap();
    assert_eq!(dashboard.count("sent"), 4);
    assert_eq!(dashboard.by_step[0].sent, 4);
    assert_eq!(f.service.store().outreach_reads() - before, 4);
}

/// `outreach mark --replied` says so on the bus before the lead's change,
/// and the TUI's notice says the operator marked it, not that a reply
/// came.
#[test]
fn a_reply_marked_by_hand_is_announced_as_such() {
    use crate::tui::action::Action;
    use crate::tui::app::App;
    let f = fixture();
    let detail =
        f.rt.block_on(f.service.add_lead(&NewLead {
            campaign: "c".into(),
            website: "https://bakery.example".into(),
            name: Some("Anna Bakery".into()),
            email: Some("anna@bakery.example".into()),
            ..Default::default()
        }))
        .unwrap();
    let id = detail.lead.id;
    let query = LeadQuery {
        campaign: "c".into(),
        status: None,
        limit: None,
    };
    let rows = f.rt.block_on(f.service.list_leads(&query)).unwrap();
    let mut app = App::new(t0(), None);
    let campaigns = f.rt.block_on(f.service.list_campaigns()).unwrap();
    app.update(Action::CampaignsLoaded(campaigns));
    app.update(Action::LeadsLoaded {
        campaign: "c".into(),
        rows,
        complete: true,
    });
    let mut events = f.service.subscribe();
    f.rt.block_on(f.service.mark_outreach(&id.to_string(), Mark::Replied))
        .unwrap();
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        seen.push(event);
    }
    assert_eq!(
        seen.first(),
        Some(&Event::LeadReplied {
            lead: id,
            by: ReplySource::Manual
        }),
        "{seen:?}"
    );
    // What the TUI's loop does with them: each event, then the row read
    // again.
    for event in seen {
        match event {
            Event::LeadReplied { lead, by } => app.update(Action::LeadReplied(lead, by)),
            Event::LeadChanged { lead } => app.update(Action::LeadChanged(lead)),
            _ => Vec::new(),
        };
    }
    let row =
        f.rt.block_on(f.service.list_leads(&query))
            .unwrap()
            .remove(0);
    assert_eq!(row.status, LeadStatus::Replied);
    app.update(Action::LeadReloaded(Box::new(row)));
    let notice = app.notice.clone().map(|(text, _)| text).unwrap_or_default();
    assert!(
        notice.starts_with("marked replied: Anna Bakery"),
        "{notice}"
    );
    assert!(!notice.contains("reply from"), "{notice}");
}
