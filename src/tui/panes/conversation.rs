//! The detail's Conversation tab: a lead's thread in time order (the
//! emails sent, replies, auto-replies with their return date, hard and
//! soft bounces with their status code), where its sequence stands, and
//! what to expect when nothing came back yet.
//!
//! Everything in a thread came from someone else's mail: each line is
//! cleaned here again (control and bidi characters out, length capped)
//! so a hostile message cannot break the pane or drive the terminal.
//! Lines are built from `domain` data only; drawing is the detail's.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::domain::inbox::{ConversationEntry, EntryKind, Thread};
use crate::domain::text::{cap, single_line};
use crate::domain::{LeadStatus, Timestamp};
use crate::tui::theme::Theme;

/// Longest line of a message shown, in characters: an excerpt is a few
/// lines a person wrote, not a page planted in one line.
const LINE_MAX: usize = 300;
/// Lines of a reply's excerpt shown (the service keeps the first lines).
const EXCERPT_LINES: usize = 6;

/// The tab's lines. `thread` is `None` when the host could not give it.
pub fn lines(
    thread: Option<&Thread>,
    status: LeadStatus,
    now: Timestamp,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let Some(thread) = thread else {
        return vec![Line::styled(
            "No conversation: the host did not give one (it may be older than this TUI).",
            theme.dim(),
        )];
    };
    let mut lines = plan(thread, theme);
    let sent = thread
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::Sent)
        .count();
    if thread.entries.is_empty() {
        lines.push(Line::styled(nothing_sent(status), theme.dim()));
        return lines;
    }
    for entry in &thread.entries {
        if !lines.is_empty() {
            lines.push(Line::raw(""));
        }
        lines.extend(entry_lines(entry, now, theme));
    }
    let answered = thread.entries.iter().any(|e| e.kind != EntryKind::Sent);
    if let Some(last) = thread
        .entries
        .iter()
        .rev()
        .find(|e| e.kind == EntryKind::Sent)
        && !answered
    {
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!(
                "{} {}, no answer yet.",
                if sent > 1 { "last sent" } else { "sent" },
                ago(now, last.at)
            ),
            theme.dim(),
        ));
    }
    lines
}

/// What the lead's sequence is doing, above the entries: why it stopped.
/// When the thread learns when its next step is due, that is one more
/// line here.
fn plan(thread: &Thread, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if let Some(stop) = &thread.sequence_stop {
        lines.push(Line::from(vec![
            Span::styled("sequence stopped: ", theme.title()),
            Span::styled(clean(&stop.reason), theme.error()),
            Span::styled(format!(" · {}", when(stop.at)), theme.dim()),
        ]));
    }
    if let Some(next) = &thread.next_step {
        let approval = if next.needs_approval {
            "drafted then, for your approval"
        } else {
            "approved with the first email"
        };
        lines.push(Line::from(vec![
            Span::styled(format!("next: step {} due ", next.step), theme.title()),
            Span::raw(when(next.due_at)),
            Span::styled(format!(" · {approval}"), theme.dim()),
        ]));
        if let Some(back) = next.after_return {
            lines.push(Line::from(Span::styled(
                format!("  pushed past the out-of-office return on {back}"),
                theme.warn(),
            )));
        }
    }
    lines
}

/// The empty tab, by where the lead stands.
fn nothing_sent(status: LeadStatus) -> &'static str {
    match status {
        LeadStatus::Drafted => "Nothing sent yet: the draft (3) waits for approval.",
        LeadStatus::Approved => "Nothing sent yet: approved, waiting for `:send`.",
        LeadStatus::Rejected => "Nothing sent: the draft was rejected.",
        LeadStatus::Blacklisted => "Nothing sent: the lead is blacklisted.",
        _ => "Nothing sent yet.",
    }
}

