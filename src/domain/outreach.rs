//! Outreach: one email per lead, from draft to sent. Drafts are made by the
//! draft stage, edited and approved by the operator, and sent at most once.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{CampaignId, Email, LeadId, Timestamp};

/// Where an email stands. Each variant has a fixed byte used in index keys;
/// never renumber one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutreachStatus {
    Draft = 1,
    Approved = 2,
    /// Handed to the SMTP server; flushed before DATA. Found after a crash,
    /// it becomes `needs_review`: the message may or may not have gone.
    Sending = 3,
    Sent = 4,
    Rejected = 5,
    /// The recipient is on the blacklist or asked for no more mail.
    Suppressed = 6,
    Failed = 7,
    NeedsReview = 8,
}

impl OutreachStatus {
    pub const ALL: [OutreachStatus; 8] = [
        Self::Draft,
        Self::Approved,
        Self::Sending,
        Self::Sent,
        Self::Rejected,
        Self::Suppressed,
        Self::Failed,
        Self::NeedsReview,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Approved => "approved",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Rejected => "rejected",
            Self::Suppressed => "suppressed",
            Self::Failed => "failed",
            Self::NeedsReview => "needs_review",
        }
    }

    pub fn key_byte(self) -> u8 {
        self as u8
    }

    /// Whether the draft stage may replace this email with a new draft.
    pub fn may_redraft(self) -> bool {
        matches!(self, Self::Draft | Self::Rejected)
    }
}

impl fmt::Display for OutreachStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OutreachStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                format!(
                    "unknown outreach status `{s}`; one of: {}",
                    Self::ALL.map(|x| x.as_str()).join(", ")
                )
            })
    }
}

/// Who wrote the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    Template,
    /// Rewritten by the language model and passed the evidence gate.
    Model,
    Operator,
}

/// An earlier text of the email, kept when it was replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub subject: String,
    pub body: String,
    pub author: Author,
    pub replaced_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outreach {
    pub lead: LeadId,
    pub campaign: CampaignId,
    pub status: OutreachStatus,
    pub to: Email,
    pub subject: String,
    pub body: String,
    pub author: Author,
    pub report_url: String,
    pub unsubscribe_url: String,
    /// Earlier texts, oldest first.
    #[serde(default)]
    pub history: Vec<Revision>,
    /// Why the model's rewrite was not used, when it was tried.
    #[serde(default)]
    pub model_note: Option<String>,
    /// Why this email cannot be approved as it stands (it links to a site
    /// other than the lead's, its report or unsubscribe page, or the
    /// sender's), as the draft stage found; `None` when nothing blocks it.
    /// Approval checks the current text again with
    /// [`super::text::foreign_links`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<String>,
    /// Why the last send attempt waited or failed, and until when.
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub not_before: Option<Timestamp>,
    #[serde(default)]
    pub message_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(default)]
    pub approved_at: Option<Timestamp>,
    #[serde(default)]
    pub sent_at: Option<Timestamp>,
    /// Which sender holds the email while it is `sending`: the host
    /// instance and its claim. A claim from another instance is from a
    /// process that is gone (only one process holds the data dir).
    #[serde(default)]
    pub claimed_by: Option<Claim>,
    /// Which step of the campaign's sequence this email is: 1 for the
    /// first email (and every email stored before sequences existed).
    #[serde(default = "first_step")]
    pub step: u32,
    /// The steps sent before this one, oldest first: when the follow-up
    /// scheduler drafts step N+1 it moves step N here, so this record
    /// stays "the email in hand" for approval, sending and at-most-once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<SentStep>,
    /// The audit leadscout wrote this text from. A text leadscout wrote
    /// cites that audit's figures, so it is not approved or sent once a
    /// later audit says otherwise (see [`Outreach::written_from_older_audit`]).
    /// `None` for emails stored before this was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditRef>,
}

/// Which audit a text was written from: when it was made and its overall
/// score, which a later screenshot pass (it rescores the same audit in
/// place) changes too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRef {
    pub created_at: Timestamp,
    pub overall: u8,
}

impl AuditRef {
    pub fn of(audit: &super::audit::Audit) -> Self {
        Self {
            created_at: audit.created_at,
            overall: audit.scores.overall,
        }
    }
}

fn first_step() -> u32 {
    1
}

