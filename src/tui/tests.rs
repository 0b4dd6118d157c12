//! `App::update` for each command, and snapshots of every pane and overlay
//! at 80x24, 120x40 and 200x50 with a fixed clock and fixed ids.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::action::{Action, Command, Detail, Effect};
use super::app::{App, Mode, Pane};
use super::panes;
use super::theme::Theme;
use crate::domain::audit::{AuditDiff, Category, Contacts, Found, Scores, Severity, Timings};
use crate::domain::outreach::{Author, Outreach};
use crate::domain::{
    CampaignId, CampaignStatus, Email, JobId, JobStatus, LeadId, LeadSource, LeadStatus, RunId,
    Timestamp,
};
use crate::service::Link;
use crate::service::audits::{AuditDiffView, AuditView, FindingView};
use crate::service::jobs::JobView;
use crate::service::outreach::OutreachView;
use crate::service::views::{CampaignSummary, LeadDetail, LeadView};

fn ts(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_795_000_000 + seconds).unwrap()
}

fn id(n: u128) -> LeadId {
    LeadId::from_ulid(ulid::Ulid(n))
}

const NAMES: [&str; 6] = [
    "Bäckerei Sonnenschein",
    "Café Kiezperle",
    "Zahnarzt Lindqvist",
    "Blumenhaus Flieder",
    "Tischlerei Eichenholz",
    "Physio am Park",
];

fn lead(n: usize) -> LeadView {
    let statuses = [
        LeadStatus::Drafted,
        LeadStatus::Failed,
        LeadStatus::Audited,
        LeadStatus::Drafted,
        LeadStatus::New,
        LeadStatus::Sent,
    ];
    let slug = NAMES[n].to_lowercase().replace([' ', 'ä', 'é'], "-");
    LeadView {
        id: id(n as u128 + 1),
        campaign: "berlin".into(),
        business_name: NAMES[n].into(),
        website: format!("https://{slug}.example/"),
        domain: format!("{slug}.example"),
        email: (n != 4).then(|| format!("info@{slug}.example")),
        phone: None,
        city: Some(
            if n.is_multiple_of(2) {
                "Berlin"
            } else {
                "Potsdam"
            }
            .into(),
        ),
        category: None,
        status: statuses[n],
        score: [Some(62), None, Some(91), Some(45), None, Some(78)][n],
        created_at: ts(n as i64),
        views: [3, 0, 0, 1, 0, 0][n],
        last_viewed_at: None,
        hot: n == 0,
        status_before_blacklist: None,
        followup_waiting: None,
        last_job: None,
    }
}

fn campaign() -> CampaignSummary {
    CampaignSummary {
        id: CampaignId::from_ulid(ulid::Ulid(99)),
        slug: "berlin".into(),
        name: "Berlin Trades".into(),
        status: CampaignStatus::Active,
        leads: 6,
        counts: [
            (LeadStatus::Drafted, 2),
            (LeadStatus::Failed, 1),
            (LeadStatus::Sent, 1),
        ]
        .into_iter()
        .collect(),
        created_at: ts(0),
        updated_at: ts(0),
    }
}

fn job(n: u128, lead: usize, stage: &str, status: JobStatus, error: Option<&str>) -> JobView {
    JobView {
        id: JobId::from_ulid(ulid::Ulid(1000 + n)),
        run: RunId::from_ulid(ulid::Ulid(500)),
        lead: id(lead as u128 + 1),
        stage: stage.parse().unwrap(),
        status,
        attempts: if status == JobStatus::Dead { 3 } else { 1 },
        last_error: error.map(String::from),
        started_at: Some(ts(100)),
        finished_at: (status != JobStatus::Running).then(|| ts(103)),
    }
}

/// A check of `email` that found an MX (its local part makes it a role
/// address).
fn address_check_of(email: &str) -> crate::domain::address_check::AddressCheck {
    use crate::domain::address_check::{AddressCheck, MailRoute};
    AddressCheck::new(
        Email::parse(email).unwrap(),
        ts(5),
        MailRoute::Mx {
            hosts: vec!["mx1.mail.example".into(), "mx2.mail.example".into()],
        },
    )
}

fn detail() -> Detail {
    let l = lead(0);
    let outreach = Outreach {
        report_url: "https://reports.example/r/0123".into(),
        unsubscribe_url: "https://reports.example/u/0123".into(),
        ..Outreach::draft(
            l.id,
            CampaignId::from_ulid(ulid::Ulid(99)),
            Email::parse("info@baeckerei.example").unwrap(),
            (
                "Bäckerei Sonnenschein: 3 quick wins for your website".into(),
                "Hi Bäckerei Sonnenschein team,\n\nI looked at your website this week.\n\nBest regards,\nJane Doe\n".into(),
            ),
            Author::Template,
            ts(10),
        )
    };
    Detail {
        lead: LeadDetail {
            lead: l.clone(),
            email_source: Some("import".into()),
            address_check: l.email.as_deref().map(address_check_of),
            attributes: [("rating".to_string(), "4.5".to_string())]
                .into_iter()
                .collect(),
            source: LeadSource::Manual,
            tags: vec![],
            notes: String::new(),
            blacklisted: None,
            updated_at: ts(10),
            no_draft_reason: None,
        },
        audit: Some(audit_view(l.id)),
        diff: Some(AuditDiffView {
            lead: l.id,
            previous_at: ts(-86_400 * 30),
            current_at: ts(10),
            overall_before: 55,
            overall_now: 62,
            diff: AuditDiff {
                new: vec!["seo.meta_description".into()],
                fixed: vec!["security.https".into()],
                unchanged: vec![],
                overall_delta: 7,
                category_deltas: Default::default(),
            },
        }),
        outreach: Some(OutreachView {
            business_name: l.business_name.clone(),
            website: l.website.clone(),
            outreach,
        }),
        jobs: vec![
            job(1, 0, "fetch", JobStatus::Succeeded, None),
            job(2, 0, "draft", JobStatus::Succeeded, None),
        ],
        thread: None,
        // A 4x6 picture: red on top, blue below.
        picture: Some(image::RgbImage::from_fn(4, 6, |_, y| {
            if y < 3 {
                image::Rgb([200, 30, 30])
            } else {
                image::Rgb([30, 30, 200])
            }
        })),
    }
}

fn audit_view(lead: LeadId) -> AuditView {
    let finding = |id: &str, category, severity, title: &str, evidence: &str| FindingView {
        id: id.into(),
        category,
        severity,
        title: title.into(),
        evidence: evidence.into(),
        why: String::new(),
        fix: String::new(),
    };
    AuditView {
        lead,
        business_name: "Bäckerei Sonnenschein".into(),
        website: "https://baeckerei.example/".into(),
        audited_at: ts(10),
        final_url: "https://baeckerei.example/".into(),
        status: 200,
        http_version: "HTTP/1.1".into(),
        timings: Timings {
            dns_ms: 3,
            connect_ms: 20,
            ttfb_ms: 180,
            total_ms: 420,
        },
        bytes_wire: 48_000,
        bytes_decoded: 120_000,
        scores: Scores {
            overall: 62,
            categories: [
                (Category::Performance, 91),
                (Category::Seo, 55),
                (Category::Mobile, 40),
                (Category::Security, 70),
            ]
            .into_iter()
            .collect(),
        },
        findings: vec![
            finding(
                "mobile.viewport",
                Category::Mobile,
                Severity::High,
                "No mobile viewport",
                "no <meta name=viewport>",
            ),
            finding(
                "seo.meta_description",
                Category::Seo,
                Severity::Medium,
                "No meta description",
                "none found",
            ),
        ],
        passed: vec!["security.https".into(); 31],
        contacts: Contacts {
            emails: vec![Found {
                value: "info@baeckerei.example".into(),
                source: "mailto link".into(),
            }],
            phones: vec![Found {
                value: "+49 30 1234567".into(),
                source: "tel link".into(),
            }],
            socials: vec![("instagram".into(), "https://instagram.com/baeckerei".into())],
            contact_form: false,
            address: None,
        },
        audits: 2,
        screenshots: Default::default(),
        metrics: Default::default(),
    }
}

/// An app with one campaign, six leads, a run log and the first lead's
/// detail loaded, as the loop would leave it.
fn app() -> App {
    let mut app = App::new(ts(105), Some("http://127.0.0.1:8080".into()));
    assert_eq!(
        app.update(Action::CampaignsLoaded(vec![campaign()])),
        vec![Effect::LoadLeads("berlin".into())]
    );
    let effects = app.update(Action::LeadsLoaded {
        campaign: "berlin".into(),
        rows: (0..6).map(lead).collect(),
        complete: true,
    });
    assert_eq!(effects, vec![Effect::LoadDetail(id(1))]);
    app.update(Action::DetailLoaded(Box::new(detail())));
    app.update(Action::RunLogLoaded(vec![
        job(3, 2, "screenshot", JobStatus::Running, None),
        job(
            4,
            1,
            "fetch",
            JobStatus::Dead,
            Some("cannot resolve kiezperle.example: no such host\nmore detail"),
        ),
        job(5, 0, "draft", JobStatus::Succeeded, None),
    ]));
    app.update(Action::Stats(crate::domain::event::QueueStats {
        queued: 4,
        running: 1,
        failed: 1,
        done_per_minute: 12,
    }));
    app
}

