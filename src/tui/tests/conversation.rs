//! The Conversation tab (snapshots of a hostile thread at every size, its
//! empty states), the `replied`, `bounced` and `due` filters in the table,
//! and a reply raising its lead while the TUI is open.

use super::*;
use crate::domain::followup::NextStep;
use crate::domain::inbox::{Bounce, ConversationEntry, EntryKind, SequenceStop, Thread};

const DAY: i64 = 86_400;

fn entry(kind: EntryKind, at: i64, from: &str, subject: &str, excerpt: &str) -> ConversationEntry {
    ConversationEntry {
        kind,
        at: ts(at),
        from: from.into(),
        subject: subject.into(),
        excerpt: excerpt.into(),
        message_id: None,
        returns_on: None,
        bounce: None,
        recorded_at: ts(at + 30),
    }
}

/// Everything a thread can hold, written by someone hostile: escape
/// sequences, a bell, bidi overrides, right-to-left scripts and lines far
/// longer than any screen.
fn hostile_thread() -> Thread {
    let mut sent = entry(
        EntryKind::Sent,
        -3 * DAY,
        "jane@agency.example",
        "Bäckerei Sonnenschein: 3 quick wins for your website",
        "Hi team,",
    );
    sent.message_id = Some("01jd8k2mxq7w3v9t0a5bcdefgh.1@agency.example".into());
    let reply = entry(
        EntryKind::Reply,
        -2 * DAY,
        "\u{202e}moc.live\u{202c} Anna \u{1b}[31mBecker <anna@baeckerei.example>",
        "Re: \u{1b}]52;c;ZXZpbA==\u{7}your website\r\nBcc: x@evil.example",
        &format!(
            "Hello Jane,\tyes \u{7}let's talk on Monday.\nمرحبا، نعم لنتحدث يوم الاثنين\nשלום, נדבר ביום שני\n{}\n{}",
            "x".repeat(500),
            "word ".repeat(120)
        ),
    );
    let mut away = entry(
        EntryKind::AutoReply,
        -2 * DAY + 60,
        "office@baeckerei.example",
        "Abwesenheitsnotiz: Re: your website",
        "Ich bin bis zum 7.12.2026 nicht im Büro.",
    );
    away.returns_on = Some(jiff::civil::date(2026, 12, 7));
    let mut hard = entry(
        EntryKind::Bounce,
        -DAY,
        "MAILER-DAEMON@mx.agency.example",
        "Undelivered Mail Returned to Sender",
        "",
    );
    hard.bounce = Some(Bounce {
        permanent: true,
        status: Some("5.1.1".into()),
        recipient: Some("owner@baeckerei.example".into()),
        original_message_id: None,
        diagnostic: Some(format!(
            "550 5.1.1 <owner@baeckerei.example>: {}",
            "no such user ".repeat(30)
        )),
    });
    let mut soft = entry(
        EntryKind::SoftBounce,
        -DAY / 2,
        "MAILER-DAEMON@mx.agency.example",
        "Delivery delayed",
        "",
    );
    soft.bounce = Some(Bounce {
        permanent: false,
        status: Some("4.2.2".into()),
        recipient: Some("info@baeckerei.example".into()),
        original_message_id: None,
        diagnostic: Some("452 4.2.2 mailbox full".into()),
    });
    Thread {
        lead: id(1),
        business_name: "Bäckerei Sonnenschein".into(),
        email: Some("info@baeckerei.example".into()),
        status: LeadStatus::Replied,
        entries: vec![sent, reply, away, hard, soft],
        sequence_stop: Some(SequenceStop {
            reason: "replied (Anna Becker <anna@baeckerei.example>)".into(),
            at: ts(-2 * DAY + 120),
        }),
        next_step: None,
    }
}

fn conversation_app(thread: Option<Thread>) -> App {
    let mut app = app();
    let mut d = detail();
    d.thread = thread;
    app.update(Action::DetailLoaded(Box::new(d)));
    app.focus = Pane::Detail;
    cmd(&mut app, Command::ShowTab(5));
    app
}

/// No cell holds a control or bidi character, and the right edge of every
/// pane row is still its border (or the scrollbar): nothing the mail said
/// moved the layout.
fn assert_clean(screen: &TestBackend, h: u16) {
    let rows = rows(screen);
    for (y, row) in rows.iter().enumerate() {
        assert!(
            !row.chars()
                .any(|c| c.is_control() || crate::domain::text::is_invisible_format(c)),
            "row {y} holds a control character: {row:?}"
        );
        if y + 1 < usize::from(h) {
            let last = row.chars().last().unwrap_or(' ');
            assert!(
                matches!(last, '┐' | '│' | '┘' | '█' | '║'),
                "row {y} lost its right border: {row:?}"
            );
        }
    }
}