/// A step of the sequence that went out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentStep {
    pub step: u32,
    pub subject: String,
    /// First lines of the body, for the conversation view.
    #[serde(default)]
    pub excerpt: String,
    pub message_id: String,
    pub sent_at: Timestamp,
}

/// Who moved an email to `sending`: the host instance (one per process
/// that opened the store) and a claim id unique to that hand-over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub instance: String,
    pub id: String,
}

impl Outreach {
    /// A new draft to `to`, with no links yet and nothing of its later life.
    pub fn draft(
        lead: LeadId,
        campaign: CampaignId,
        to: Email,
        (subject, body): (String, String),
        author: Author,
        now: Timestamp,
    ) -> Self {
        Self {
            lead,
            campaign,
            status: OutreachStatus::Draft,
            to,
            subject,
            body,
            author,
            report_url: String::new(),
            unsubscribe_url: String::new(),
            history: Vec::new(),
            model_note: None,
            blocked: None,
            note: None,
            not_before: None,
            message_id: None,
            created_at: now,
            updated_at: now,
            approved_at: None,
            sent_at: None,
            claimed_by: None,
            step: 1,
            earlier: Vec::new(),
            audit: None,
        }
    }

    /// Why this text must not go out as it stands: leadscout wrote it from
    /// an audit that `latest` has replaced or rescored, so the figures it
    /// cites may no longer be the ones on the report page. A text the
    /// operator edited is theirs, and is not judged here.
    pub fn written_from_older_audit(&self, latest: Option<&super::audit::Audit>) -> Option<String> {
        self.written_before(AuditRef::of(latest?))
    }

    /// [`Self::written_from_older_audit`], given the latest audit's mark.
    pub fn written_before(&self, now: AuditRef) -> Option<String> {
        let written = self.audit?;
        if self.author == Author::Operator || now == written {
            return None;
        }
        let at = |t: Timestamp| t.strftime("%Y-%m-%d %H:%M UTC").to_string();
        Some(format!(
            "it cites the audit of {} (overall {}), and the lead was audited again since ({}: overall {}); run the draft stage again for this lead, or edit the email (an edited text is yours)",
            at(written.created_at),
            written.overall,
            at(now.created_at),
            now.overall
        ))
    }

    /// Replaces the text, keeping the old one in the history.
    pub fn revise(&mut self, subject: String, body: String, author: Author, now: Timestamp) {
        if subject == self.subject && body == self.body {
            return;
        }
        self.history.push(Revision {
            subject: std::mem::replace(&mut self.subject, subject),
            body: std::mem::replace(&mut self.body, body),
            author: self.author,
            replaced_at: now,
        });
        self.author = author;
        self.updated_at = now;
    }

    /// The text's version: 1 for the first draft, one more for every
    /// revision. An edit names the version it was made from, so a save
    /// over a newer text is refused instead of silently replacing it.
    pub fn version(&self) -> u32 {
        u32::try_from(self.history.len()).unwrap_or(u32::MAX - 1) + 1
    }

    /// What of the compliance footer the body lacks: the unsubscribe link
    /// and the sender's postal address must be in every email that goes
    /// out, whoever wrote the text.
    pub fn missing_footer(&self, postal_address: &str) -> Vec<&'static str> {
        missing_footer(&self.body, &self.unsubscribe_url, postal_address)
    }

    /// The deterministic Message-ID: one lead, one campaign, one message,
    /// so a message that was somehow handed over twice is recognisable.
    /// A follow-up's carries its step, so every step has its own.
    pub fn message_id_for(&self, sender_domain: &str) -> String {
        match self.step {
            0 | 1 => format!("<{}.{}@{}>", self.lead, self.campaign, sender_domain),
            n => format!("<{}.{}.s{n}@{}>", self.lead, self.campaign, sender_domain),
        }
    }

    /// The headers that put a follow-up in the thread of the steps before
    /// it: `In-Reply-To` (the previous step) and `References` (all of
    /// them, oldest first). `None` for a first email.
    pub fn thread_headers(&self) -> Option<(String, Vec<String>)> {
        let previous = self.earlier.last()?;
        let references = self.earlier.iter().map(|s| s.message_id.clone()).collect();
        Some((previous.message_id.clone(), references))
    }

    /// When the lead first got mail in this sequence: the first step's
    /// send, else this email's.
    pub fn first_sent_at(&self) -> Option<Timestamp> {
        self.earlier.first().map(|s| s.sent_at).or(self.sent_at)
    }

    /// The first email's subject (a follow-up's is `Re: ` it).
    pub fn first_subject(&self) -> &str {
        self.earlier
            .first()
            .map_or(self.subject.as_str(), |s| s.subject.as_str())
    }
}