fn cmd(app: &mut App, command: Command) -> Vec<Effect> {
    app.update(Action::Command(command))
}

fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
    app.update(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn selected_name(app: &App) -> &str {
    &app.selected().unwrap().business_name
}

/// The detail of lead `n` (0-based, as `lead(n)`), as a load returns it.
fn detail_for(n: usize) -> Detail {
    let mut d = detail();
    d.lead.lead = lead(n);
    d
}

#[test]
fn moving_loads_the_detail_of_the_new_row() {
    let mut app = app();
    assert_eq!(
        cmd(&mut app, Command::Down),
        vec![Effect::LoadDetail(id(2))]
    );
    app.update(Action::DetailLoaded(Box::new(detail_for(1))));
    assert_eq!(
        cmd(&mut app, Command::Bottom),
        vec![Effect::LoadDetail(id(6))]
    );
    app.update(Action::DetailLoaded(Box::new(detail_for(5))));
    assert_eq!(
        cmd(&mut app, Command::Down),
        vec![],
        "already at the bottom"
    );
    assert_eq!(cmd(&mut app, Command::Top), vec![Effect::LoadDetail(id(1))]);
    assert_eq!(cmd(&mut app, Command::Up), vec![]);
    app.leads.page = 4;
    cmd(&mut app, Command::PageDown);
    assert_eq!(app.leads.cursor, 2);
    cmd(&mut app, Command::PageUp);
    assert_eq!(app.leads.cursor, 0);
}

#[test]
fn a_fast_scroll_keeps_one_detail_load_in_flight_and_the_latest_row_wins() {
    let mut app = app();
    let mut loads = Vec::new();
    for _ in 0..5 {
        loads.extend(cmd(&mut app, Command::Down));
    }
    assert_eq!(
        loads,
        vec![Effect::LoadDetail(id(2))],
        "rows passed over while a load runs are not loaded"
    );
    assert_eq!(app.detail.in_flight(), Some(id(2)));
    // The first load lands after the cursor moved on: it is not shown,
    // and the row the cursor is on now is loaded next.
    let next = app.update(Action::DetailLoaded(Box::new(detail_for(1))));
    assert_eq!(next, vec![Effect::LoadDetail(id(6))]);
    assert_eq!(app.detail.shown_id(), Some(id(1)));
    assert_eq!(
        app.update(Action::DetailLoaded(Box::new(detail_for(5)))),
        vec![]
    );
    assert_eq!(app.detail.shown_id(), Some(id(6)));
    assert_eq!(app.detail.in_flight(), None);
    // A load that fails lets the next one go.
    assert_eq!(cmd(&mut app, Command::Up), vec![Effect::LoadDetail(id(5))]);
    assert_eq!(cmd(&mut app, Command::Up), vec![]);
    assert_eq!(
        app.update(Action::DetailFailed(id(5), "store closed".into())),
        vec![Effect::LoadDetail(id(4))]
    );
    // A job that ends on the lead while its load runs reads it again.
    assert_eq!(
        app.update(Action::JobChanged {
            lead: id(4),
            stage: "audit".parse().unwrap(),
            status: JobStatus::Succeeded,
        }),
        vec![Effect::ReloadLead(id(4))]
    );
    assert_eq!(
        app.update(Action::DetailLoaded(Box::new(detail_for(3)))),
        vec![Effect::LoadDetail(id(4))]
    );
    assert_eq!(
        app.update(Action::DetailLoaded(Box::new(detail_for(3)))),
        vec![]
    );
}

#[test]
fn focus_cycles_and_tabs_switch() {
    let mut app = app();
    assert_eq!(app.focus, Pane::Leads);
    cmd(&mut app, Command::FocusNext);
    assert_eq!(app.focus, Pane::Detail);
    cmd(&mut app, Command::FocusNext);
    assert_eq!(app.focus, Pane::RunLog);
    cmd(&mut app, Command::FocusPrev);
    cmd(&mut app, Command::FocusPrev);
    cmd(&mut app, Command::FocusPrev);
    assert_eq!(app.focus, Pane::Campaigns);
    assert_eq!(
        cmd(&mut app, Command::Open),
        vec![Effect::LoadLeads("berlin".into())]
    );
    cmd(&mut app, Command::ShowTab(2));
    assert_eq!(app.detail.tab, 2);
    cmd(&mut app, Command::ShowTab(9));
    assert_eq!(app.detail.tab, 5);
}

#[test]
fn the_filter_narrows_and_n_walks_the_matches() {
    let mut app = app();
    cmd(&mut app, Command::Filter);
    typed(&mut app, "status:drafted");
    let effects = key(&mut app, KeyCode::Enter);
    assert_eq!(app.leads.visible.len(), 2);
    assert_eq!(effects, vec![Effect::LoadDetail(id(1))]);
    assert!(matches!(app.mode, Mode::Normal));
    cmd(&mut app, Command::NextMatch);
    assert_eq!(selected_name(&app), "Blumenhaus Flieder");
    cmd(&mut app, Command::NextMatch);
    assert_eq!(selected_name(&app), "Bäckerei Sonnenschein", "wraps around");
    cmd(&mut app, Command::PrevMatch);
    assert_eq!(selected_name(&app), "Blumenhaus Flieder");
    // A bad term keeps the input open with the reason.
    cmd(&mut app, Command::Filter);
    typed(&mut app, " score:<x");
    key(&mut app, KeyCode::Enter);
    let Mode::Filter(line) = &app.mode else {
        panic!("the prompt stays open")
    };
    assert!(line.error.as_ref().is_some_and(|t| t.contains("number")));
    key(&mut app, KeyCode::Esc);
    assert!(matches!(app.mode, Mode::Normal));
    assert_eq!(
        app.leads.visible.len(),
        2,
        "Esc keeps the filter that was in force"
    );
}

#[test]
fn sorting_cycles_columns_and_reverses() {
    let mut app = app();
    cmd(&mut app, Command::Sort);
    cmd(&mut app, Command::Sort);
    assert_eq!(app.leads.sort.label(), "score");
    assert_eq!(
        app.leads.rows[app.leads.visible[0]].score, None,
        "no score sorts first"
    );
    cmd(&mut app, Command::SortReverse);
    assert_eq!(app.leads.rows[app.leads.visible[0]].score, Some(91));
    assert_eq!(
        selected_name(&app),
        "Bäckerei Sonnenschein",
        "the cursor stays on its lead"
    );
}

#[test]
fn marks_and_actions_on_marks_or_the_cursor() {
    let mut app = app();
    assert_eq!(
        cmd(&mut app, Command::Approve),
        vec![Effect::Approve(vec![id(1)])],
        "the cursor row without marks"
    );
    cmd(&mut app, Command::Top);
    cmd(&mut app, Command::Mark);
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::Mark);
    assert_eq!(app.leads.marks.len(), 2);
    assert_eq!(cmd(&mut app, Command::Reject), vec![], "asks first");
    assert_eq!(
        key(&mut app, KeyCode::Char('y')),
        vec![Effect::Reject(vec![id(1), id(3)])]
    );
    assert!(app.leads.marks.is_empty(), "an action uses the marks up");
    cmd(&mut app, Command::Top);
    cmd(&mut app, Command::RangeMark);
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::RangeMark);
    assert_eq!(app.leads.marks.len(), 3);
    cmd(&mut app, Command::Back);
    assert!(app.leads.marks.is_empty());
    cmd(&mut app, Command::MarkAll);
    assert_eq!(app.leads.marks.len(), 6);
}

#[test]
fn blacklist_asks_email_or_domain() {
    let mut app = app();
    cmd(&mut app, Command::Mark);
    cmd(&mut app, Command::Blacklist);
    assert!(matches!(app.mode, Mode::Ask(..)));
    key(&mut app, KeyCode::Char('z'));
    assert!(matches!(app.mode, Mode::Ask(..)), "only e or d answer");
    let effects = key(&mut app, KeyCode::Char('d'));
    assert_eq!(
        effects,
        vec![Effect::Blacklist(vec![
            "b-ckerei-sonnenschein.example".into()
        ])]
    );
    cmd(&mut app, Command::Blacklist);
    assert_eq!(
        key(&mut app, KeyCode::Char('e')),
        vec![Effect::Blacklist(vec![
            "info@caf--kiezperle.example".into()
        ])]
    );
}