#[test]
fn snapshot_a_hostile_conversation_at_every_size() {
    for (w, h) in [(80u16, 24u16), (120, 40), (200, 50)] {
        let mut app = conversation_app(Some(hostile_thread()));
        let screen = render(&mut app, w, h);
        assert_clean(&screen, h);
        let text = words(&screen);
        assert!(text.contains("sequence stopped: replied"), "{text}");
        assert!(text.contains("sent"), "{text}");
        insta::assert_snapshot!(format!("conversation_{w}x{h}"), screen);
        // The end of the thread: the bounces and their codes.
        cmd(&mut app, Command::Bottom);
        let screen = render(&mut app, w, h);
        assert_clean(&screen, h);
        let text = words(&screen);
        assert!(text.contains("bounce soft 4.2.2"), "{text}");
        insta::assert_snapshot!(format!("conversation_end_{w}x{h}"), screen);
    }
}

#[test]
fn every_kind_of_entry_says_what_it_is() {
    let mut app = conversation_app(Some(hostile_thread()));
    // Tall enough for the whole thread: every line is on screen.
    let text = words(&render(&mut app, 110, 200));
    for needle in [
        "▌sent",
        "<01jd8k2m…@agency.example>",
        "▌REPLY",
        "from moc.live Anna [31mBecker <anna@baeckerei.example>",
        "Hello Jane, yes let's talk on Monday.",
        "مرحبا، نعم لنتحدث يوم الاثنين",
        "▌auto-reply",
        "back on 2026-12-07",
        "▌BOUNCE hard 5.1.1",
        "failed owner@baeckerei.example",
        "▌bounce soft 4.2.2",
        "2 days ago",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
    }
    assert!(
        !text.contains("\nBcc:"),
        "a header planted in a subject stays on its line"
    );
    assert!(!text.contains("no answer"), "there was an answer");
}

#[test]
fn the_empty_conversation_says_where_the_lead_stands() {
    let text = |thread: Option<Thread>, status: LeadStatus| {
        let mut app = app();
        let mut d = detail();
        d.lead.lead.status = status;
        d.thread = thread;
        app.update(Action::DetailLoaded(Box::new(d)));
        app.focus = Pane::Detail;
        cmd(&mut app, Command::ShowTab(5));
        words(&render(&mut app, 80, 24))
    };
    let mut thread = hostile_thread();
    thread.entries.clear();
    thread.sequence_stop = None;
    let drafted = text(Some(thread.clone()), LeadStatus::Drafted);
    assert!(
        drafted.contains("Nothing sent yet: the draft (3) waits for approval."),
        "{drafted}"
    );
    let new = text(Some(thread.clone()), LeadStatus::New);
    assert!(new.contains("Nothing sent yet."), "{new}");
    let mut sent = entry(EntryKind::Sent, -2 * DAY, "jane@agency.example", "Hi", "");
    sent.message_id = Some("abc@agency.example".into());
    thread.entries = vec![sent];
    let waiting = text(Some(thread.clone()), LeadStatus::Sent);
    assert!(
        waiting.contains("sent 2 days ago, no answer yet."),
        "{waiting}"
    );
    assert!(!waiting.contains("next: step"), "no follow-up set up");
    thread.next_step = Some(NextStep {
        step: 2,
        due_at: ts(DAY),
        template: "/srv/templates/followup-1.txt".into(),
        needs_approval: true,
        after_return: Some(jiff::civil::date(2026, 12, 7)),
    });
    let due = text(Some(thread.clone()), LeadStatus::Sent);
    assert!(
        due.contains("next: step 2 due ")
            && due.contains("for your approval")
            && due.contains("out-of-office return on 2026-12-07"),
        "{due}"
    );
    if let Some(next) = thread.next_step.as_mut() {
        next.needs_approval = false;
    }
    let auto = text(Some(thread), LeadStatus::Sent);
    assert!(auto.contains("approved with the first email"), "{auto}");
    let old_host = text(None, LeadStatus::Sent);
    assert!(old_host.contains("No conversation"), "{old_host}");
}