fn entry_lines(e: &ConversationEntry, now: Timestamp, theme: &Theme) -> Vec<Line<'static>> {
    let (label, style) = match e.kind {
        EntryKind::Sent => ("sent".to_string(), theme.title()),
        EntryKind::Reply => ("REPLY".to_string(), theme.good()),
        EntryKind::AutoReply => ("auto-reply".to_string(), theme.warn()),
        EntryKind::Bounce => (format!("BOUNCE hard {}", code(e)), theme.error()),
        EntryKind::SoftBounce => (format!("bounce soft {}", code(e)), theme.warn()),
    };
    let mut head = vec![
        Span::styled(format!("▌{label}"), style),
        Span::styled(
            format!("  {} · {}", when(e.at), ago(now, e.at)),
            theme.dim(),
        ),
    ];
    if e.kind != EntryKind::Sent && !e.from.is_empty() {
        head.push(Span::raw(format!("  from {}", clean(&e.from))));
    }
    let mut lines = vec![Line::from(head)];
    if !e.subject.is_empty() {
        lines.push(field("subject", &e.subject, theme));
    }
    if let Some(back) = e.returns_on {
        lines.push(Line::from(vec![
            Span::styled("  back on ", theme.dim()),
            Span::styled(back.to_string(), theme.warn()),
        ]));
    }
    if let Some(b) = &e.bounce {
        if let Some(to) = &b.recipient {
            lines.push(field("failed", to, theme));
        }
        if let Some(why) = &b.diagnostic {
            lines.push(field("server", why, theme));
        }
    }
    match e.kind {
        EntryKind::Sent => {
            if let Some(id) = &e.message_id {
                lines.push(field("id", &short_id(id), theme));
            }
        }
        EntryKind::Reply | EntryKind::AutoReply => {
            let excerpt: Vec<String> = e
                .excerpt
                .lines()
                .map(clean)
                .filter(|l| !l.is_empty())
                .collect();
            for l in excerpt.iter().take(EXCERPT_LINES) {
                lines.push(Line::from(vec![
                    Span::styled("  │ ", theme.dim()),
                    Span::raw(l.clone()),
                ]));
            }
            if excerpt.len() > EXCERPT_LINES {
                lines.push(Line::styled("  │ …", theme.dim()));
            }
        }
        EntryKind::Bounce | EntryKind::SoftBounce => {}
    }
    lines
}

fn field(name: &str, value: &str, theme: &Theme) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("  {name:<8}"), theme.dim()),
        Span::styled(clean(value), Style::new()),
    ])
}

/// A bounce's status code, or that the report gave none.
fn code(e: &ConversationEntry) -> String {
    e.bounce
        .as_ref()
        .and_then(|b| b.status.as_deref())
        .map(clean)
        .unwrap_or_else(|| "(no code)".into())
}

/// One printable line of at most [`LINE_MAX`] characters.
fn clean(text: &str) -> String {
    cap(&single_line(text), LINE_MAX)
}

fn when(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M").to_string()
}

/// How long ago, in the largest unit that reads naturally.
pub fn ago(now: Timestamp, at: Timestamp) -> String {
    let secs = now.duration_since(at).as_secs();
    let plural = |n: i64, unit: &str| format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" });
    match secs {
        ..60 => "just now".into(),
        60..3_600 => plural(secs / 60, "minute"),
        3_600..86_400 => plural(secs / 3_600, "hour"),
        _ => plural(secs / 86_400, "day"),
    }
}

/// A Message-ID short enough for a line: the start of its local part
/// and its domain (`<01jd8k2m…@agency.example>`).
pub fn short_id(id: &str) -> String {
    let id = single_line(id);
    let id = id.trim_start_matches('<').trim_end_matches('>');
    let (local, domain) = id.split_once('@').unwrap_or((id, ""));
    let local = if local.chars().count() > 10 {
        format!("{}…", local.chars().take(8).collect::<String>())
    } else {
        local.to_string()
    };
    let short = if domain.is_empty() {
        local
    } else {
        format!("{local}@{}", cap(domain, 30))
    };
    format!("<{short}>")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64) -> Timestamp {
        Timestamp::from_second(1_795_000_000 + s).unwrap()
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(ago(ts(100), ts(90)), "just now");
        assert_eq!(ago(ts(0), ts(10)), "just now", "a clock a little behind");
        assert_eq!(ago(ts(3_600 * 5), ts(0)), "5 hours ago");
        assert_eq!(ago(ts(86_400), ts(0)), "1 day ago");
        assert_eq!(ago(ts(86_400 * 2 + 5), ts(0)), "2 days ago");
    }

    #[test]
    fn message_ids_are_shortened_and_cleaned() {
        assert_eq!(
            short_id("01jd8k2mxq7w3v9t0a@agency.example"),
            "<01jd8k2m…@agency.example>"
        );
        assert_eq!(short_id("<short@x.example>"), "<short@x.example>");
        assert_eq!(short_id("a\u{1b}[2Jb@x"), "<a [2Jb@x>");
    }
}