#[test]
fn rerun_import_add_and_the_palette() {
    let mut app = app();
    cmd(&mut app, Command::Rerun);
    typed(&mut app, "fetch,audit");
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Effect::Rerun {
            campaign: "berlin".into(),
            stages: vec!["fetch".into(), "audit".into()],
            leads: vec![id(1)]
        }]
    );
    cmd(&mut app, Command::Import);
    typed(&mut app, "/tmp/leads.csv");
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Effect::Import {
            campaign: "berlin".into(),
            path: "/tmp/leads.csv".into()
        }]
    );
    cmd(&mut app, Command::AddLead);
    typed(&mut app, "new.example");
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Effect::AddLead {
            campaign: "berlin".into(),
            website: "new.example".into()
        }]
    );
    cmd(&mut app, Command::Palette);
    typed(&mut app, "se");
    key(&mut app, KeyCode::Tab);
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Effect::Send {
            campaign: "berlin".into()
        }],
        "Tab completes `send`"
    );
    cmd(&mut app, Command::Palette);
    typed(&mut app, "campaign new Dentists Berlin");
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Effect::CreateCampaign("Dentists Berlin".into())]
    );
    cmd(&mut app, Command::Palette);
    typed(&mut app, "blacklist a.example b@c.example");
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Effect::Blacklist(vec![
            "a.example".into(),
            "b@c.example".into()
        ])]
    );
    cmd(&mut app, Command::Palette);
    typed(&mut app, "frobnicate");
    assert_eq!(key(&mut app, KeyCode::Enter), vec![]);
    assert!(
        app.notice
            .as_ref()
            .is_some_and(|(t, _)| t.contains("unknown command `frobnicate`"))
    );
    assert_eq!(
        cmd(&mut app, Command::RetryFailed),
        vec![Effect::RetryFailed {
            campaign: "berlin".into(),
            leads: vec![]
        }]
    );
    assert_eq!(
        cmd(&mut app, Command::ReportUrl),
        vec![Effect::ReportUrl(id(1))]
    );
}

#[test]
fn the_editor_saves_with_ctrl_s_and_asks_before_discarding() {
    let mut app = app();
    cmd(&mut app, Command::Edit);
    assert!(matches!(app.mode, Mode::Editor(..)));
    key(&mut app, KeyCode::End);
    typed(&mut app, "!");
    let save = app.update(Action::Key(KeyEvent::new(
        KeyCode::Char('s'),
        KeyModifiers::CONTROL,
    )));
    assert_eq!(
        save,
        vec![Effect::SaveDraft {
            lead: id(1),
            version: 1,
            subject: "Bäckerei Sonnenschein: 3 quick wins for your website!".into(),
            body: "Hi Bäckerei Sonnenschein team,\n\nI looked at your website this week.\n\nBest regards,\nJane Doe".into(),
        }]
    );
    // A save that fails (the server is away) keeps the text in the editor.
    app.update(Action::DraftNotSaved(
        "cannot reach the leadscout server".into(),
    ));
    match &app.mode {
        Mode::Editor(editor) => assert!(editor.area.lines()[0].ends_with('!')),
        _ => panic!("the editor closed on a failed save"),
    }
    assert!(
        app.notice
            .as_ref()
            .is_some_and(|(text, error)| *error && text.contains("not saved"))
    );
    let mut saved = app.detail.shown.as_ref().unwrap().outreach.clone().unwrap();
    saved.outreach.revise(
        "Bäckerei Sonnenschein: 3 quick wins for your website!".into(),
        "Edited.\n".into(),
        crate::domain::outreach::Author::Operator,
        saved.outreach.updated_at,
    );
    let after = app.update(Action::DraftSaved(
        "draft saved (version 2, draft)".into(),
        Some(Box::new(saved)),
    ));
    assert!(
        matches!(app.mode, Mode::Normal),
        "a confirmed save closes the editor"
    );
    assert!(after.contains(&Effect::LoadLeads("berlin".into())));
    // The draft tab and the next edit show the saved text at once, at
    // its new version.
    let shown = &app
        .detail
        .shown
        .as_ref()
        .unwrap()
        .outreach
        .as_ref()
        .unwrap()
        .outreach;
    assert_eq!((shown.body.as_str(), shown.version()), ("Edited.\n", 2));
    cmd(&mut app, Command::Edit);
    match &app.mode {
        Mode::Editor(editor) => {
            assert_eq!(editor.editing.version, 2);
            assert_eq!(
                editor.area.lines().last().map(String::as_str),
                Some("Edited.")
            );
        }
        _ => panic!("the editor did not open"),
    }
    typed(&mut app, "!");
    key(&mut app, KeyCode::Esc);
    assert!(
        matches!(app.mode, Mode::Editor(..)),
        "with a change, the first Esc only warns"
    );
    key(&mut app, KeyCode::Esc);
    assert!(matches!(app.mode, Mode::Normal));
}

#[test]
fn quitting_confirms_while_jobs_run_and_enter_opens_a_whole_error() {
    let mut app = app();
    assert_eq!(cmd(&mut app, Command::Quit), vec![]);
    assert!(matches!(app.mode, Mode::ConfirmQuit));
    key(&mut app, KeyCode::Char('n'));
    assert!(!app.quit);
    app.focus = Pane::RunLog;
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::Open);
    let Mode::Message(text) = &app.mode else {
        panic!("the error opens")
    };
    assert!(text.contains("more detail"), "{text}");
    key(&mut app, KeyCode::Esc);
    cmd(&mut app, Command::Quit);
    assert_eq!(key(&mut app, KeyCode::Char('y')), vec![Effect::Quit]);
    assert!(app.quit);
    let mut idle = App::new(ts(0), None);
    assert_eq!(
        cmd(&mut idle, Command::Quit),
        vec![Effect::Quit],
        "nothing running: no question"
    );
}

#[test]
fn live_events_update_rows_and_the_run_log_on_the_next_tick() {
    let mut app = app();
    let effects = app.update(Action::JobChanged {
        lead: id(1),
        stage: "draft".parse().unwrap(),
        status: JobStatus::Succeeded,
    });
    assert_eq!(
        effects,
        vec![Effect::ReloadLead(id(1)), Effect::LoadDetail(id(1))]
    );
    assert_eq!(
        app.update(Action::Tick),
        vec![Effect::LoadRunLog],
        "the run log reloads once per tick, not per event"
    );
    assert_eq!(app.update(Action::Tick), vec![]);
    let mut changed = lead(0);
    changed.status = LeadStatus::Approved;
    app.update(Action::LeadReloaded(Box::new(changed)));
    assert_eq!(app.selected().unwrap().status, LeadStatus::Approved);
    let effects = app.update(Action::Lagged);
    assert!(
        effects.contains(&Effect::LoadLeads("berlin".into())),
        "a missed event reloads everything"
    );
}

fn dashboard() -> crate::service::dashboard::Dashboard {
    use crate::service::dashboard::{Dashboard, FunnelStep, ProblemCount};
    let steps = [
        ("leads", 1200, 100.0),
        ("audited", 1140, 95.0),
        ("drafted", 820, 71.9),
        ("approved", 610, 74.4),
        ("sent", 598, 98.0),
        ("viewed", 143, 23.9),
        ("replied", 37, 25.9),
    ];
    Dashboard {
        by_step: Vec::new(),
        campaign: "berlin".into(),
        funnel: steps
            .iter()
            .map(|(step, count, rate)| FunnelStep {
                step: step.to_string(),
                count: *count,
                rate: *rate,
            })
            .collect(),
        scores: [4, 12, 40, 96, 180, 260, 240, 180, 96, 32],
        problems: [
            ("No meta description", 802),
            ("Images without alt text", 655),
            ("Not exactly one main heading (h1)", 431),
            ("No caching headers", 390),
            ("robots.txt is missing or blocks crawling", 122),
        ]
        .iter()
        .map(|(title, leads)| ProblemCount {
            title: title.to_string(),
            leads: *leads,
        })
        .collect(),
        problems_sampled: 1000,
        jobs_per_hour: (0..24).map(|h| (h * 37 % 90) as u64).collect(),
        sent_per_hour: (0..24)
            .map(|h| if (9..17).contains(&h) { 25 } else { 0 })
            .collect(),
    }
}

#[test]
fn the_dashboard_shows_replies_by_step_when_the_campaign_has_follow_ups() {
    use crate::domain::followup::StepFunnel;
    let step = |step: u32, sent: u64, replied: u64, pending: u64| StepFunnel {
        step,
        template: String::new(),
        after: None,
        pending,
        sent,
        replied,
    };
    for (w, h) in [(80u16, 24u16), (200, 50)] {
        let mut app = app();
        cmd(&mut app, Command::Dashboard);
        let mut figures = dashboard();
        figures.by_step = vec![step(1, 120, 9, 4), step(2, 80, 6, 11), step(3, 0, 0, 2)];
        app.update(Action::DashboardLoaded(Box::new(figures)));
        let text = format!("{:?}", render(&mut app, w, h));
        assert!(text.contains("Replies by step"), "{w}x{h}: {text}");
        assert!(text.contains("step 2"), "{w}x{h}: {text}");
        assert!(text.contains("8%"), "6 of 80 replied: {text}");
    }
    let mut app = app();
    cmd(&mut app, Command::Dashboard);
    let mut figures = dashboard();
    figures.by_step = vec![step(1, 120, 9, 4)];
    app.update(Action::DashboardLoaded(Box::new(figures)));
    let text = format!("{:?}", render(&mut app, 120, 40));
    assert!(
        !text.contains("Replies by step"),
        "one step: the funnel says it all"
    );
}

