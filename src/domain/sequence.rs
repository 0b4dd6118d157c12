//! A campaign's sequence as rules: the first email and its follow-ups, each
//! from its own template, each due a delay after the previous send. A
//! delay in business days counts the campaign's sending weekdays in its
//! time zone, so "3 business days" after a Friday send is the Wednesday
//! at the same local time; the send window then decides the minute (see
//! `sending`). An out-of-office reply with a return date pushes the next
//! step past it. Which steps were sent and why a sequence stopped are the
//! store's and the sender's; this module only computes. The host's
//! follow-up scheduler (`service::sequence`) drafts each step when it is
//! due, and the sender threads it under the steps before it.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// How long after the previous send a step is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum StepDelay {
    /// Sending weekdays, counted in the campaign's time zone.
    BusinessDays(u32),
    /// Calendar days at the same local time.
    Days(u32),
    Hours(u32),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a delay like \"3 business days\", \"2 days\", \"1 week\" or \"48 hours\" (at most 90 days)"
)]
pub struct DelayError(pub String);

/// Longer than this and a follow-up is a new campaign, not a follow-up.
const MAX_DAYS: u32 = 90;

impl FromStr for StepDelay {
    type Err = DelayError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || DelayError(s.to_string());
        let text = s.trim().to_ascii_lowercase();
        let (count, unit) = text
            .split_once(char::is_whitespace)
            .map(|(n, u)| (n, u.trim()))
            .or_else(|| {
                let at = text.find(|c: char| !c.is_ascii_digit())?;
                Some((&text[..at], text[at..].trim()))
            })
            .ok_or_else(bad)?;
        let n: u32 = count.parse().map_err(|_| bad())?;
        let delay = match unit {
            "business day" | "business days" | "workday" | "workdays" | "working days"
            | "working day" => Self::BusinessDays(n),
            "day" | "days" | "d" => Self::Days(n),
            "week" | "weeks" | "w" => Self::Days(n.checked_mul(7).ok_or_else(bad)?),
            "hour" | "hours" | "h" => Self::Hours(n),
            _ => return Err(bad()),
        };
        let days = match delay {
            Self::BusinessDays(d) | Self::Days(d) => d,
            Self::Hours(h) => h.div_ceil(24),
        };
        if n == 0 || days > MAX_DAYS {
            return Err(bad());
        }
        Ok(delay)
    }
}

impl fmt::Display for StepDelay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: u32| if n == 1 { "" } else { "s" };
        match *self {
            Self::BusinessDays(n) => write!(f, "{n} business day{}", plural(n)),
            Self::Days(n) => write!(f, "{n} day{}", plural(n)),
            Self::Hours(n) => write!(f, "{n} hour{}", plural(n)),
        }
    }
}

impl TryFrom<String> for StepDelay {
    type Error = DelayError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<StepDelay> for String {
    fn from(d: StepDelay) -> Self {
        d.to_string()
    }
}

impl StepDelay {
    /// When a step with this delay is due, `previous` being the moment
    /// the step before it was sent. `weekdays` are the sending weekdays;
    /// with none, business days fall back to calendar days.
    pub fn due_after(&self, previous: Timestamp, weekdays: &[Weekday], tz: &TimeZone) -> Timestamp {
        let local = previous.to_zoned_datetime(tz.clone());
        match *self {
            Self::Hours(h) => previous
                .saturating_add(SignedDuration::from_hours(i64::from(h)))
                .unwrap_or(previous),
            Self::Days(d) => local
                .checked_add(i64::from(d).days())
                .map(|z| z.timestamp())
                .unwrap_or(previous),
            Self::BusinessDays(d) if weekdays.is_empty() => {
                Self::Days(d).due_after(previous, weekdays, tz)
            }
            Self::BusinessDays(d) => {
                let mut day = local.date();
                let mut left = d;
                while left > 0 {
                    day = match day.tomorrow() {
                        Ok(next) => next,
                        Err(_) => return previous,
                    };
                    if weekdays.contains(&day.weekday()) {
                        left -= 1;
                    }
                }
                day.to_datetime(local.time())
                    .to_zoned_datetime(tz.clone())
                    .map(|z| z.timestamp())
                    .unwrap_or(previous)
            }
        }
    }
}

/// One step of a sequence: which template, and how long after the step
/// before (none for the first email).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// A template file (see `drafts.template`); empty: the campaign's own.
    pub template: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<StepDelay>,
}

