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
}

impl Outreach {
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

    /// The deterministic Message-ID: one lead, one campaign, one message,
    /// so a message that was somehow handed over twice is recognisable.
    pub fn message_id_for(&self, sender_domain: &str) -> String {
        format!("<{}.{}@{}>", self.lead, self.campaign, sender_domain)
    }
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
    fn revising_keeps_the_old_text() {
        let now = Timestamp::UNIX_EPOCH;
        let mut o = Outreach {
            lead: LeadId::from_ulid(ulid::Ulid::nil()),
            campaign: CampaignId::from_ulid(ulid::Ulid::nil()),
            status: OutreachStatus::Draft,
            to: Email::parse("a@b.example").unwrap(),
            subject: "s1".into(),
            body: "b1".into(),
            author: Author::Template,
            report_url: String::new(),
            unsubscribe_url: String::new(),
            history: vec![],
            model_note: None,
            blocked: None,
            note: None,
            not_before: None,
            message_id: None,
            created_at: now,
            updated_at: now,
            approved_at: None,
            sent_at: None,
        };
        o.revise("s2".into(), "b2".into(), Author::Operator, now);
        o.revise("s2".into(), "b2".into(), Author::Operator, now);
        assert_eq!(o.history.len(), 1, "an unchanged edit is not a revision");
        assert_eq!(o.history[0].subject, "s1");
        assert_eq!(o.history[0].author, Author::Template);
        assert_eq!(o.author, Author::Operator);
    }
}