#[test]
fn the_dashboard_and_the_action_log_open_over_the_panes() {
    for (w, h) in [(80u16, 24u16), (120, 40), (200, 50)] {
        let mut app = app();
        let effects = cmd(&mut app, Command::Dashboard);
        assert_eq!(effects, vec![Effect::LoadDashboard("berlin".into())]);
        app.update(Action::DashboardLoaded(Box::new(dashboard())));
        insta::assert_snapshot!(format!("dashboard_{w}x{h}"), render(&mut app, w, h));
        // Jobs mark it stale; it reloads on a later tick, not per event.
        app.update(Action::JobChanged {
            lead: id(1),
            stage: crate::domain::Stage::new("fetch").unwrap(),
            status: JobStatus::Succeeded,
        });
        let reloads = (0..25)
            .flat_map(|_| app.update(Action::Tick))
            .filter(|e| matches!(e, Effect::LoadDashboard(_)))
            .count();
        assert_eq!(reloads, 1);
        key(&mut app, KeyCode::Esc);
        assert!(matches!(app.mode, Mode::Normal));

        let effects = cmd(&mut app, Command::ActionLog);
        assert_eq!(effects, vec![Effect::LoadActionLog(Some("berlin".into()))]);
        app.update(Action::ActionLogLoaded(vec![
            crate::domain::action_log::ActionRecord {
                at: ts(60),
                user: "jana".into(),
                via: "tui".into(),
                action: "approve".into(),
                campaign: Some("berlin".into()),
                target: id(1).to_string(),
                change: "approved 1, suppressed 0, skipped 0".into(),
            },
            crate::domain::action_log::ActionRecord {
                at: ts(120),
                user: "jana".into(),
                via: "cli outreach".into(),
                action: "send".into(),
                campaign: Some("berlin".into()),
                target: "approved emails".into(),
                change: "sent 1, deferred 0, suppressed 0, failed 0, needs review 0".into(),
            },
        ]));
        insta::assert_snapshot!(format!("action_log_{w}x{h}"), render(&mut app, w, h));
        key(&mut app, KeyCode::Char('k'));
        assert_eq!(app.action_log.back, 1, "k goes back one record");
        let screen = format!("{:?}", render(&mut app, w, h));
        assert!(
            // The view scrolls only when the selection would leave it.
            screen.contains("approve") && screen.contains("sent 1,"),
            "{screen}"
        );
        key(&mut app, KeyCode::Char('G'));
        assert_eq!(app.action_log.back, 0);
    }
}

#[test]
fn read_only_refuses_changes_and_hides_their_keys() {
    let mut app = app();
    app.read_only = true;
    for command in [
        Command::Approve,
        Command::Reject,
        Command::Blacklist,
        Command::Rerun,
        Command::RetryFailed,
        Command::Edit,
        Command::Import,
        Command::AddLead,
    ] {
        assert!(cmd(&mut app, command).is_empty(), "{command:?} is refused");
        assert!(
            matches!(app.mode, Mode::Normal),
            "{command:?} opens nothing"
        );
        assert!(
            app.notice
                .as_ref()
                .is_some_and(|(text, error)| *error && text.starts_with("read-only")),
            "{command:?} says why"
        );
    }
    // The palette cannot get around it.
    cmd(&mut app, Command::Palette);
    typed(&mut app, "send");
    assert!(key(&mut app, KeyCode::Enter).is_empty());
    // Moving and filtering still work.
    assert!(!cmd(&mut app, Command::Down).is_empty());
    let help = super::keymap::help_lines(true);
    assert!(
        help.iter().all(|(_, what)| !what.contains("approve")),
        "{help:?}"
    );
    assert!(help.iter().any(|(_, what)| what.contains("filter")));
    let bar = format!("{:?}", render(&mut app, 160, 48));
    assert!(bar.contains("READ-ONLY"), "{bar}");
    assert!(!bar.contains("a approve"), "{bar}");
}

#[test]
fn the_status_bar_follows_the_server_and_a_reconnect_reloads() {
    let mut app = app();
    let effects = app.update(Action::Link(Link::Attached {
        pid: 42,
        host: "serve".into(),
        generation: 1,
    }));
    assert!(
        effects.contains(&Effect::LoadCampaigns),
        "attaching reads everything"
    );
    assert!(
        app.update(Action::Link(Link::Disconnected {
            reason: "gone".into()
        }))
        .is_empty()
    );
    let bar = format!("{:?}", render(&mut app, 80, 24));
    assert!(bar.contains("disconnected, retrying"), "{bar}");
    let effects = app.update(Action::Link(Link::Attached {
        pid: 43,
        host: "tui".into(),
        generation: 2,
    }));
    assert!(
        effects.contains(&Effect::LoadLeads("berlin".into())),
        "back: reload"
    );
    let bar = format!("{:?}", render(&mut app, 80, 24));
    assert!(bar.contains("attached to tui (pid 43)"), "{bar}");
}

#[test]
fn the_status_bar_shows_the_inbox_only_when_it_is_watched() {
    use crate::domain::inbox::{InboxStatus, WatchMode};
    let mut app = app();
    app.update(Action::Inbox(Box::default()));
    let bar = format!("{:?}", render(&mut app, 160, 48));
    assert!(!bar.contains("inbox:"), "not set up: {bar}");
    let failed = InboxStatus {
        enabled: true,
        last_error: Some("cannot reach the IMAP server".into()),
        ..Default::default()
    };
    app.update(Action::Inbox(Box::new(failed)));
    let bar = format!("{:?}", render(&mut app, 160, 48));
    assert!(bar.contains("inbox: error"), "{bar}");
    let synced = InboxStatus {
        enabled: true,
        connected: true,
        last_sync: Some(jiff::Timestamp::UNIX_EPOCH),
        ..Default::default()
    };
    app.update(Action::Inbox(Box::new(synced.clone())));
    let bar = format!("{:?}", render(&mut app, 160, 48));
    assert!(bar.contains("inbox: synced "), "{bar}");
    let polling = InboxStatus {
        watch: WatchMode::Polling,
        ..synced.clone()
    };
    app.update(Action::Inbox(Box::new(polling)));
    let bar = format!("{:?}", render(&mut app, 160, 48));
    assert!(bar.contains("inbox: polling, synced "), "{bar}");
    let lost = InboxStatus {
        watch: WatchMode::Reconnecting,
        connected: false,
        ..synced
    };
    app.update(Action::Inbox(Box::new(lost)));
    let bar = format!("{:?}", render(&mut app, 160, 48));
    assert!(bar.contains("inbox: reconnecting"), "{bar}");
}

fn render(app: &mut App, width: u16, height: u16) -> TestBackend {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    let theme = Theme { color: true };
    terminal.draw(|f| panes::draw(f, app, &theme)).unwrap();
    terminal.backend().clone()
}

/// Every pane and overlay at both sizes.
#[test]
fn snapshots() {
    for (w, h) in [(80u16, 24u16), (120, 40), (200, 50)] {
        let mut app = app();
        insta::assert_snapshot!(format!("normal_{w}x{h}"), render(&mut app, w, h));
        app.focus = Pane::Detail;
        insta::assert_snapshot!(format!("audit_tab_{w}x{h}"), render(&mut app, w, h));
        cmd(&mut app, Command::ShowTab(1));
        let screen = render(&mut app, w, h);
        let buffer = screen.buffer();
        let red = buffer
            .content()
            .iter()
            .any(|c| c.symbol() == "▀" && c.fg == ratatui::style::Color::Rgb(200, 30, 30));
        let blue_below = buffer
            .content()
            .iter()
            .any(|c| c.bg == ratatui::style::Color::Rgb(30, 30, 200));
        assert!(
            red && blue_below,
            "the picture is drawn in half blocks with its colours"
        );
        insta::assert_snapshot!(format!("screenshot_tab_{w}x{h}"), screen);
        app.focus = Pane::Leads;
        cmd(&mut app, Command::ShowTab(2));
        app.focus = Pane::Detail;
        insta::assert_snapshot!(format!("draft_tab_{w}x{h}"), render(&mut app, w, h));
        cmd(&mut app, Command::ShowTab(3));
        insta::assert_snapshot!(format!("contacts_tab_{w}x{h}"), render(&mut app, w, h));
        cmd(&mut app, Command::ShowTab(4));
        insta::assert_snapshot!(format!("history_tab_{w}x{h}"), render(&mut app, w, h));
        app.focus = Pane::Leads;
        cmd(&mut app, Command::Help);
        insta::assert_snapshot!(format!("help_{w}x{h}"), render(&mut app, w, h));
        key(&mut app, KeyCode::Esc);
        cmd(&mut app, Command::Filter);
        typed(&mut app, "status:failed");
        insta::assert_snapshot!(format!("filter_{w}x{h}"), render(&mut app, w, h));
        key(&mut app, KeyCode::Enter);
        insta::assert_snapshot!(format!("filtered_{w}x{h}"), render(&mut app, w, h));
        key(&mut app, KeyCode::Esc);
        let mut app = self::app();
        cmd(&mut app, Command::Edit);
        insta::assert_snapshot!(format!("editor_{w}x{h}"), render(&mut app, w, h));
        let mut app = self::app();
        cmd(&mut app, Command::Quit);
        insta::assert_snapshot!(format!("confirm_quit_{w}x{h}"), render(&mut app, w, h));
        let mut app = self::app();
        app.focus = Pane::RunLog;
        cmd(&mut app, Command::Down);
        cmd(&mut app, Command::Open);
        insta::assert_snapshot!(format!("error_{w}x{h}"), render(&mut app, w, h));
        let mut empty = App::new(ts(0), None);
        empty.update(Action::CampaignsLoaded(vec![]));
        insta::assert_snapshot!(format!("empty_{w}x{h}"), render(&mut empty, w, h));
    }
}

