//! A lead's place in its campaign's sequence (steps sent, the next one
//! due, why it stopped) and a campaign's funnel by step, as the CLI, the
//! TUI and `--json` show them. Plain data and the rule that says which
//! step a reply answers; the service fills them.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::inbox::SequenceStop;
use super::outreach::{Outreach, OutreachStatus, SentStep};
use super::sequence::{Sequence, StepDelay};
use super::{LeadId, Timestamp};

/// The follow-up a lead gets next, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextStep {
    /// 1-based.
    pub step: u32,
    pub due_at: Timestamp,
    pub template: String,
    /// `false` when the campaign approves follow-ups with the first email.
    pub needs_approval: bool,
    /// An out-of-office return date that pushed the step past it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_return: Option<Date>,
}

/// Where one lead stands in its sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadSequence {
    pub lead: LeadId,
    pub campaign: String,
    pub steps_total: u32,
    /// The steps that went out, oldest first.
    pub sent: Vec<SentStep>,
    /// The email in hand (sent or not) and its state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_step: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_status: Option<OutreachStatus>,
    /// None when stopped, finished, or the current step is not sent yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<NextStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop: Option<SequenceStop>,
}

/// One step of a campaign's funnel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepFunnel {
    pub step: u32,
    /// The template file; empty for the campaign's own first email.
    pub template: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<StepDelay>,
    /// Drafted and waiting (draft or approved), not sent yet.
    pub pending: u64,
    pub sent: u64,
    /// Replies whose latest step sent before them is this one.
    pub replied: u64,
}

/// A campaign's sequence with its funnel by step (`sequence show`, the
/// campaign dashboard).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceView {
    pub campaign: String,
    pub sequence: Sequence,
    pub steps: Vec<StepFunnel>,
    /// Leads whose sequence stopped for good.
    pub stopped: u64,
}

/// The follow-up step an email in hand is waiting as: a step after the
/// first, drafted or approved and not sent yet. `None` for anything else.
/// The lead list shows it (`followup_waiting`) and the store keeps an
/// index of it, so that listing never reads the email itself.
pub fn waiting_step(o: &Outreach) -> Option<u32> {
    (o.step > 1 && matches!(o.status, OutreachStatus::Draft | OutreachStatus::Approved))
        .then_some(o.step)
}

/// The step a reply answers: the latest one sent before it. A reply read
/// with a date before every send (a skewed clock) counts for the first.
pub fn step_replied_to(sent: &[(u32, Timestamp)], reply_at: Timestamp) -> Option<u32> {
    let before = sent
        .iter()
        .filter(|(_, at)| *at <= reply_at)
        .max_by_key(|(_, at)| *at)
        .map(|(step, _)| *step);
    before.or_else(|| sent.iter().map(|(step, _)| *step).min())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    #[test]
    fn a_reply_counts_for_the_latest_step_before_it() {
        let sent = [(1, t(0)), (2, t(100)), (3, t(200))];
        assert_eq!(step_replied_to(&sent, t(50)), Some(1));
        assert_eq!(step_replied_to(&sent, t(100)), Some(2));
        assert_eq!(step_replied_to(&sent, t(999)), Some(3));
        assert_eq!(step_replied_to(&sent, t(-5)), Some(1));
        assert_eq!(step_replied_to(&[], t(0)), None);
    }
}
