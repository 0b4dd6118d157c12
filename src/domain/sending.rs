//! Sending limits as rules: the send window (hours on given weekdays in a
//! time zone), daily caps and spacing. Given "now" and what was sent, they
//! say whether a message may go and, if not, why and when it next may.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan, ZonedDateTime as Zoned};

/// `09:00-17:00`: sending starts at the first time and stops before the
/// second, on the same day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendWindow {
    pub start: Time,
    pub end: Time,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a send window like \"09:00-17:00\" (start before end, 24-hour clock)")]
pub struct WindowError(pub String);

impl FromStr for SendWindow {
    type Err = WindowError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || WindowError(s.to_string());
        let (a, b) = s.split_once('-').ok_or_else(bad)?;
        let time = |t: &str| Time::strptime("%H:%M", t.trim()).map_err(|_| bad());
        // `24:00` is the end of the day, so a window can cover all of it.
        let end = if b.trim() == "24:00" {
            Time::MAX
        } else {
            time(b)?
        };
        let start = time(a)?;
        if start >= end {
            return Err(bad());
        }
        Ok(Self { start, end })
    }
}

impl fmt::Display for SendWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = if self.end == Time::MAX {
            "24:00".to_string()
        } else {
            self.end.strftime("%H:%M").to_string()
        };
        write!(f, "{}-{end}", self.start.strftime("%H:%M"))
    }
}

/// `mon`, `tue`, ... as in the config.
pub fn parse_weekday(s: &str) -> Option<Weekday> {
    Some(match s.trim().to_ascii_lowercase().get(..3)? {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return None,
    })
}

/// The limits in force for one campaign's sending.
#[derive(Debug, Clone)]
pub struct Limits {
    pub window: SendWindow,
    pub weekdays: Vec<Weekday>,
    pub timezone: TimeZone,
    /// Messages per day from the sending inbox, all campaigns together.
    pub daily_cap: u32,
    /// Messages per day for this campaign.
    pub campaign_daily_cap: u32,
    /// Least time between two messages.
    pub min_spacing: SignedDuration,
}

/// What was already sent that the limits count.
#[derive(Debug, Clone, Copy, Default)]
pub struct SentSoFar {
    pub inbox_today: u32,
    pub campaign_today: u32,
    pub last_sent_at: Option<Timestamp>,
}

/// Why a message has to wait, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    pub reason: String,
    pub until: Timestamp,
}

impl Limits {
    /// The day the caps count in: the date in the sending time zone.
    pub fn day_of(&self, at: Timestamp) -> jiff::civil::Date {
        at.to_zoned_datetime(self.timezone.clone()).date()
    }

    /// `None` when a message may go now; otherwise why not and when to
    /// look again. Spacing is checked last, so a closed window or a full
    /// cap is what the operator sees.
    pub fn check(&self, now: Timestamp, sent: &SentSoFar) -> Option<Wait> {
        let zoned = now.to_zoned_datetime(self.timezone.clone());
        if !self.is_open(&zoned) {
            return Some(Wait {
                reason: format!(
                    "outside the send window ({} on {}, {})",
                    self.window,
                    self.weekdays_text(),
                    self.timezone.iana_name().unwrap_or("UTC")
                ),
                until: self.next_opening(&zoned),
            });
        }
        let tomorrow = || self.next_opening(&self.start_of_next_day(&zoned));
        if sent.inbox_today >= self.daily_cap {
            return Some(Wait {
                reason: format!("the inbox's daily cap of {} is reached", self.daily_cap),
                until: tomorrow(),
            });
        }
        if sent.campaign_today >= self.campaign_daily_cap {
            return Some(Wait {
                reason: format!(
                    "the campaign's daily cap of {} is reached",
                    self.campaign_daily_cap
                ),
                until: tomorrow(),
            });
        }
        if let Some(last) = sent.last_sent_at {
            let next = last.saturating_add(self.min_spacing).unwrap_or(last);
            if next > now {
                return Some(Wait {
                    reason: format!(
                        "spacing: at least {}s between messages",
                        self.min_spacing.as_secs()
                    ),
                    until: next,
                });
            }
        }
        None
    }