/// The campaign with an internationalised domain (stored in punycode) and
/// a long one, the detail on the IDN lead.
fn idn_app() -> (App, String) {
    let mut app = app();
    let ascii = url::Url::parse("https://bäckerei-süß.example/")
        .unwrap()
        .host_str()
        .unwrap()
        .to_string();
    let mut rows: Vec<LeadView> = (0..6).map(lead).collect();
    rows[0].website = format!("https://{ascii}/");
    rows[0].domain = ascii.clone();
    rows[0].email = Some(format!("info@{ascii}"));
    rows[4].domain = "tischlerei-eichenholz-potsdam.example".into();
    rows[4].website = "https://tischlerei-eichenholz-potsdam.example/".into();
    rows[4].business_name = "Tischlerei Eichenholz Meisterbetrieb seit 1921".into();
    app.update(Action::LeadsLoaded {
        campaign: "berlin".into(),
        rows: rows.clone(),
        complete: true,
    });
    let mut d = detail();
    d.lead.lead = rows[0].clone();
    app.update(Action::DetailLoaded(Box::new(d)));
    (app, ascii)
}

#[test]
fn long_and_internationalised_domains_show_whole_and_in_unicode() {
    for (w, h) in [(80u16, 24u16), (100, 30), (120, 40), (200, 50)] {
        let (mut app, ascii) = idn_app();
        let screen = render(&mut app, w, h);
        let text = format!("{screen:?}");
        assert!(
            text.contains("bäckerei-süß.example"),
            "{w}x{h}: the IDN in Unicode\n{text}"
        );
        assert!(!text.contains(&ascii), "{w}x{h}: no punycode on screen");
        if w >= 100 {
            assert!(
                text.contains("tischlerei-eichenholz-potsdam.example"),
                "{w}x{h}: a long domain shows whole\n{text}"
            );
        }
        if w != 100 {
            insta::assert_snapshot!(format!("idn_leads_{w}x{h}"), screen);
        }
        app.focus = Pane::Detail;
        cmd(&mut app, Command::ShowTab(3));
        let screen = render(&mut app, w, h);
        assert!(
            format!("{screen:?}").contains("https://bäckerei-süß.example/"),
            "{w}x{h}: the website in Unicode on the contacts tab"
        );
        if w != 100 {
            insta::assert_snapshot!(format!("idn_detail_{w}x{h}"), screen);
        }
    }
}

#[test]
fn the_draft_tab_says_why_there_is_no_draft() {
    let mut app = app();
    let mut d = detail();
    d.outreach = None;
    d.lead.no_draft_reason = Some(
        "skipped: no email address for this lead (none imported, none found on the site)".into(),
    );
    app.update(Action::DetailLoaded(Box::new(d)));
    app.focus = Pane::Detail;
    cmd(&mut app, Command::ShowTab(2));
    let text = format!("{:?}", render(&mut app, 160, 48));
    assert!(
        text.contains("No draft: skipped: no email address"),
        "{text}"
    );
    assert!(!text.contains("No draft yet"), "{text}");
    cmd(&mut app, Command::Edit);
    assert!(
        app.notice
            .as_ref()
            .is_some_and(|(t, e)| *e && t.contains("no email address")),
        "`e` says why too: {:?}",
        app.notice
    );
}

#[test]
fn the_draft_tab_says_when_the_lead_was_audited_again_since_the_draft() {
    let mut app = app();
    let mut d = detail();
    let audit = d.audit.clone().unwrap();
    let o = &mut d.outreach.as_mut().unwrap().outreach;
    o.audit = Some(crate::domain::outreach::AuditRef {
        created_at: audit.audited_at,
        overall: audit.scores.overall,
    });
    app.update(Action::DetailLoaded(Box::new(d.clone())));
    app.focus = Pane::Detail;
    cmd(&mut app, Command::ShowTab(2));
    let text = format!("{:?}", render(&mut app, 160, 48));
    assert!(!text.contains("stale"), "written from this audit: {text}");

    let o = &mut d.outreach.as_mut().unwrap().outreach;
    o.audit = Some(crate::domain::outreach::AuditRef {
        created_at: ts(-86_400),
        overall: audit.scores.overall.saturating_sub(9),
    });
    app.update(Action::DetailLoaded(Box::new(d)));
    let text = format!("{:?}", render(&mut app, 160, 48));
    assert!(
        text.contains("stale") && text.contains("audited again"),
        "{text}"
    );
}

// Filters that answer, confirmations before big changes, undo, and words
// that say what changed.

fn filter_error(app: &App) -> Option<&str> {
    match &app.mode {
        Mode::Filter(line) => line.error.as_deref(),
        _ => None,
    }
}

fn notice(app: &App) -> &str {
    app.notice.as_ref().map_or("", |(t, _)| t.as_str())
}

#[test]
fn each_filter_error_names_its_token_and_keeps_the_prompt() {
    for (text, token, reason) in [
        (
            "status:nosuch",
            "`status:nosuch` at column 1",
            "no such status",
        ),
        ("score:abc", "`score:abc` at column 1", "not a number"),
        (
            "score:<75has:email",
            "`score:<75has:email` at column 1",
            "space missing before `has:email`",
        ),
        ("cafe has:wings", "`has:wings` at column 6", "has:email"),
    ] {
        let mut app = app();
        cmd(&mut app, Command::Filter);
        typed(&mut app, text);
        assert_eq!(key(&mut app, KeyCode::Enter), vec![]);
        let error = filter_error(&app).unwrap_or_else(|| panic!("{text}: no error shown"));
        assert!(error.contains(token) && error.contains(reason), "{error}");
        let Mode::Filter(line) = &app.mode else {
            unreachable!()
        };
        assert_eq!(line.text, text, "the text stays for fixing");
        assert_eq!(app.leads.visible.len(), 6, "the filter in force is kept");
    }
}

#[test]
fn the_prompt_opens_empty_and_up_walks_the_history() {
    let mut app = app();
    for text in ["status:drafted", "berlin", "status:drafted"] {
        cmd(&mut app, Command::Filter);
        typed(&mut app, text);
        key(&mut app, KeyCode::Enter);
    }
    cmd(&mut app, Command::Filter);
    let line = |app: &App| match &app.mode {
        Mode::Filter(line) => line.text.clone(),
        _ => panic!("the prompt is closed"),
    };
    assert_eq!(line(&app), "", "opens empty");
    typed(&mut app, "po");
    key(&mut app, KeyCode::Up);
    assert_eq!(line(&app), "status:drafted", "newest first");
    key(&mut app, KeyCode::Up);
    assert_eq!(line(&app), "berlin", "each once");
    key(&mut app, KeyCode::Up);
    assert_eq!(line(&app), "berlin", "the oldest stays");
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Down);
    assert_eq!(line(&app), "po", "what was typed comes back");
    key(&mut app, KeyCode::Esc);
    assert!(matches!(app.mode, Mode::Normal), "Esc cancels the edit");
    assert_eq!(app.leads.visible.len(), 2, "the filter in force stays");
}

#[test]
fn esc_clears_the_filter_and_the_marks_and_says_so() {
    let mut app = app();
    cmd(&mut app, Command::Filter);
    typed(&mut app, "status:drafted");
    key(&mut app, KeyCode::Enter);
    cmd(&mut app, Command::Mark);
    assert_eq!(app.leads.visible.len(), 2);
    cmd(&mut app, Command::Back);
    assert!(app.leads.filter.is_empty() && app.leads.marks.is_empty());
    assert_eq!(app.leads.visible.len(), 6);
    assert_eq!(
        notice(&app),
        "cleared 1 mark and the filter /status:drafted; all 6 leads shown"
    );
}

#[test]
fn words_match_without_accents_in_the_table() {
    let mut app = app();
    cmd(&mut app, Command::Filter);
    typed(&mut app, "CAFE kiez");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.leads.visible.len(), 1);
    assert_eq!(selected_name(&app), "Café Kiezperle");
}

#[test]
fn bulk_reject_asks_and_n_does_nothing() {
    let mut app = app();
    cmd(&mut app, Command::Mark);
    cmd(&mut app, Command::Mark);
    assert_eq!(cmd(&mut app, Command::Reject), vec![]);
    let Mode::Confirm(confirm) = &app.mode else {
        panic!("no question")
    };
    assert!(
        confirm.question.contains("2 marked leads"),
        "{}",
        confirm.question
    );
    assert_eq!(key(&mut app, KeyCode::Char('n')), vec![]);
    assert!(matches!(app.mode, Mode::Normal));
    assert_eq!(app.leads.marks.len(), 2, "n keeps the marks");
    assert_eq!(notice(&app), "nothing rejected; 2 still marked");
    cmd(&mut app, Command::Reject);
    assert_eq!(
        key(&mut app, KeyCode::Char('y')),
        vec![Effect::Reject(vec![id(1), id(2)])]
    );
    // One lead: no question.
    assert_eq!(
        cmd(&mut app, Command::Reject),
        vec![Effect::Reject(vec![id(3)])]
    );
}

