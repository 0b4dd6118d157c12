//! What a raw message is: a bounce (RFC 3464 delivery status, or the
//! common non-standard reports from a mailer daemon), an auto-reply
//! (RFC 3834 and the usual headers and subjects), a person's reply, or
//! unrelated mail. Pure: bytes in, [`InboxMessage`] out; no lead is looked
//! up here.

use std::sync::LazyLock;

use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders, PartType};
use regex::Regex;

use crate::domain::Timestamp;
use crate::domain::inbox::{Bounce, InboxMessage, MessageKind, normalize_message_id};
use crate::domain::text::{cap, single_line};

use super::dates::return_date;

/// Lines of a reply kept for the conversation.
const EXCERPT_LINES: usize = 5;
/// Characters per kept line.
const EXCERPT_LINE_MAX: usize = 200;

/// Parses and classifies one message. Mail that does not parse at all is
/// unrelated, with nothing known about it.
/// `now` stands in for a missing Date header when a return date is read.
pub fn classify(raw: &[u8], now: Timestamp) -> InboxMessage {
    let Some(msg) = MessageParser::default().parse(raw) else {
        return InboxMessage {
            message_id: None,
            from: None,
            from_name: None,
            subject: String::new(),
            date: None,
            refers_to: Vec::new(),
            excerpt: String::new(),
            kind: MessageKind::Unrelated,
        };
    };
    let from = msg.from().and_then(|a| a.first());
    let from_address = from
        .and_then(|a| a.address())
        .map(|a| a.trim().to_ascii_lowercase())
        .filter(|a| !a.is_empty());
    let subject = single_line(msg.subject().unwrap_or(""));
    let date = msg
        .date()
        .and_then(|d| Timestamp::from_second(d.to_timestamp()).ok());
    let mut refers_to = ids_of(msg.in_reply_to());
    let mut references = ids_of(msg.references());
    // References lists the oldest first; the newest is the likeliest match.
    references.reverse();
    for id in references {
        if !refers_to.contains(&id) {
            refers_to.push(id);
        }
    }
    let text = msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let kind = if let Some(bounce) = bounce(&msg, from_address.as_deref(), &subject, &text) {
        MessageKind::Bounce(bounce)
    } else if is_auto_reply(&msg, &subject) {
        let base = date.unwrap_or(now);
        MessageKind::AutoReply {
            returns_on: return_date(&format!("{subject}\n{text}"), base),
        }
    } else if is_list_mail(&msg) {
        MessageKind::Unrelated
    } else {
        MessageKind::Reply
    };
    let excerpt = match &kind {
        MessageKind::Bounce(b) => b.diagnostic.clone().unwrap_or_default(),
        _ => excerpt(&text),
    };
    InboxMessage {
        message_id: msg
            .message_id()
            .map(normalize_message_id)
            .filter(|id| !id.is_empty()),
        from: from_address,
        from_name: from
            .and_then(|a| a.name())
            .map(|n| cap(&single_line(n), 120))
            .filter(|n| !n.is_empty()),
        subject: cap(&subject, 300),
        date,
        refers_to,
        excerpt,
        kind,
    }
}

/// Message-IDs in an In-Reply-To or References header.
fn ids_of(value: &HeaderValue<'_>) -> Vec<String> {
    let raw: Vec<String> = match value {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    };
    raw.iter()
        .flat_map(|v| v.split_whitespace().map(str::to_string).collect::<Vec<_>>())
        .map(|id| normalize_message_id(&id))
        .filter(|id| id.contains('@'))
        .collect()
}

fn header_text<'a>(msg: &'a Message<'_>, name: &'a str) -> Option<&'a str> {
    msg.header_raw(name).map(str::trim)
}

/// RFC 3834 `Auto-Submitted` (anything but `no`), the de-facto
/// `X-Autoreply`/`X-Autorespond`, `Precedence: auto_reply|bulk|junk`,
/// and out-of-office subjects in English and German.
fn is_auto_reply(msg: &Message<'_>, subject: &str) -> bool {
    if let Some(v) = header_text(msg, "Auto-Submitted")
        && !v.to_ascii_lowercase().starts_with("no")
    {
        return true;
    }
    if ["X-Autoreply", "X-Autorespond", "X-Autoresponse"]
        .iter()
        .any(|h| header_text(msg, h).is_some_and(|v| !v.eq_ignore_ascii_case("no")))
    {
        return true;
    }
    if let Some(p) = header_text(msg, "Precedence")
        && matches!(
            p.to_ascii_lowercase().as_str(),
            "auto_reply" | "bulk" | "junk"
        )
        && !is_list_mail(msg)
    {
        return true;
    }
    if header_text(msg, "X-Auto-Response-Suppress").is_some_and(|v| v.contains("All"))
        && OOO_SUBJECT.is_match(subject)
    {
        return true;
    }
    OOO_SUBJECT.is_match(subject)
}

