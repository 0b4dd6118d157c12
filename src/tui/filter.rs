//! The leads filter: free words match the business, domain, email and city;
//! field terms narrow further: `status:failed`, `score:<50`, `score:>=80`,
//! `city:berlin`, `category:dentist`, `has:email`, `has:score`,
//! `has:views`, and `hot` (a person viewed the report after the email).

use crate::domain::LeadStatus;
use crate::domain::idn::{unicode_email, unicode_host};
use crate::service::views::LeadView;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Word(String),
    Status(String),
    Score(std::cmp::Ordering, bool, u8),
    Hot,
    City(String),
    Category(String),
    Has(String),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    text: String,
    terms: Vec<Term>,
}

impl Filter {
    /// Parses a filter; a term it cannot read is an error naming it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut terms = Vec::new();
        for part in text.split_whitespace() {
            let lower = part.to_lowercase();
            let term = match lower.split_once(':') {
                Some(("status", v)) => {
                    if !LeadStatus::ALL.iter().any(|s| s.as_str() == v) {
                        return Err(format!("unknown status `{v}`"));
                    }
                    Term::Status(v.to_string())
                }
                Some(("score", v)) => {
                    let (op, rest) = if let Some(r) = v.strip_prefix("<=") {
                        ((std::cmp::Ordering::Less, true), r)
                    } else if let Some(r) = v.strip_prefix(">=") {
                        ((std::cmp::Ordering::Greater, true), r)
                    } else if let Some(r) = v.strip_prefix('<') {
                        ((std::cmp::Ordering::Less, false), r)
                    } else if let Some(r) = v.strip_prefix('>') {
                        ((std::cmp::Ordering::Greater, false), r)
                    } else {
                        ((std::cmp::Ordering::Equal, true), v)
                    };
                    let n = rest
                        .parse()
                        .map_err(|_| format!("`{part}`: the score must be a number 0–100"))?;
                    Term::Score(op.0, op.1, n)
                }
                Some(("city", v)) => Term::City(v.into()),
                Some(("category", v)) => Term::Category(v.into()),
                Some(("has", v)) if matches!(v, "email" | "score" | "phone" | "views") => {
                    Term::Has(v.into())
                }
                Some(("has", v)) => {
                    return Err(format!(
                        "`has:{v}`: use has:email, has:phone, has:score or has:views"
                    ));
                }
                None if lower == "hot" => Term::Hot,
                _ => Term::Word(lower),
            };
            terms.push(term);
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
            v.as_deref()
                .is_some_and(|x| x.to_lowercase().contains(needle))
        };
        self.terms.iter().all(|term| match term {
            // Domains and emails match as stored (punycode) and as shown
            // (Unicode), so `bäckerei` finds `xn--bckerei-…`.
            Term::Word(w) => {
                lead.business_name.to_lowercase().contains(w)
                    || lead.domain.contains(w.as_str())
                    || unicode_host(&lead.domain).contains(w.as_str())
                    || has(&lead.email, w)
                    || lead
                        .email
                        .as_deref()
                        .is_some_and(|e| unicode_email(e).to_lowercase().contains(w))
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
            Term::Hot => lead.hot,
        })
    }
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
            last_job: None,
        }
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
    fn bad_terms_say_what_is_wrong() {
        assert!(
            Filter::parse("status:nope")
                .unwrap_err()
                .contains("unknown status `nope`")
        );
        assert!(Filter::parse("score:<abc").unwrap_err().contains("number"));
        assert!(
            Filter::parse("has:wings")
                .unwrap_err()
                .contains("has:email")
        );
    }
}