#[test]
fn reject_says_whose_and_u_undoes_it() {
    let mut app = app();
    assert_eq!(cmd(&mut app, Command::Undo), vec![]);
    assert!(notice(&app).starts_with("nothing to undo"));
    app.update(Action::Rejected(vec![id(1)]));
    assert_eq!(
        notice(&app),
        "rejected Bäckerei Sonnenschein — u undoes (back to draft)"
    );
    assert_eq!(
        cmd(&mut app, Command::Undo),
        vec![Effect::Restore(vec![id(1)])]
    );
    assert_eq!(cmd(&mut app, Command::Undo), vec![], "one undo per change");
    // `:undo` in the palette does the same.
    app.update(Action::Rejected(vec![id(1)]));
    cmd(&mut app, Command::Palette);
    typed(&mut app, "undo");
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Effect::Restore(vec![id(1)])]
    );
}

#[test]
fn blacklist_undo_removes_only_what_was_added() {
    use crate::domain::{BlacklistEntry, BlacklistKind, BlacklistReason};
    let added = |value: &str, added: bool| crate::service::blacklist::BlacklistAdded {
        entry: BlacklistEntry {
            kind: BlacklistKind::Domain,
            value: value.into(),
            reason: BlacklistReason::Manual,
            source: "tui".into(),
            created_at: ts(0),
        },
        added,
        leads_blacklisted: 0,
        leads: vec![],
    };
    let mut app = app();
    app.update(Action::Blacklisted(vec![
        added("new.example", true),
        added("old.example", false),
    ]));
    assert!(notice(&app).contains("no lead matched new.example"));
    assert!(notice(&app).contains("old.example was already on the blacklist"));
    assert_eq!(
        cmd(&mut app, Command::Undo),
        vec![Effect::Unblacklist(vec!["new.example".into()])]
    );
    cmd(&mut app, Command::Palette);
    typed(&mut app, "unblacklist a.example b@c.example");
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Effect::Unblacklist(vec![
            "a.example".into(),
            "b@c.example".into()
        ])]
    );
}

#[test]
fn a_run_over_the_whole_campaign_asks_first() {
    let mut app = app();
    cmd(&mut app, Command::Palette);
    typed(&mut app, "run fetch,audit");
    assert_eq!(key(&mut app, KeyCode::Enter), vec![]);
    let Mode::Confirm(confirm) = &app.mode else {
        panic!("no question")
    };
    assert!(
        confirm.question.contains("Berlin Trades (6 leads)")
            && confirm.question.contains("fetch, audit"),
        "{}",
        confirm.question
    );
    let run = Effect::Rerun {
        campaign: "berlin".into(),
        stages: vec!["fetch".into(), "audit".into()],
        leads: vec![],
    };
    assert_eq!(key(&mut app, KeyCode::Char('y')), vec![run]);
    // Over marked leads: no question.
    cmd(&mut app, Command::Mark);
    cmd(&mut app, Command::Palette);
    typed(&mut app, "run fetch");
    assert_eq!(
        key(&mut app, KeyCode::Enter),
        vec![Effect::Rerun {
            campaign: "berlin".into(),
            stages: vec!["fetch".into()],
            leads: vec![id(1)],
        }]
    );
}

#[test]
fn esc_on_an_unchanged_editor_closes_at_once() {
    let mut app = app();
    cmd(&mut app, Command::Edit);
    assert!(matches!(app.mode, Mode::Editor(..)));
    key(&mut app, KeyCode::Esc);
    assert!(matches!(app.mode, Mode::Normal), "nothing to lose: closed");
    assert!(!notice(&app).contains("discards"), "{}", notice(&app));
}

#[test]
fn the_empty_screen_says_how_to_make_a_campaign_first() {
    let mut empty = App::new(ts(0), None);
    empty.update(Action::CampaignsLoaded(vec![]));
    let screen = format!("{:?}", render(&mut empty, 120, 40));
    assert!(
        screen.contains(":campaign new NAME` makes one; then `i`"),
        "{screen}"
    );
    cmd(&mut empty, Command::Import);
    assert!(notice(&empty).contains(":campaign new NAME"));
}

/// Each filter error as drawn, at the three sizes.
#[test]
fn filter_error_snapshots() {
    for (w, h) in [(80u16, 24u16), (120, 40), (200, 50)] {
        for (name, text) in [
            ("status", "status:nosuch"),
            ("score", "score:abc"),
            ("joined", "score:<75has:email"),
        ] {
            let mut app = app();
            cmd(&mut app, Command::Filter);
            typed(&mut app, text);
            key(&mut app, KeyCode::Enter);
            insta::assert_snapshot!(
                format!("filter_error_{name}_{w}x{h}"),
                render(&mut app, w, h)
            );
        }
    }
}

/// The questions asked before a bulk reject and a whole-campaign run, as
/// drawn at the three sizes.
#[test]
fn confirmation_snapshots() {
    for (w, h) in [(80u16, 24u16), (120, 40), (200, 50)] {
        let mut app = self::app();
        cmd(&mut app, Command::Mark);
        cmd(&mut app, Command::Mark);
        cmd(&mut app, Command::Reject);
        insta::assert_snapshot!(format!("confirm_reject_{w}x{h}"), render(&mut app, w, h));
        let mut app = self::app();
        cmd(&mut app, Command::Palette);
        typed(&mut app, "run fetch,audit");
        key(&mut app, KeyCode::Enter);
        insta::assert_snapshot!(format!("confirm_run_{w}x{h}"), render(&mut app, w, h));
    }
}

// Part B of issue 18: whole messages, the message history, and an action
// log that says what `leadscout log` says.