    fn weekdays_text(&self) -> String {
        self.weekdays
            .iter()
            .map(|d| format!("{d:?}")[..3].to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn is_open(&self, at: &Zoned) -> bool {
        let time = at.time();
        self.weekdays.contains(&at.weekday()) && time >= self.window.start && time < self.window.end
    }

    fn start_of_next_day(&self, at: &Zoned) -> Zoned {
        at.date()
            .tomorrow()
            .ok()
            .and_then(|d| d.to_zoned_datetime(self.timezone.clone()).ok())
            .unwrap_or_else(|| at.clone())
    }

    /// The next moment the window is open, from `at` on (at itself if open).
    fn next_opening(&self, at: &Zoned) -> Timestamp {
        if self.is_open(at) {
            return at.timestamp();
        }
        let mut day = at.date();
        for _ in 0..8 {
            if self.weekdays.contains(&day.weekday())
                && let Ok(opening) = day
                    .to_datetime(self.window.start)
                    .to_zoned_datetime(self.timezone.clone())
                && opening.timestamp() >= at.timestamp()
            {
                return opening.timestamp();
            }
            day = match day.checked_add(1.day()) {
                Ok(d) => d,
                Err(_) => break,
            };
        }
        // No weekday allowed at all: config validation prevents this.
        at.timestamp()
            .saturating_add(SignedDuration::from_hours(24))
            .unwrap_or(at.timestamp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            window: "09:00-17:00".parse().unwrap(),
            weekdays: ["mon", "tue", "wed", "thu", "fri"]
                .iter()
                .filter_map(|d| parse_weekday(d))
                .collect(),
            timezone: TimeZone::get("Europe/Berlin").unwrap(),
            daily_cap: 30,
            campaign_daily_cap: 10,
            min_spacing: SignedDuration::from_secs(60),
        }
    }

    fn at(s: &str) -> Timestamp {
        s.parse::<Zoned>().unwrap().timestamp()
    }

    #[test]
    fn windows_parse_strictly() {
        assert_eq!(
            "09:00-17:30".parse::<SendWindow>().unwrap().to_string(),
            "09:00-17:30"
        );
        let all_day: SendWindow = "00:00-24:00".parse().unwrap();
        assert_eq!(all_day.to_string(), "00:00-24:00");
        assert!(
            all_day.end > Time::strptime("%H:%M", "23:59").unwrap(),
            "the last minute is in"
        );
        for bad in [
            "",
            "9-5",
            "17:00-09:00",
            "09:00",
            "25:00-26:00",
            "09:00-09:00",
        ] {
            assert!(bad.parse::<SendWindow>().is_err(), "{bad}");
        }
    }

    #[test]
    fn inside_the_window_with_room_a_message_may_go() {
        let l = limits();
        // Wednesday 10:00 in Berlin.
        assert_eq!(
            l.check(at("2026-11-25T10:00[Europe/Berlin]"), &SentSoFar::default()),
            None
        );
    }

    #[test]
    fn closed_window_waits_for_the_next_opening_in_the_time_zone() {
        let l = limits();
        let wait = l
            .check(at("2026-11-25T18:30[Europe/Berlin]"), &SentSoFar::default())
            .unwrap();
        assert!(
            wait.reason.contains("outside the send window"),
            "{}",
            wait.reason
        );
        assert_eq!(wait.until, at("2026-11-26T09:00[Europe/Berlin]"));
        // Friday evening → Monday morning.
        let wait = l
            .check(at("2026-11-27T17:00[Europe/Berlin]"), &SentSoFar::default())
            .unwrap();
        assert_eq!(wait.until, at("2026-11-30T09:00[Europe/Berlin]"));
        // Early morning → the same day's opening.
        let wait = l
            .check(at("2026-11-25T06:00[Europe/Berlin]"), &SentSoFar::default())
            .unwrap();
        assert_eq!(wait.until, at("2026-11-25T09:00[Europe/Berlin]"));
    }

    #[test]
    fn caps_wait_until_the_next_day_and_spacing_until_the_gap_is_over() {
        let l = limits();
        let now = at("2026-11-25T10:00[Europe/Berlin]");
        let full = SentSoFar {
            inbox_today: 30,
            ..Default::default()
        };
        let wait = l.check(now, &full).unwrap();
        assert!(
            wait.reason.contains("inbox's daily cap of 30"),
            "{}",
            wait.reason
        );
        assert_eq!(wait.until, at("2026-11-26T09:00[Europe/Berlin]"));
        let campaign_full = SentSoFar {
            campaign_today: 10,
            ..Default::default()
        };
        assert!(
            l.check(now, &campaign_full)
                .unwrap()
                .reason
                .contains("campaign's daily cap of 10")
        );
        let recent = SentSoFar {
            last_sent_at: Some(now - SignedDuration::from_secs(20)),
            ..Default::default()
        };
        let wait = l.check(now, &recent).unwrap();
        assert_eq!(wait.until, now + SignedDuration::from_secs(40));
    }
}