static OOO_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(out of (the )?office|automatic reply|auto(matic)?[- ]?(reply|response)|autoreply|away from (the )?office|on vacation|abwesenheitsnotiz|abwesenheit|automatische antwort|nicht im b(ü|ue)ro|urlaub)",
    )
    .unwrap_or_else(|e| panic!("out-of-office pattern: {e}"))
});

/// Mailing lists and newsletters: not replies, whatever they say.
fn is_list_mail(msg: &Message<'_>) -> bool {
    header_text(msg, "List-Id").is_some()
        || header_text(msg, "List-Unsubscribe").is_some()
        || header_text(msg, "Precedence").is_some_and(|p| p.eq_ignore_ascii_case("list"))
}

/// A delivery failure, if the message is one.
fn bounce(msg: &Message<'_>, from: Option<&str>, subject: &str, text: &str) -> Option<Bounce> {
    let raw = msg.raw_message();
    let mut report: Option<Bounce> = None;
    let mut saw_report = false;
    let mut original = None;
    for part in &msg.parts {
        let (ctype, sub) = part
            .content_type()
            .map(|c| {
                (
                    c.ctype().to_ascii_lowercase(),
                    c.subtype().unwrap_or("").to_ascii_lowercase(),
                )
            })
            .unwrap_or_default();
        if ctype != "message" && ctype != "text" {
            continue;
        }
        let body = raw
            .get(part.offset_body as usize..part.offset_end as usize)
            .unwrap_or(&[]);
        match sub.as_str() {
            "delivery-status" | "global-delivery-status" => {
                saw_report = true;
                report = report.or_else(|| delivery_status(&String::from_utf8_lossy(body)));
            }
            "rfc822" | "global" => {
                if let PartType::Message(inner) = &part.body {
                    original = original.or_else(|| inner.message_id().map(normalize_message_id));
                }
                original =
                    original.or_else(|| header_line(&String::from_utf8_lossy(body), "Message-ID"));
            }
            "rfc822-headers" | "global-headers" => {
                original =
                    original.or_else(|| header_line(&String::from_utf8_lossy(body), "Message-ID"));
            }
            _ => {}
        }
    }
    let mut bounce = match report {
        Some(b) => b,
        // A standard report of deliveries that did not fail.
        None if saw_report => return None,
        None => non_standard(from, subject, text)?,
    };
    if bounce.original_message_id.is_none() {
        bounce.original_message_id = original.or_else(|| header_line(text, "Message-ID"));
    }
    Some(bounce)
}

/// The fields of an RFC 3464 `message/delivery-status` body: the first
/// recipient whose action is `failed` or `delayed`. A report of only
/// successful deliveries is no bounce.
fn delivery_status(body: &str) -> Option<Bounce> {
    let mut found = None;
    for block in unfold(body).split("\n\n") {
        let field = |name: &str| header_line_raw(block, name);
        let Some(action) = field("Action") else {
            continue;
        };
        let action = action.to_ascii_lowercase();
        if !(action.starts_with("failed") || action.starts_with("delayed")) {
            continue;
        }
        let status = field("Status").map(|s| {
            s.split_whitespace()
                .next()
                .unwrap_or("")
                .trim_end_matches(['(', ';'])
                .to_string()
        });
        let permanent =
            action.starts_with("failed") && status.as_deref().is_none_or(|s| s.starts_with('5'));
        let recipient = field("Final-Recipient")
            .or_else(|| field("Original-Recipient"))
            .map(|r| address_of_typed(&r));
        let diagnostic = field("Diagnostic-Code").map(|d| {
            let d = d.split_once(';').map(|(_, rest)| rest).unwrap_or(&d);
            cap(&single_line(d), 300)
        });
        found = Some(Bounce {
            permanent,
            status,
            recipient,
            original_message_id: None,
            diagnostic,
        });
        break;
    }
    found
}

/// `rfc822; user@example.com` → `user@example.com`.
fn address_of_typed(value: &str) -> String {
    let addr = value.split_once(';').map(|(_, a)| a).unwrap_or(value);
    addr.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_ascii_lowercase()
}

/// Header folding undone (continuation lines joined), CRLF as LF.
fn unfold(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let mut out = String::with_capacity(text.len());
    for line in text.split('\n') {
        if (line.starts_with(' ') || line.starts_with('\t')) && !line.trim().is_empty() {
            out.push(' ');
            out.push_str(line.trim());
        } else {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(line.trim_end());
        }
    }
    out
}