/// The rows of a drawn frame as text.
fn rows(screen: &TestBackend) -> Vec<String> {
    let buffer = screen.buffer();
    (0..buffer.area.height)
        .map(|y| {
            (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
        })
        .collect()
}

/// Every word of the screen, in reading order, separated by one space
/// (side borders left out).
fn words(screen: &TestBackend) -> String {
    rows(screen)
        .iter()
        .flat_map(|r| {
            r.split_whitespace()
                .filter(|w| *w != "│")
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A 300-character message of distinct words, ending in a long URL.
fn long_message() -> String {
    let mut text = String::from("approved 0, suppressed 0; skipped 4:");
    let mut n = 0;
    while text.chars().count() < 240 {
        n += 1;
        text.push_str(&format!(" Lead{n}: the email is sent, not a draft;"));
    }
    text.push_str(" see http://127.0.0.1:8080/r/4732cafe0123456789abcdef0123456789");
    text.truncate(300);
    text
}

fn record(
    at: i64,
    action: &str,
    target: &str,
    change: &str,
) -> crate::domain::action_log::ActionRecord {
    crate::domain::action_log::ActionRecord {
        at: ts(at),
        user: "jana".into(),
        via: "tui".into(),
        action: action.into(),
        campaign: Some("berlin".into()),
        target: target.into(),
        change: change.into(),
    }
}

fn log_records() -> Vec<crate::domain::action_log::ActionRecord> {
    let mut blacklist = record(
        30,
        "blacklist_add",
        "tiny.example",
        "domain tiny.example blacklisted (manual); 1 lead(s) blacklisted",
    );
    blacklist.campaign = None;
    let mut setting = record(
        20,
        "settings_set",
        "report.cta_url",
        "set to `https://agency.example/book-a-free-website-check-with-our-team`",
    );
    setting.campaign = None;
    vec![
        setting,
        blacklist,
        record(
            60,
            "reject",
            &id(2).to_string(),
            "rejected 1: Zahnarztpraxis Dr. Blum",
        ),
        record(
            90,
            "edit_draft",
            &id(1).to_string(),
            "new text (version 3, subject \"Ihre Website: drei schnelle Verbesserungen für mehr Anfragen aus der Nachbarschaft\"); the compliance footer was added back; now draft",
        ),
    ]
}

#[test]
fn a_long_notice_is_drawn_whole_above_the_status_bar() {
    let message = long_message();
    assert_eq!(message.chars().count(), 300);
    for (w, h) in [(80u16, 24u16), (120, 40), (200, 50)] {
        let mut app = app();
        app.update(Action::Notice(message.clone()));
        let screen = render(&mut app, w, h);
        assert!(words(&screen).contains(&message), "{w}x{h}: {screen:?}");
        // A short one stays on the bar.
        app.update(Action::Notice("rejected 1".into()));
        let screen = render(&mut app, w, h);
        let last = rows(&screen).pop().unwrap_or_default();
        assert!(last.contains("rejected 1"), "{last}");
        assert!(!words(&screen).contains("M: all messages"));
    }
    // An error too, in the editor's place as well.
    let mut app = app();
    app.update(Action::Failed(message.clone()));
    assert!(words(&render(&mut app, 80, 24)).contains(&message));
}

#[test]
fn snapshot_a_long_message_read_whole() {
    for (w, h) in [(80u16, 24u16), (120, 40), (200, 50)] {
        let mut app = app();
        app.update(Action::Notice(long_message()));
        insta::assert_snapshot!(format!("long_message_{w}x{h}"), render(&mut app, w, h));
    }
}

#[test]
fn the_history_keeps_notes_and_errors_in_order() {
    let mut app = app();
    app.update(Action::Notice("approved 1, suppressed 0".into()));
    app.update(Action::Failed(
        "the email to Blum is sent; only drafts can be rejected".into(),
    ));
    cmd(&mut app, Command::Sort);
    let sorted = format!("sorted by {}", app.leads.sort.label());
    // The same words twice are two messages.
    app.update(Action::Notice("approved 1, suppressed 0".into()));
    let said: Vec<(&str, bool)> = app
        .messages
        .said
        .iter()
        .map(|s| (s.text.as_str(), s.error))
        .collect();
    assert_eq!(
        said,
        vec![
            ("approved 1, suppressed 0", false),
            (
                "the email to Blum is sent; only drafts can be rejected",
                true
            ),
            (sorted.as_str(), false),
            ("approved 1, suppressed 0", false),
        ]
    );
    // `M` opens it; j/k scroll; M closes.
    cmd(&mut app, Command::Messages);
    assert!(matches!(app.mode, Mode::History));
    let text = words(&render(&mut app, 80, 24));
    assert!(text.contains("error the email to Blum"), "{text}");
    key(&mut app, KeyCode::Char('k'));
    assert_eq!(app.messages.back, 1);
    key(&mut app, KeyCode::Char('M'));
    assert!(matches!(app.mode, Mode::Normal));
    // `:messages` too.
    cmd(&mut app, Command::Palette);
    typed(&mut app, "messages");
    key(&mut app, KeyCode::Enter);
    assert!(matches!(app.mode, Mode::History), "`:messages` opens it");
    assert_eq!(app.messages.back, 0, "at the newest");
    key(&mut app, KeyCode::Esc);
    assert!(matches!(app.mode, Mode::Normal));
    let help = crate::tui::keymap::help_lines(true);
    assert!(
        help.iter().any(|(k, h)| k == "M" && h.contains("messages")),
        "{help:?}"
    );
}

#[test]
fn snapshot_the_message_history() {
    for (w, h) in [(80u16, 24u16), (120, 40), (200, 50)] {
        let mut app = app();
        app.update(Action::Notice("report page (copied where the terminal allows):\nhttp://127.0.0.1:8080/r/4732cafe0123456789".into()));
        app.now = ts(130);
        app.update(Action::Failed(
            "sending needs the sender's identity: set sender.name, sender.company, sender.email and sender.postal_address (leadscout settings set KEY VALUE)".into(),
        ));
        app.now = ts(190);
        app.update(Action::Notice(long_message()));
        app.now = ts(250);
        app.update(Action::Notice("imported 3, 0 duplicate(s) skipped, 0 blacklisted skipped, 2 row(s) rejected\nrow 3: no website or email\nrow 7: `htp://x` is not a web address".into()));
        cmd(&mut app, Command::Messages);
        insta::assert_snapshot!(format!("message_history_{w}x{h}"), render(&mut app, w, h));
    }
}

#[test]
fn the_action_log_names_what_changed_scrolls_and_expands() {
    let mut app = app();
    cmd(&mut app, Command::ActionLog);
    app.update(Action::ActionLogLoaded(log_records()));
    let text = words(&render(&mut app, 80, 24));
    assert!(text.contains("setting `report.cta_url`"), "{text}");
    assert!(
        text.contains("rejected 1: Zahnarztpraxis Dr. Blum"),
        "{text}"
    );
    assert!(text.contains("blacklist_add tiny.example"), "{text}");
    // The newest is selected; Enter expands it whole and stays open.
    let whole = app
        .action_log
        .selected()
        .map(|r| r.describe())
        .unwrap_or_default();
    assert!(!text.contains(&whole), "cut at 80 columns: {text}");
    key(&mut app, KeyCode::Enter);
    assert!(matches!(app.mode, Mode::ActionLog) && app.action_log.expanded);
    assert!(words(&render(&mut app, 80, 24)).contains(&whole));
    // Enter or Esc collapses; Esc again closes.
    key(&mut app, KeyCode::Enter);
    assert!(!app.action_log.expanded);
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Esc);
    assert!(matches!(app.mode, Mode::ActionLog) && !app.action_log.expanded);
    key(&mut app, KeyCode::PageUp);
    assert_eq!(app.action_log.back, 3, "no further than the oldest");
    key(&mut app, KeyCode::Char('G'));
    assert_eq!(app.action_log.back, 0);
    key(&mut app, KeyCode::Esc);
    assert!(matches!(app.mode, Mode::Normal));
    cmd(&mut app, Command::ActionLog);
    key(&mut app, KeyCode::Char('q'));
    assert!(matches!(app.mode, Mode::Normal), "q closes");
}

#[test]
fn snapshot_the_action_log_with_a_long_row_expanded() {
    for (w, h) in [(80u16, 24u16), (120, 40), (200, 50)] {
        let mut app = app();
        cmd(&mut app, Command::ActionLog);
        app.update(Action::ActionLogLoaded(log_records()));
        key(&mut app, KeyCode::Enter);
        insta::assert_snapshot!(
            format!("action_log_expanded_{w}x{h}"),
            render(&mut app, w, h)
        );
    }
}

#[test]
fn each_mode_shows_its_own_keys() {
    let mut app = app();
    let bar = |app: &mut App| rows(&render(app, 120, 40)).pop().unwrap_or_default();
    assert!(bar(&mut app).contains("Space mark"));
    cmd(&mut app, Command::ActionLog);
    let log = bar(&mut app);
    assert!(
        log.contains("Enter expand") && !log.contains("Space mark"),
        "{log}"
    );
    key(&mut app, KeyCode::Esc);
    cmd(&mut app, Command::Dashboard);
    let dash = bar(&mut app);
    assert!(
        dash.contains("D close") && !dash.contains("Space mark"),
        "{dash}"
    );
    key(&mut app, KeyCode::Esc);
    cmd(&mut app, Command::Edit);
    assert!(matches!(app.mode, Mode::Editor(..)));
    let edit = bar(&mut app);
    assert!(
        edit.contains("Ctrl-S save") && !edit.contains("Space mark"),
        "{edit}"
    );
}

// Issue 18, part A: the detail pane scrolls; columns from the content and
// the window; the last job from the store.

/// The first lead's detail with 20 findings (the last one named so) and
/// a draft whose body ends in its footer.
fn long_detail() -> Detail {
    let mut d = detail();
    let audit = d.audit.as_mut().unwrap();
    audit.findings = (1..=20)
        .map(|n| FindingView {
            id: format!("security.check_{n}"),
            // The last finding is last in the last category shown.
            category: if n == 20 {
                Category::Security
            } else {
                [Category::Security, Category::Seo, Category::Accessibility][n % 3]
            },
            severity: Severity::Medium,
            title: if n == 20 {
                "Finding 20, the last one".into()
            } else {
                format!("Finding {n}: something to fix on the site")
            },
            evidence: format!("evidence {n}"),
            why: String::new(),
            fix: String::new(),
        })
        .collect();
    audit.scores.categories.insert(Category::Accessibility, 33);
    let body: String = (1..=45)
        .map(|n| format!("Paragraph {n} of the draft.\n"))
        .collect();
    d.outreach.as_mut().unwrap().outreach.body = format!(
        "{body}\n--\nJane Doe, Oranienstraße 12, 10999 Berlin\nUnsubscribe: https://reports.example/u/0123\n"
    );
    d
}

fn long_app() -> App {
    let mut app = app();
    app.update(Action::DetailLoaded(Box::new(long_detail())));
    app.focus = Pane::Detail;
    app
}

#[test]
fn scroll_keys_on_the_focused_detail_scroll_it_and_keep_the_lead() {
    let mut app = long_app();
    render(&mut app, 120, 40);
    for c in [
        Command::Down,
        Command::PageDown,
        Command::Bottom,
        Command::Up,
        Command::PageUp,
        Command::Top,
    ] {
        assert_eq!(cmd(&mut app, c), vec![], "{c:?} loads no other lead");
        assert_eq!(selected_name(&app), "Bäckerei Sonnenschein", "{c:?}");
        assert_eq!(app.focus, Pane::Detail);
    }
    assert_eq!(app.detail.scroll(), 0, "g went back to the top");
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::Down);
    assert_eq!(app.detail.scroll(), 2);
    // G lands on the last line and no further, whatever is pressed after.
    cmd(&mut app, Command::Bottom);
    let text = format!("{:?}", render(&mut app, 120, 40));
    let last = app.detail.scroll();
    assert!(last > 0);
    assert!(text.contains("Finding 20, the last one"), "{text}");
    assert!(text.contains("audit(s)"), "the last line shows: {text}");
    cmd(&mut app, Command::Down);
    cmd(&mut app, Command::PageDown);
    render(&mut app, 120, 40);
    assert_eq!(app.detail.scroll(), last, "never past the end");
    cmd(&mut app, Command::Up);
    assert_eq!(app.detail.scroll(), last - 1);
    // Another tab starts at the top; so does another lead.
    cmd(&mut app, Command::ShowTab(2));
    render(&mut app, 120, 40);
    assert_eq!(app.detail.scroll(), 0);
    cmd(&mut app, Command::Bottom);
    render(&mut app, 120, 40);
    assert!(app.detail.scroll() > 0);
    app.focus = Pane::Leads;
    assert_eq!(
        cmd(&mut app, Command::Down),
        vec![Effect::LoadDetail(id(2))]
    );
    app.update(Action::DetailLoaded(Box::new(detail_for(1))));
    app.focus = Pane::Detail;
    render(&mut app, 120, 40);
    assert_eq!(app.detail.scroll(), 0, "a new lead starts at the top");
    // Esc gives the keys back to the leads.
    cmd(&mut app, Command::Back);
    assert_eq!(app.focus, Pane::Leads);
    assert_eq!(
        cmd(&mut app, Command::Down),
        vec![Effect::LoadDetail(id(3))]
    );
}

#[test]
fn the_draft_scrolls_to_its_footer_and_the_picture_ignores_scroll_keys() {
    for (w, h) in [(80u16, 24u16), (120, 40), (200, 50)] {
        let mut app = long_app();
        cmd(&mut app, Command::ShowTab(2));
        let text = format!("{:?}", render(&mut app, w, h));
        assert!(!text.contains("Unsubscribe:"), "{w}x{h}: below the fold");
        assert!(text.contains(" of "), "{w}x{h}: the position shows\n{text}");
        cmd(&mut app, Command::Bottom);
        let text = format!("{:?}", render(&mut app, w, h));
        assert!(
            text.contains("Unsubscribe: https://reports.example/u/0123")
                && text.contains("Oranienstraße 12"),
            "{w}x{h}: the footer reads whole\n{text}"
        );
        cmd(&mut app, Command::ShowTab(1));
        for c in [Command::Bottom, Command::Down, Command::PageUp] {
            cmd(&mut app, c);
        }
        render(&mut app, w, h);
        assert_eq!(app.detail.scroll(), 0, "{w}x{h}: a picture does not scroll");
    }
}

#[test]
fn twenty_findings_scrolled_to_the_last() {
    for (w, h) in [(80u16, 24u16), (120, 40), (200, 50)] {
        let mut app = long_app();
        let text = format!("{:?}", render(&mut app, w, h));
        assert!(
            text.contains("Accessibility") && !text.contains("Accessibili…"),
            "{w}x{h}: labels whole\n{text}"
        );
        cmd(&mut app, Command::Bottom);
        let screen = render(&mut app, w, h);
        let text = format!("{screen:?}");
        assert!(text.contains("Finding 20, the last one"), "{w}x{h}\n{text}");
        insta::assert_snapshot!(format!("twenty_findings_end_{w}x{h}"), screen);
    }
}

#[test]
fn the_help_names_the_scroll_keys_and_scrolls_to_the_filter_syntax() {
    let help = crate::tui::keymap::help_lines(false);
    assert!(
        help.iter()
            .any(|(k, h)| k == "j ↓" && h.contains("scroll the detail")),
        "{help:?}"
    );
    let mut app = app();
    cmd(&mut app, Command::Help);
    let text = format!("{:?}", render(&mut app, 80, 24));
    assert!(text.contains("scroll"), "{text}");
    key(&mut app, KeyCode::Char('G'));
    let screen = render(&mut app, 80, 24);
    let text = format!("{screen:?}");
    assert!(
        text.contains("Terms combine"),
        "the syntax reads whole\n{text}"
    );
    assert!(matches!(app.mode, Mode::Help), "scroll keys keep it open");
    insta::assert_snapshot!("help_end_80x24", screen);
    key(&mut app, KeyCode::Esc);
    assert!(matches!(app.mode, Mode::Normal));
}

/// A campaign with a long name; leads with long names, an IDN and a
/// ported domain, cities, categories and last jobs from the store.
fn long_names_app() -> App {
    let mut app = App::new(ts(105), None);
    let mut c = campaign();
    c.name = "Demo: Berlin small businesses and crafts".into();
    app.update(Action::CampaignsLoaded(vec![c]));
    let mut rows: Vec<LeadView> = (0..6).map(lead).collect();
    let ascii = url::Url::parse("https://www.bäckerei-süß.example/").unwrap();
    let host = ascii
        .host_str()
        .unwrap()
        .trim_start_matches("www.")
        .to_string();
    rows[0].business_name = "Bäckerei Sonnenschein am Böcklerpark".into();
    rows[0].website = ascii.to_string();
    rows[0].domain = host.clone();
    rows[0].email = Some(format!("bestellungen@{host}"));
    rows[1].website = "http://127.0.0.1:38117/".into();
    rows[1].domain = "127.0.0.1:38117".into();
    rows[2].website = "https://shop.zahnarzt-lindqvist.example:8443/".into();
    rows[4].business_name = "Tischlerei Eichenholz Meisterbetrieb seit 1921".into();
    for (n, r) in rows.iter_mut().enumerate() {
        r.category = Some(["bakery", "cafe", "dentist"][n % 3].into());
        if n < 4 {
            r.last_job = Some(crate::service::views::LastJob {
                stage: ["draft", "fetch", "screenshot", "audit"][n]
                    .parse()
                    .unwrap(),
                status: [
                    JobStatus::Succeeded,
                    JobStatus::Dead,
                    JobStatus::Running,
                    JobStatus::Succeeded,
                ][n],
                at: ts(100),
            });
        }
    }
    app.update(Action::LeadsLoaded {
        campaign: "berlin".into(),
        rows,
        complete: true,
    });
    app
}

#[test]
fn columns_share_the_window_by_the_budget() {
    for (w, h) in [(80u16, 24u16), (120, 40), (200, 50)] {
        let mut app = long_names_app();
        let screen = render(&mut app, w, h);
        let text = format!("{screen:?}");
        for site in [
            "bäckerei-süß.example",
            "127.0.0.1:38117",
            "shop.zahnarzt-lindqvist.example:8443",
        ] {
            assert!(text.contains(site), "{w}x{h}: {site} whole\n{text}");
        }
        if w >= 120 {
            assert!(
                text.contains("Tischlerei Eichenholz Meisterbetrieb seit 1921"),
                "{w}x{h}: the long name whole\n{text}"
            );
            assert!(text.contains("Demo: Berlin small"), "{w}x{h}\n{text}");
            assert!(text.contains("businesses and"), "{w}x{h}: wrapped\n{text}");
        }
        if w >= 200 {
            assert!(text.contains("bestellungen@bä"), "{w}x{h}: email\n{text}");
        }
        insta::assert_snapshot!(format!("long_names_{w}x{h}"), screen);
    }
}

#[test]
fn a_job_event_updates_the_last_job_read_from_the_store() {
    let mut app = app();
    app.update(Action::JobChanged {
        lead: id(5),
        stage: "draft".parse().unwrap(),
        status: JobStatus::Failed,
    });
    let lead = app.leads.get(&id(5)).unwrap();
    let job = lead.last_job.as_ref().unwrap();
    assert_eq!(
        (job.stage.as_str(), job.status),
        ("draft", JobStatus::Failed)
    );
    let text = format!("{:?}", render(&mut app, 200, 50));
    assert!(text.contains("draft failed"), "{text}");
}

/// The app on a lead whose audit carries `metrics`, the detail focused.
fn metrics_app(metrics: crate::domain::metrics::AuditMetrics, speed: u8) -> App {
    let mut app = app();
    let mut d = detail();
    let a = d.audit.as_mut().unwrap();
    a.metrics = metrics;
    a.scores.categories.insert(Category::Performance, speed);
    app.update(Action::DetailLoaded(Box::new(d)));
    app.focus = Pane::Detail;
    app
}

/// Scrolls the detail down until `needle` is on its first visible line:
/// the last position where it still shows.
fn scroll_to(app: &mut App, w: u16, h: u16, needle: &str) -> TestBackend {
    let shows = |app: &mut App| format!("{:?}", render(app, w, h)).contains(needle);
    while !shows(app) {
        let before = app.detail.scroll();
        cmd(app, Command::Down);
        render(app, w, h);
        assert_ne!(
            app.detail.scroll(),
            before,
            "{w}x{h}: {needle:?} never shows"
        );
    }
    loop {
        let before = app.detail.scroll();
        cmd(app, Command::Down);
        if !shows(app) {
            cmd(app, Command::Up);
            break;
        }
        if app.detail.scroll() == before {
            break;
        }
    }
    render(app, w, h)
}

#[test]
fn snapshot_the_audit_tab_metrics() {
    use crate::domain::metrics_summary::tests::{full, http_only};
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        let mut app = metrics_app(full(), 54);
        let screen = scroll_to(
            &mut app,
            w,
            h,
            "Phone estimate (Lighthouse 12.8.2 mobile) 54/100",
        );
        let text = format!("{screen:?}");
        assert!(text.contains("Largest content"), "{w}x{h}\n{text}");
        assert!(text.contains("7.0 s"), "{w}x{h}\n{text}");
        insta::assert_snapshot!(format!("audit_metrics_{w}x{h}"), screen);
        cmd(&mut app, Command::Bottom);
        let screen = render(&mut app, w, h);
        let text = format!("{screen:?}");
        assert!(
            text.contains("hero-large.jpg"),
            "{w}x{h}: the URL's end shows\n{text}"
        );
        if w == 80 {
            // At 120x40 the whole block already shows above.
            insta::assert_snapshot!(format!("audit_metrics_end_{w}x{h}"), screen);
        }
        let mut app = metrics_app(http_only(), 91);
        let screen = scroll_to(&mut app, w, h, "Phone estimate");
        insta::assert_snapshot!(format!("audit_metrics_http_{w}x{h}"), screen);
    }
}

mod conversation;