/// What of the compliance footer `body` lacks (see
/// [`Outreach::missing_footer`]). The postal address counts when it is in
/// the body as typed or on one line.
pub fn missing_footer(
    body: &str,
    unsubscribe_url: &str,
    postal_address: &str,
) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if unsubscribe_url.trim().is_empty() || !body.contains(unsubscribe_url.trim()) {
        missing.push("the unsubscribe link");
    }
    let address = postal_address.trim();
    if !address.is_empty()
        && !body.contains(address)
        && !single_line(body).contains(&single_line(address))
    {
        missing.push("the postal address");
    }
    missing
}

/// The compliance footer every email carries: who sends it and from
/// where, and the unsubscribe link; added for what `body` lacks. leadscout
/// adds it, so neither a template, a model nor an edit can leave it out.
pub fn with_footer(body: &str, who: &str, postal_address: &str, unsubscribe_url: &str) -> String {
    let mut body = body.trim_end().to_string();
    let missing = missing_footer(&body, unsubscribe_url, postal_address);
    let needs_address = missing.contains(&"the postal address");
    let needs_link = missing.contains(&"the unsubscribe link") && !unsubscribe_url.is_empty();
    if needs_address || needs_link {
        body.push_str("\n\n--\n");
        if needs_address {
            if !who.is_empty() {
                body.push_str(&single_line(who));
                body.push_str(", ");
            }
            body.push_str(&single_line(postal_address));
            body.push('\n');
        }
        if needs_link {
            body.push_str("Don't want emails like this? Unsubscribe: ");
            body.push_str(unsubscribe_url);
            body.push('\n');
        }
    }
    if !body.ends_with('\n') {
        body.push('\n');
    }
    body
}

/// A value for a one-line header (subject, names): line breaks and other
/// control characters become spaces, so nothing scraped or typed can start
/// a header of its own.
pub fn single_line(value: &str) -> String {
    super::text::single_line(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_never_span_lines() {
        assert_eq!(
            single_line("Hi\r\nBcc: victim@example.com"),
            "Hi Bcc: victim@example.com"
        );
        assert_eq!(single_line("a\u{0}b\u{85}c\td"), "a b c d");
        assert_eq!(single_line("  plain  "), "plain");
    }

    #[test]
    fn the_footer_is_added_for_what_is_missing_and_only_once() {
        let url = "https://r.example/u/abc";
        let address = "Hauptstr. 1\n10115 Berlin";
        let bare = with_footer("Hello.", "Pixel", address, url);
        assert!(bare.contains("Pixel, Hauptstr. 1 10115 Berlin"), "{bare}");
        assert!(bare.contains(url), "{bare}");
        assert!(missing_footer(&bare, url, address).is_empty());
        assert_eq!(with_footer(&bare, "Pixel", address, url), bare);
        let no_link = bare.replace(url, "");
        assert_eq!(
            missing_footer(&no_link, url, address),
            ["the unsubscribe link"]
        );
        let again = with_footer(&no_link, "Pixel", address, url);
        assert!(again.contains(url) && missing_footer(&again, url, address).is_empty());
        assert_eq!(
            missing_footer("Hello.", url, address),
            ["the unsubscribe link", "the postal address"]
        );
    }

    #[test]
    fn revising_keeps_the_old_text() {
        let now = Timestamp::UNIX_EPOCH;
        let mut o = Outreach::draft(
            LeadId::from_ulid(ulid::Ulid::nil()),
            CampaignId::from_ulid(ulid::Ulid::nil()),
            Email::parse("a@b.example").unwrap(),
            ("s1".into(), "b1".into()),
            Author::Template,
            now,
        );
        assert_eq!(o.version(), 1);
        o.revise("s2".into(), "b2".into(), Author::Operator, now);
        o.revise("s2".into(), "b2".into(), Author::Operator, now);
        assert_eq!(o.history.len(), 1, "an unchanged edit is not a revision");
        assert_eq!(o.version(), 2);
        assert_eq!(o.history[0].subject, "s1");
        assert_eq!(o.history[0].author, Author::Template);
        assert_eq!(o.author, Author::Operator);
    }
}
