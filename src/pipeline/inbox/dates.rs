//! The return date an out-of-office states, when it states one simply:
//! `2026-12-07`, `7.12.2026`, `7.12.`, `7 December 2026`, `December 7,
//! 2026`, `7. Dezember 2026`. Of the dates found, the latest within a year
//! after the message counts (an absence is given as "from … until …").

use std::sync::LazyLock;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use regex::Regex;

use crate::domain::Timestamp;

const MONTHS: &[(&str, i8)] = &[
    ("january", 1),
    ("januar", 1),
    ("jan", 1),
    ("jänner", 1),
    ("february", 2),
    ("februar", 2),
    ("feb", 2),
    ("march", 3),
    ("märz", 3),
    ("maerz", 3),
    ("mar", 3),
    ("mär", 3),
    ("april", 4),
    ("apr", 4),
    ("may", 5),
    ("mai", 5),
    ("june", 6),
    ("juni", 6),
    ("jun", 6),
    ("july", 7),
    ("juli", 7),
    ("jul", 7),
    ("august", 8),
    ("aug", 8),
    ("september", 9),
    ("sept", 9),
    ("sep", 9),
    ("october", 10),
    ("oktober", 10),
    ("oct", 10),
    ("okt", 10),
    ("november", 11),
    ("nov", 11),
    ("december", 12),
    ("dezember", 12),
    ("dec", 12),
    ("dez", 12),
];

fn month(name: &str) -> Option<i8> {
    let name = name.to_lowercase();
    let name = name.trim_end_matches('.');
    MONTHS.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
}

const MONTH_WORD: &str = r"(jan(?:uary|uar)?|jänner|feb(?:ruary|ruar)?|m(?:arch|ärz|aerz|ar|är)|apr(?:il)?|ma[iy]|jun[ei]?|jul[iy]?|aug(?:ust)?|sep(?:t(?:ember)?)?|o[ck]t(?:ober)?|nov(?:ember)?|de[cz](?:ember)?)\.?";

static ISO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(20\d\d)-(\d{1,2})-(\d{1,2})\b").unwrap_or_else(|e| panic!("iso date: {e}"))
});
static DOTTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(\d{1,2})\.\s?(\d{1,2})\.(?:\s?(\d{4}|\d{2})\b)?")
        .unwrap_or_else(|e| panic!("dotted date: {e}"))
});
static DAY_MONTH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)\b(\d{{1,2}})(?:st|nd|rd|th)?\.?\s+(?:of\s+)?{MONTH_WORD}(?:\s+(\d{{4}}))?"
    ))
    .unwrap_or_else(|e| panic!("day month date: {e}"))
});
static MONTH_DAY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)\b{MONTH_WORD}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?"
    ))
    .unwrap_or_else(|e| panic!("month day date: {e}"))
});

/// The stated return date, if there is one (see the module header).
pub fn return_date(text: &str, sent: Timestamp) -> Option<Date> {
    let today = sent.to_zoned_datetime(TimeZone::UTC).date();
    let mut found: Vec<Date> = Vec::new();
    let year_of = |y: Option<&str>| -> Option<i16> {
        match y {
            None => None,
            Some(y) if y.len() == 2 => y.parse::<i16>().ok().map(|y| 2000 + y),
            Some(y) => y.parse().ok(),
        }
    };
    let mut push = |year: Option<i16>, m: i8, d: i8| {
        let explicit = year.is_some();
        let y = year.unwrap_or(today.year());
        if let Ok(mut date) = Date::new(y, m, d) {
            // "back on 3.1." written in December means next January.
            if !explicit
                && date < today.saturating_sub(jiff::Span::new().days(30))
                && let Ok(next) = Date::new(y + 1, m, d)
            {
                date = next;
            }
            found.push(date);
        }
    };
    for c in ISO.captures_iter(text) {
        if let (Ok(y), Ok(m), Ok(d)) = (c[1].parse(), c[2].parse(), c[3].parse()) {
            push(Some(y), m, d);
        }
    }
    for c in DOTTED.captures_iter(text) {
        // `5.1.1` (a status code, a version) is no date.
        let end = c.get(0).map_or(0, |m| m.end());
        let rest = text[end..].strip_prefix('.').unwrap_or(&text[end..]);
        if rest.starts_with(|ch: char| ch.is_ascii_digit()) {
            continue;
        }
        if let (Ok(d), Ok(m)) = (c[1].parse(), c[2].parse()) {
            push(year_of(c.get(3).map(|y| y.as_str())), m, d);
        }
    }
    for c in DAY_MONTH.captures_iter(text) {
        if let (Ok(d), Some(m)) = (c[1].parse(), month(&c[2])) {
            push(year_of(c.get(3).map(|y| y.as_str())), m, d);
        }
    }
    for c in MONTH_DAY.captures_iter(text) {
        if let (Some(m), Ok(d)) = (month(&c[1]), c[2].parse()) {
            push(year_of(c.get(3).map(|y| y.as_str())), m, d);
        }
    }
    let horizon = today.saturating_add(jiff::Span::new().days(366));
    found
        .into_iter()
        .filter(|d| *d >= today && *d <= horizon)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent() -> Timestamp {
        "2026-11-27T09:00:00Z".parse().unwrap()
    }

    fn date(s: &str) -> Option<Date> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn simple_return_dates_in_english_and_german() {
        let cases = [
            ("I am out of the office until 2026-12-07.", "2026-12-07"),
            ("Out until 7.12.2026.", "2026-12-07"),
            ("Ich bin bis zum 7.12.2026 nicht im Büro.", "2026-12-07"),
            ("Ab dem 8.12. bin ich wieder erreichbar.", "2026-12-08"),
            ("Back on 7 December 2026, thanks.", "2026-12-07"),
            ("I'll return on December 7th, 2026.", "2026-12-07"),
            (
                "Abwesend vom 1. Dezember bis 9. Dezember 2026",
                "2026-12-09",
            ),
            ("away until Jan 5", "2027-01-05"),
        ];
        for (text, want) in cases {
            assert_eq!(return_date(text, sent()), date(want), "{text}");
        }
    }

    #[test]
    fn no_date_or_only_past_dates_give_none() {
        assert_eq!(return_date("I am away, sorry.", sent()), None);
        assert_eq!(return_date("Since 2025-01-01 we moved.", sent()), None);
        assert_eq!(return_date("version 5.1.1 of the app", sent()), None);
        assert_eq!(return_date("status 4.2.2.1", sent()), None);
    }
}
