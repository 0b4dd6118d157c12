//! The leads filter: free words match the business, domain, email and city;
//! field terms narrow further: `status:failed`, `score:<50`, `score:>=80`,
//! `city:berlin`, `category:dentist`, `has:email`, `has:score`,
//! `has:views`, `hot` (a person viewed the report after the email, or
//! replied), `replied` (a person answered), `bounced` (the address bounced;
//! also when the bounce then blacklisted it) and `due` (an email waits on
//! the operator or the sender: a first email or a follow-up drafted or
//! approved). These bare words are
//! terms, not searches, as `hot` always was. Words ignore case and accents. A term it cannot read (an unknown
//! status or field, a score that is no number) is an error naming the
//! term and its column.

use std::borrow::Cow;

use crate::domain::LeadStatus;
use crate::domain::idn::{unicode_email, unicode_host};
use crate::service::views::LeadView;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Word(String),
    Status(String),
    Score(std::cmp::Ordering, bool, u8),
    Hot,
    Replied,
    Bounced,
    Due,
    City(String),
    Category(String),
    Has(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    text: String,
    terms: Vec<Term>,
}

/// A term the filter cannot read: the term as typed, where it starts
/// (1-based column in the typed text) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub token: String,
    pub column: usize,
    pub reason: String,
}