#[test]
fn the_tab_bar_shortens_the_other_tabs_when_narrow() {
    let mut app = conversation_app(Some(hostile_thread()));
    // The detail beside the leads keeps 60 columns at 200.
    let narrow = rows(&render(&mut app, 200, 50)).join("\n");
    assert!(
        narrow.contains("1 Audit|2 Shot|3 Draft|4 Cont|5 Hist|6 Conversation"),
        "{narrow}"
    );
    let wide = rows(&render(&mut app, 120, 40)).join("\n");
    assert!(
        wide.contains("1 Audit | 2 Screenshot | 3 Draft | 4 Contacts | 5 History | 6 Conversation"),
        "{wide}"
    );
}

/// Shows lead `n` (0-based) with a new status, as a reload after an event
/// brings it.
fn reloaded(app: &mut App, n: usize, status: LeadStatus) -> Vec<Effect> {
    let mut row = lead(n);
    row.status = status;
    app.update(Action::LeadReloaded(Box::new(row)))
}

fn visible_names(app: &App) -> Vec<String> {
    app.leads
        .visible
        .iter()
        .map(|&i| app.leads.rows[i].business_name.clone())
        .collect()
}

fn filter(app: &mut App, text: &str) {
    cmd(app, Command::Filter);
    typed(app, text);
    key(app, KeyCode::Enter);
}

#[test]
fn a_reply_raises_its_lead_at_once() {
    let mut app = app();
    // Physio am Park (sent) gets a reply: the event asks for the row.
    let effects = app.update(Action::LeadChanged(id(6)));
    assert_eq!(effects, vec![Effect::ReloadLead(id(6))]);
    let effects = reloaded(&mut app, 5, LeadStatus::Replied);
    assert!(effects.is_empty(), "not the lead shown: {effects:?}");
    assert!(
        notice(&app).starts_with("reply from Physio am Park — marked replied"),
        "{}",
        notice(&app)
    );
    let screen = rows(&render(&mut app, 120, 40));
    assert!(
        screen
            .iter()
            .any(|r| r.contains("↩ replied") && r.contains("Physio am Park")),
        "{screen:#?}"
    );
    // The same status again says nothing new.
    app.notice = None;
    reloaded(&mut app, 5, LeadStatus::Replied);
    assert!(app.notice.is_none());
    filter(&mut app, "hot");
    assert_eq!(
        visible_names(&app),
        ["Bäckerei Sonnenschein", "Physio am Park"],
        "viewed after the email, and replied"
    );
    filter(&mut app, "replied");
    assert_eq!(visible_names(&app), ["Physio am Park"]);
}

#[test]
fn a_reply_to_the_lead_shown_reads_its_conversation_again() {
    let mut app = conversation_app(None);
    // An auto-reply changes no status: the open tab reads again anyway.
    let effects = app.update(Action::LeadChanged(id(1)));
    assert_eq!(
        effects,
        vec![Effect::ReloadLead(id(1)), Effect::LoadDetail(id(1))]
    );
    app.update(Action::DetailLoaded(Box::new(detail())));
    let effects = reloaded(&mut app, 0, LeadStatus::Replied);
    assert_eq!(effects, vec![Effect::LoadDetail(id(1))]);
    // Another tab: a row change alone loads nothing more.
    app.update(Action::DetailLoaded(Box::new(detail())));
    cmd(&mut app, Command::ShowTab(0));
    assert_eq!(
        app.update(Action::LeadChanged(id(1))),
        vec![Effect::ReloadLead(id(1))]
    );
}

#[test]
fn bounced_and_due_filters_in_the_table() {
    let mut app = app();
    filter(&mut app, "due");
    assert_eq!(
        visible_names(&app),
        ["Bäckerei Sonnenschein", "Blumenhaus Flieder"],
        "the drafted leads wait on the operator"
    );
    let mut row = lead(5);
    row.status = LeadStatus::Blacklisted;
    row.status_before_blacklist = Some(LeadStatus::Bounced);
    app.update(Action::LeadReloaded(Box::new(row)));
    filter(&mut app, "bounced");
    assert_eq!(visible_names(&app), ["Physio am Park"]);
    filter(&mut app, "bounced city:berlin");
    assert!(visible_names(&app).is_empty());
    let text = words(&render(&mut app, 80, 24));
    assert!(text.contains("No lead matches the filter"), "{text}");
}

#[test]
fn the_help_names_the_conversation_tab_and_the_new_filters() {
    let mut app = app();
    cmd(&mut app, Command::Help);
    let text = words(&render(&mut app, 200, 50));
    assert!(text.contains("conversation"), "{text}");
    for term in ["replied", "bounced", "due"] {
        assert!(text.contains(term), "{term} missing from the help:\n{text}");
    }
}