/// A campaign's steps in order, the first being the first email.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequence {
    pub steps: Vec<Step>,
    /// The first email's approval covers its follow-ups.
    #[serde(default)]
    pub auto_approve_followups: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SequenceError {
    #[error("a sequence needs at least its first email")]
    Empty,
    #[error("step 1 is the first email and has no delay; remove its `after`")]
    FirstHasDelay,
    #[error("step {0} needs `after`, e.g. after = \"3 business days\"")]
    MissingDelay(usize),
    #[error("at most {MAX_STEPS} steps (the first email and {} follow-ups)", MAX_STEPS - 1)]
    TooLong,
}

const MAX_STEPS: usize = 6;

impl Sequence {
    /// A campaign's first email and nothing after it (campaigns made
    /// before sequences, or never given follow-ups).
    pub fn first_email_only() -> Self {
        Self {
            steps: vec![Step {
                template: String::new(),
                after: None,
            }],
            auto_approve_followups: false,
        }
    }

    pub fn check(&self) -> Result<(), SequenceError> {
        let first = self.steps.first().ok_or(SequenceError::Empty)?;
        if first.after.is_some() {
            return Err(SequenceError::FirstHasDelay);
        }
        if self.steps.len() > MAX_STEPS {
            return Err(SequenceError::TooLong);
        }
        match self.steps.iter().skip(1).position(|s| s.after.is_none()) {
            Some(i) => Err(SequenceError::MissingDelay(i + 2)),
            None => Ok(()),
        }
    }

    /// The follow-up after `sent` steps (1 = only the first email went),
    /// with its 1-based number and when it is due; `None` when the
    /// sequence has no more steps.
    pub fn next_due(
        &self,
        sent: usize,
        last_sent_at: Timestamp,
        weekdays: &[Weekday],
        tz: &TimeZone,
    ) -> Option<(usize, Timestamp)> {
        let step = self.steps.get(sent).filter(|_| sent > 0)?;
        let delay = step.after?;
        Some((sent + 1, delay.due_after(last_sent_at, weekdays, tz)))
    }
}

/// The subject of a follow-up: the first email's, as a reply (`Re: `
/// once, however many the first subject already had).
pub fn reply_subject(first: &str) -> String {
    let mut rest = first.trim();
    loop {
        let lower = rest.get(..3).map(str::to_ascii_lowercase);
        match lower.as_deref() {
            Some("re:") => rest = rest[3..].trim_start(),
            _ => break,
        }
    }
    format!("Re: {rest}")
}