/// The value of the first `Name: value` line in `block` (unfolded).
fn header_line_raw(block: &str, name: &str) -> Option<String> {
    block.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

/// A Message-ID quoted in text (`Message-ID: <…>`), normalised.
fn header_line(text: &str, name: &str) -> Option<String> {
    header_line_raw(&unfold(text), name)
        .map(|v| normalize_message_id(v.split_whitespace().next().unwrap_or("")))
        .filter(|id| id.contains('@'))
}

static ENHANCED: LazyLock<Regex> = LazyLock::new(|| {
    // Not inside an IP address or a longer dotted number.
    Regex::new(r"(?:^|[^.\d])([45]\.\d{1,3}\.\d{1,3})\b")
        .unwrap_or_else(|e| panic!("status pattern: {e}"))
});
static REPLY_CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)(?:^|[\s:(])([45][0-5]\d)[\s-]")
        .unwrap_or_else(|e| panic!("reply code pattern: {e}"))
});
static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[a-z0-9._%+'-]+@[a-z0-9.-]+\.[a-z]{2,}")
        .unwrap_or_else(|e| panic!("address pattern: {e}"))
});
static BOUNCE_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(undeliver|undelivered|delivery status notification|delivery (has )?failed|mail delivery failed|delivery failure|failure notice|returned mail|could not be delivered|unzustellbar|nicht zustellbar|zustellung fehlgeschlagen)",
    )
    .unwrap_or_else(|e| panic!("bounce subject pattern: {e}"))
});

fn is_daemon(from: Option<&str>) -> bool {
    from.and_then(|f| f.split('@').next())
        .map(|local| local.to_ascii_lowercase())
        .is_some_and(|l| {
            matches!(
                l.as_str(),
                "mailer-daemon" | "postmaster" | "mail-daemon" | "mailerdaemon"
            )
        })
}

/// The reports many providers send instead of RFC 3464: from a mailer
/// daemon or postmaster (or with a failure subject), naming the failed
/// recipient and an SMTP code in the text. Without any code the failure
/// counts as temporary: an address is never blacklisted on a guess.
fn non_standard(from: Option<&str>, subject: &str, text: &str) -> Option<Bounce> {
    let daemon = is_daemon(from);
    if !daemon && !BOUNCE_SUBJECT.is_match(subject) {
        return None;
    }
    let enhanced = ENHANCED.captures(text).map(|c| c[1].to_string());
    let code = REPLY_CODE.captures(text).map(|c| c[1].to_string());
    if !daemon && enhanced.is_none() && code.is_none() {
        return None;
    }
    let status = enhanced.or(code);
    let permanent = status.as_deref().is_some_and(|s| s.starts_with('5'));
    // The first address the report names that is neither the daemon nor
    // on a quoted header line of the original (its sender, ours).
    let recipient = header_line_raw(text, "Final-Recipient")
        .or_else(|| header_line_raw(text, "Original-Recipient"))
        .map(|r| address_of_typed(&r))
        .or_else(|| {
            text.lines()
                .filter(|l| {
                    let l = l.trim_start().to_ascii_lowercase();
                    ![
                        "from:",
                        "reply-to:",
                        "sender:",
                        "return-path:",
                        "message-id:",
                    ]
                    .iter()
                    .any(|h| l.starts_with(h))
                })
                .flat_map(|l| {
                    ADDRESS
                        .find_iter(l)
                        .map(|m| m.as_str().to_ascii_lowercase())
                })
                .find(|a| Some(a.as_str()) != from && !is_daemon(Some(a)))
        });
    let diagnostic = text
        .lines()
        .find(|l| ENHANCED.is_match(l) || REPLY_CODE.is_match(l))
        .map(|l| cap(&single_line(l), 300));
    Some(Bounce {
        permanent,
        status,
        recipient,
        original_message_id: None,
        diagnostic,
    })
}

static QUOTE_HEAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(on .{3,200} wrote:?|am .{3,200} schrieb .{1,200}|-{2,} ?(original message|ursprüngliche nachricht|forwarded message) ?-{2,}|from: .+|von: .+)$",
    )
    .unwrap_or_else(|e| panic!("quote pattern: {e}"))
});

/// The first lines a person wrote: quoted text, the quote's heading and
/// the signature off; each line cleaned of control and invisible
/// characters and capped.
fn excerpt(text: &str) -> String {
    let mut lines = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed == "--" || trimmed == "-- " || line == "-- " || QUOTE_HEAD.is_match(trimmed) {
            break;
        }
        if trimmed.starts_with('>') || trimmed.is_empty() {
            continue;
        }
        let clean = single_line(trimmed);
        if clean.is_empty() {
            continue;
        }
        lines.push(cap(&clean, EXCERPT_LINE_MAX));
        if lines.len() == EXCERPT_LINES {
            break;
        }
    }
    lines.join("\n")
}

#[cfg(test)]
#[path = "classify_tests.rs"]
mod tests;