impl std::fmt::Display for FilterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` at column {}: {}",
            self.token, self.column, self.reason
        )
    }
}

/// Lower case without accents, so `cafe` finds "Café" and `strasse`
/// "Straße": compatibility decomposition (NFKD), combining marks dropped
/// (every accent has a non-zero combining class), ß spelled ss. ASCII,
/// the common case, only lower-cases.
pub fn fold(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        return if text.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(text.to_ascii_lowercase())
        } else {
            Cow::Borrowed(text)
        };
    }
    let nfkd = icu_normalizer::DecomposingNormalizerBorrowed::new_nfkd();
    let classes = icu_normalizer::properties::CanonicalCombiningClassMapBorrowed::new();
    let lower = text.to_lowercase();
    let mut out = String::with_capacity(lower.len());
    for c in nfkd.normalize_iter(lower.chars()) {
        match c {
            'ß' => out.push_str("ss"),
            c if classes.get_u8(c) != 0 => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The terms of a typed filter with the 1-based column each starts at.
fn terms_with_columns(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut column = 0;
    let mut start = None;
    let mut out = Vec::new();
    for (i, c) in text.char_indices() {
        column += 1;
        if c.is_whitespace() {
            if let Some((col, from)) = start.take() {
                out.push((col, &text[from..i]));
            }
        } else if start.is_none() {
            start = Some((column, i));
        }
    }
    if let Some((col, from)) = start {
        out.push((col, &text[from..]));
    }
    out.into_iter()
}

fn score_term(value: &str) -> Result<Term, String> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let (op, rest) = if let Some(r) = value.strip_prefix("<=") {
        ((Less, true), r)
    } else if let Some(r) = value.strip_prefix(">=") {
        ((Greater, true), r)
    } else if let Some(r) = value.strip_prefix('<') {
        ((Less, false), r)
    } else if let Some(r) = value.strip_prefix('>') {
        ((Greater, false), r)
    } else {
        ((Equal, true), value)
    };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    let n: u16 = match rest.parse() {
        Ok(n) => n,
        // `score:<75has:email`: two terms run together.
        Err(_) if digits > 0 && rest[digits..].contains(':') => {
            return Err(format!(
                "`{rest}` is not a number; a space missing before `{}`?",
                &rest[digits..]
            ));
        }
        Err(_) if rest.is_empty() => {
            return Err("a number is missing; e.g. score:<50, score:>=80".into());
        }
        Err(_) => {
            return Err(format!(
                "`{rest}` is not a number; e.g. score:<50, score:>=80"
            ));
        }
    };
    match u8::try_from(n) {
        Ok(n) if n <= 100 => Ok(Term::Score(op.0, op.1, n)),
        _ => Err(format!("{n} is out of range; scores are 0–100")),
    }
}

fn term(part: &str) -> Result<Term, String> {
    let lower = part.to_lowercase();
    Ok(match lower.split_once(':') {
        Some(("status", v)) => {
            if !LeadStatus::ALL.iter().any(|s| s.as_str() == v) {
                let all: Vec<&str> = LeadStatus::ALL.iter().map(|s| s.as_str()).collect();
                return Err(format!("no such status; one of: {}", all.join(", ")));
            }
            Term::Status(v.to_string())
        }
        Some(("score", v)) => score_term(v)?,
        Some(("city", v)) => Term::City(fold(v).into_owned()),
        Some(("category", v)) => Term::Category(fold(v).into_owned()),
        Some(("has", v)) if matches!(v, "email" | "score" | "phone" | "views") => {
            Term::Has(v.into())
        }
        Some(("has", _)) => {
            return Err("use has:email, has:phone, has:score or has:views".into());
        }
        // A typo in a field name (`stauts:new`) would otherwise search
        // for a word no lead has; web addresses stay words.
        Some((key, _))
            if !key.is_empty()
                && key.chars().all(|c| c.is_ascii_alphabetic())
                && !matches!(key, "http" | "https" | "mailto") =>
        {
            return Err(format!(
                "no field `{key}`; use status:, score:, city:, category:, has: or plain words"
            ));
        }
        None if lower == "hot" => Term::Hot,
        None if lower == "replied" => Term::Replied,
        None if lower == "bounced" => Term::Bounced,
        None if lower == "due" => Term::Due,
        _ => Term::Word(fold(&lower).into_owned()),
    })
}

impl Filter {
    /// Parses a filter; the first term it cannot read is an error naming
    /// it and where it starts.
    pub fn parse(text: &str) -> Result<Self, FilterError> {
        let mut terms = Vec::new();
        for (column, part) in terms_with_columns(text) {
            terms.push(term(part).map_err(|reason| FilterError {
                token: part.to_string(),
                column,
                reason,
            })?);
        }
        Ok(Self {
            text: text.trim().to_string(),
            terms,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn matches(&self, lead: &LeadView) -> bool {
        let has = |v: &Option<String>, needle: &str| {
            v.as_deref().is_some_and(|x| fold(x).contains(needle))
        };
        self.terms.iter().all(|term| match term {
            // Domains and emails match as stored (punycode) and as shown
            // (Unicode), so `bäckerei` finds `xn--bckerei-…`; every text is
            // folded (case and accents) as the words are.
            Term::Word(w) => {
                fold(&lead.business_name).contains(w.as_str())
                    || lead.domain.contains(w.as_str())
                    || fold(&unicode_host(&lead.domain)).contains(w.as_str())
                    || has(&lead.email, w)
                    || lead
                        .email
                        .as_deref()
                        .is_some_and(|e| fold(&unicode_email(e)).contains(w.as_str()))
                    || has(&lead.city, w)
            }
            Term::Status(s) => lead.status.as_str() == s,
            Term::Score(ord, or_equal, n) => lead.score.is_some_and(|score| {
                let c = score.cmp(n);
                c == *ord || (*or_equal && c == std::cmp::Ordering::Equal)
            }),
            Term::City(c) => has(&lead.city, c),
            Term::Category(c) => has(&lead.category, c),
            Term::Has(what) => match what.as_str() {
                "email" => lead.email.is_some(),
                "phone" => lead.phone.is_some(),
                "views" => lead.views > 0,
                _ => lead.score.is_some(),
            },
            // A reply is the hottest signal there is.
            Term::Hot => lead.hot || lead.status == LeadStatus::Replied,
            Term::Replied => lead.status == LeadStatus::Replied,
            Term::Bounced => bounced(lead),
            // An email waits on the operator or the sender: a first
            // draft, or a follow-up the sequence drafted.
            Term::Due => {
                matches!(lead.status, LeadStatus::Drafted | LeadStatus::Approved)
                    || lead.followup_waiting.is_some()
            }
        })
    }
}

/// The address bounced: the lead says so, or a hard bounce blacklisted
/// it (the status it had then is kept).
pub fn bounced(lead: &LeadView) -> bool {
    lead.status == LeadStatus::Bounced
        || (lead.status == LeadStatus::Blacklisted
            && lead.status_before_blacklist == Some(LeadStatus::Bounced))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{LeadId, Timestamp};

    fn lead(
        name: &str,
        status: LeadStatus,
        score: Option<u8>,
        city: Option<&str>,
        email: Option<&str>,
    ) -> LeadView {
        LeadView {
            id: LeadId::from_ulid(ulid::Ulid::nil()),
            campaign: "c".into(),
            business_name: name.into(),
            website: format!("https://{}.example/", name.to_lowercase()),
            domain: format!("{}.example", name.to_lowercase()),
            email: email.map(String::from),
            phone: None,
            city: city.map(String::from),
            category: None,
            status,
            score,
            created_at: Timestamp::UNIX_EPOCH,
            views: 0,
            last_viewed_at: None,
            hot: false,
            status_before_blacklist: None,
            followup_waiting: None,
            last_job: None,
        }
    }

    #[test]
    fn replied_bounced_and_due_narrow_by_what_happened() {
        let f = |s: &str| Filter::parse(s).unwrap();
        let replied = lead("Anna", LeadStatus::Replied, None, None, None);
        let bounced = lead("Bert", LeadStatus::Bounced, None, None, None);
        let mut blocked = lead("Carla", LeadStatus::Blacklisted, None, None, None);
        blocked.status_before_blacklist = Some(LeadStatus::Bounced);
        let mut by_hand = lead("Dora", LeadStatus::Blacklisted, None, None, None);
        by_hand.status_before_blacklist = Some(LeadStatus::Sent);
        let drafted = lead("Emil", LeadStatus::Drafted, None, None, None);
        let approved = lead("Finn", LeadStatus::Approved, None, None, None);
        let sent = lead("Gina", LeadStatus::Sent, None, None, None);
        let mut follow_up = lead("Hugo", LeadStatus::Sent, None, None, None);
        follow_up.followup_waiting = Some(2);
        let all = [
            &replied, &bounced, &blocked, &by_hand, &drafted, &approved, &sent, &follow_up,
        ];
        let names = |term: &str| -> Vec<&str> {
            all.iter()
                .filter(|l| f(term).matches(l))
                .map(|l| l.business_name.as_str())
                .collect()
        };
        assert_eq!(names("replied"), ["Anna"]);
        assert_eq!(
            names("bounced"),
            ["Bert", "Carla"],
            "a bounce then blacklisted"
        );
        assert_eq!(names("due"), ["Emil", "Finn", "Hugo"]);
        assert_eq!(names("hot"), ["Anna"], "a reply is hot");
        assert_eq!(names("REPLIED"), ["Anna"], "terms ignore case");
        assert_eq!(names("due city:berlin"), Vec::<&str>::new());
        assert!(f("replied").matches(&replied) && !f("repl").matches(&replied));
    }

    #[test]
    fn internationalised_domains_match_as_shown_and_as_stored() {
        let f = |s: &str| Filter::parse(s).unwrap();
        let mut idn = lead("Morgenrot", LeadStatus::New, None, None, None);
        idn.domain = "xn--bckerei-5wa.example".into();
        idn.email = Some("info@xn--bckerei-5wa.example".into());
        let shown = unicode_host(&idn.domain).into_owned();
        assert_ne!(shown, idn.domain, "the test domain is punycode");
        assert!(f("bäckerei").matches(&idn), "{shown}");
        assert!(f("BÄCKEREI").matches(&idn), "words are lower-cased");
        assert!(
            f("xn--bckerei").matches(&idn),
            "the stored form still matches"
        );
        assert!(f("info@bäckerei").matches(&idn), "the email as shown");
        assert!(!f("konditorei").matches(&idn));
    }

    #[test]
    fn views_and_hot_narrow() {
        let f = |s: &str| Filter::parse(s).unwrap();
        let mut seen = lead("Seen", LeadStatus::Sent, Some(40), None, None);
        seen.views = 2;
        seen.hot = true;
        let unseen = lead("Unseen", LeadStatus::Sent, Some(40), None, None);
        assert!(f("has:views").matches(&seen) && !f("has:views").matches(&unseen));
        assert!(f("hot").matches(&seen) && !f("hot").matches(&unseen));
        assert!(
            !f("hotel").matches(&seen),
            "hotel is a word, not the hot term"
        );
    }

    #[test]
    fn terms_narrow_and_words_search() {
        let a = lead(
            "Alpha",
            LeadStatus::Failed,
            Some(40),
            Some("Berlin"),
            Some("a@alpha.example"),
        );
        let b = lead(
            "Bravo",
            LeadStatus::Audited,
            Some(90),
            Some("Hamburg"),
            None,
        );
        let f = |t: &str| Filter::parse(t).unwrap();
        assert!(f("status:failed").matches(&a) && !f("status:failed").matches(&b));
        assert!(f("score:<50").matches(&a) && !f("score:<50").matches(&b));
        assert!(f("score:>=90").matches(&b) && !f("score:>90").matches(&b));
        assert!(f("city:berlin has:email").matches(&a) && !f("has:email").matches(&b));
        assert!(f("brav").matches(&b) && !f("brav").matches(&a));
        assert!(f("").matches(&a) && f("").is_empty());
    }

    #[test]
    fn bad_terms_say_what_is_wrong_and_where() {
        let err = |s: &str| Filter::parse(s).unwrap_err().to_string();
        let status = err("status:nosuch");
        assert!(
            status.starts_with("`status:nosuch` at column 1: no such status; one of: new, fetched"),
            "{status}"
        );
        assert_eq!(
            err("cafe  score:abc"),
            "`score:abc` at column 7: `abc` is not a number; e.g. score:<50, score:>=80"
        );
        let joined = err("score:<75has:email");
        assert!(
            joined.contains("`score:<75has:email` at column 1")
                && joined.contains("space missing before `has:email`"),
            "{joined}"
        );
        assert!(err("score:>101").contains("0–100"));
        assert!(err("hot has:wings").contains("`has:wings` at column 5"));
        assert!(err("stauts:new").contains("no field `stauts`"));
        assert!(Filter::parse("https://cafe").is_ok(), "addresses are words");
    }

    #[test]
    fn words_match_without_case_or_accents() {
        let f = |s: &str| Filter::parse(s).unwrap();
        let mut cafe = lead("Café Kranich", LeadStatus::New, None, Some("Köln"), None);
        cafe.domain = "kranich.example".into();
        assert!(f("cafe").matches(&cafe));
        assert!(f("CAFÉ").matches(&cafe));
        assert!(f("koln").matches(&cafe) && f("city:koln").matches(&cafe));
        let strasse = lead("Straßenbau Nord", LeadStatus::New, None, None, None);
        assert!(f("strasse").matches(&strasse) && f("straße").matches(&strasse));
        assert!(!f("cafe").matches(&strasse));
        assert_eq!(fold("Ǆemal ﬁ"), "dzemal fi", "compatibility forms too");
    }
}