/// A due time pushed past a stated return date: the next step goes no
/// earlier than the start of the day after it (in the campaign's zone).
pub fn after_return(due: Timestamp, returns_on: Date, tz: &TimeZone) -> Timestamp {
    let back = returns_on
        .tomorrow()
        .ok()
        .and_then(|day| day.to_zoned_datetime(tz.clone()).ok())
        .map(|z| z.timestamp());
    match back {
        Some(back) if back > due => back,
        _ => due,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap()
    }

    fn weekdays() -> Vec<Weekday> {
        use Weekday::*;
        vec![Monday, Tuesday, Wednesday, Thursday, Friday]
    }

    fn at(local: &str) -> Timestamp {
        local
            .parse::<jiff::civil::DateTime>()
            .unwrap()
            .to_zoned_datetime(berlin())
            .unwrap()
            .timestamp()
    }

    #[test]
    fn delays_read_as_people_write_them() {
        assert_eq!("3 business days".parse(), Ok(StepDelay::BusinessDays(3)));
        assert_eq!("1 Business Day".parse(), Ok(StepDelay::BusinessDays(1)));
        assert_eq!("2 days".parse(), Ok(StepDelay::Days(2)));
        assert_eq!("1 week".parse(), Ok(StepDelay::Days(7)));
        assert_eq!("48h".parse(), Ok(StepDelay::Hours(48)));
        assert_eq!("48 hours".parse(), Ok(StepDelay::Hours(48)));
        for bad in [
            "",
            "3",
            "three days",
            "0 days",
            "3 fortnights",
            "91 days",
            "-1 days",
        ] {
            assert!(bad.parse::<StepDelay>().is_err(), "{bad}");
        }
        assert_eq!(StepDelay::BusinessDays(3).to_string(), "3 business days");
        assert_eq!(StepDelay::Days(1).to_string(), "1 day");
    }

    #[test]
    fn business_days_skip_the_days_nobody_sends() {
        let delay = StepDelay::BusinessDays(3);
        // Friday 10:00 → Mon, Tue, Wed: Wednesday 10:00.
        assert_eq!(
            delay.due_after(at("2026-11-27T10:00"), &weekdays(), &berlin()),
            at("2026-12-02T10:00")
        );
        // Tuesday → Friday.
        assert_eq!(
            delay.due_after(at("2026-11-24T09:30"), &weekdays(), &berlin()),
            at("2026-11-27T09:30")
        );
        // Sent on a Saturday (a manual send): Mon, Tue, Wed.
        assert_eq!(
            delay.due_after(at("2026-11-28T12:00"), &weekdays(), &berlin()),
            at("2026-12-02T12:00")
        );
    }

    #[test]
    fn days_keep_the_local_time_across_a_clock_change() {
        // Berlin leaves summer time on 2026-10-25.
        let due = StepDelay::Days(2).due_after(at("2026-10-24T10:00"), &weekdays(), &berlin());
        assert_eq!(due, at("2026-10-26T10:00"));
        let hours = StepDelay::Hours(48).due_after(at("2026-10-24T10:00"), &weekdays(), &berlin());
        assert_eq!(hours, at("2026-10-26T09:00"), "48 hours are 48 hours");
    }

    #[test]
    fn a_sequence_says_which_step_is_due_and_when() {
        let seq = Sequence {
            steps: vec![
                Step {
                    template: String::new(),
                    after: None,
                },
                Step {
                    template: "f1.txt".into(),
                    after: Some(StepDelay::BusinessDays(3)),
                },
                Step {
                    template: "f2.txt".into(),
                    after: Some(StepDelay::Days(7)),
                },
            ],
            auto_approve_followups: false,
        };
        assert_eq!(seq.check(), Ok(()));
        let friday = at("2026-11-27T10:00");
        assert_eq!(seq.next_due(0, friday, &weekdays(), &berlin()), None);
        assert_eq!(
            seq.next_due(1, friday, &weekdays(), &berlin()),
            Some((2, at("2026-12-02T10:00")))
        );
        assert_eq!(
            seq.next_due(2, at("2026-12-02T10:05"), &weekdays(), &berlin()),
            Some((3, at("2026-12-09T10:05")))
        );
        assert_eq!(seq.next_due(3, friday, &weekdays(), &berlin()), None);
    }

    #[test]
    fn a_sequence_is_checked_before_it_is_kept() {
        let step = |after| Step {
            template: String::new(),
            after,
        };
        let seq = |steps| Sequence {
            steps,
            auto_approve_followups: false,
        };
        assert_eq!(seq(vec![]).check(), Err(SequenceError::Empty));
        assert_eq!(
            seq(vec![step(Some(StepDelay::Days(1)))]).check(),
            Err(SequenceError::FirstHasDelay)
        );
        assert_eq!(
            seq(vec![step(None), step(Some(StepDelay::Days(1))), step(None)]).check(),
            Err(SequenceError::MissingDelay(3))
        );
        let mut seven = vec![step(None)];
        seven.extend((0..6).map(|_| step(Some(StepDelay::Days(1)))));
        assert_eq!(seq(seven).check(), Err(SequenceError::TooLong));
    }

    #[test]
    fn a_follow_up_subject_has_one_re() {
        assert_eq!(reply_subject("Your site"), "Re: Your site");
        assert_eq!(reply_subject("Re: Your site"), "Re: Your site");
        assert_eq!(reply_subject("RE: re:  Your site"), "Re: Your site");
        assert_eq!(Sequence::first_email_only().check(), Ok(()));
    }

    #[test]
    fn an_out_of_office_return_date_pushes_the_step_past_it() {
        let due = at("2026-12-02T10:00");
        let back: Date = "2026-12-07".parse().unwrap();
        assert_eq!(after_return(due, back, &berlin()), at("2026-12-08T00:00"));
        let earlier: Date = "2026-11-30".parse().unwrap();
        assert_eq!(after_return(due, earlier, &berlin()), due);
    }
}
