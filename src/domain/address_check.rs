//! What leadscout knows about an email address before it drafts to it:
//! whether its domain receives mail (MX records, else an address record,
//! as RFC 5321 §5.1 falls back), and whether it is a role address
//! (`info@`, `office@`: allowed, flagged) or at a throw-away mailbox
//! service. The DNS questions are asked in `pipeline::verify`; this module
//! holds the answer and its rules. Syntax was checked when the address was
//! made (`Email::parse`). No mailbox is ever probed over SMTP.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Timestamp;
use super::email::Email;

/// How the address's domain receives mail, as DNS answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MailRoute {
    /// Mail exchangers, most preferred first.
    Mx { hosts: Vec<String> },
    /// No MX, but the domain has an address record: mail goes there.
    Address,
    /// The domain says it takes no mail (RFC 7505 null MX: `MX 0 .`).
    NullMx,
    /// The domain does not exist (NXDOMAIN).
    NoDomain,
    /// The domain exists but has neither MX nor address records.
    NoRecords,
    /// DNS did not give an answer (timeout, server failure): not known.
    Unknown { reason: String },
}

impl MailRoute {
    /// `Some(true)` when mail has somewhere to go, `Some(false)` when it
    /// certainly has not, `None` when DNS could not tell.
    pub fn receives_mail(&self) -> Option<bool> {
        match self {
            Self::Mx { .. } | Self::Address => Some(true),
            Self::NullMx | Self::NoDomain | Self::NoRecords => Some(false),
            Self::Unknown { .. } => None,
        }
    }
}

/// The outcome of checking one address, stored on the lead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressCheck {
    /// The address that was checked (a lead's address can change).
    pub address: Email,
    pub checked_at: Timestamp,
    pub route: MailRoute,
    /// A mailbox of a function, not a person (`info@`, `office@`, …).
    #[serde(default)]
    pub role: bool,
    /// At a throw-away mailbox service.
    #[serde(default)]
    pub disposable: bool,
}

impl AddressCheck {
    /// The flags an address earns without asking DNS.
    pub fn new(address: Email, checked_at: Timestamp, route: MailRoute) -> Self {
        let role = is_role_address(&address);
        let disposable = is_disposable_domain(address.host());
        Self {
            address,
            checked_at,
            route,
            role,
            disposable,
        }
    }

    /// Whether this check still answers for `address` at `now`. An answer
    /// that DNS could not give is never reused.
    pub fn is_fresh_for(&self, address: &Email, now: Timestamp, recheck_after: Duration) -> bool {
        if self.address != *address || self.route.receives_mail().is_none() {
            return false;
        }
        let age = now.duration_since(self.checked_at);
        !age.is_negative() && age.unsigned_abs() < recheck_after
    }

    /// Why no draft is made to this address, when none should be.
    pub fn refusal(&self) -> Option<String> {
        let domain = self.address.host();
        Some(match &self.route {
            MailRoute::NullMx => format!("{domain} says it accepts no mail (null MX)"),
            MailRoute::NoDomain => format!("the domain {domain} does not exist"),
            MailRoute::NoRecords => {
                format!("{domain} has no mail server (neither MX nor address records)")
            }
            _ => return None,
        })
    }

    /// One line for the faces: the verdict, then the flags.
    pub fn summary(&self) -> String {
        let domain = self.address.host();
        let mut line = match &self.route {
            MailRoute::Mx { hosts } => match hosts.first() {
                Some(first) if hosts.len() > 1 => {
                    format!("receives mail (MX {first} and {} more)", hosts.len() - 1)
                }
                Some(first) => format!("receives mail (MX {first})"),
                None => "receives mail".to_string(),
            },
            MailRoute::Address => format!("receives mail (no MX; {domain}'s own address)"),
            MailRoute::Unknown { reason } => format!("not known: {reason}"),
            _ => format!("no mail: {}", self.refusal().unwrap_or_default()),
        };
        if self.role {
            line.push_str(" · role address");
        }
        if self.disposable {
            line.push_str(" · disposable mailbox service");
        }
        line
    }
}

/// Local parts that name a function, not a person. Mail to them is fine
/// (small businesses often have nothing else), so they are only flagged.
const ROLE_LOCAL_PARTS: &[&str] = &[
    "admin",
    "anfrage",
    "bookings",
    "booking",
    "buero",
    "büro",
    "contact",
    "enquiries",
    "enquiry",
    "hallo",
    "hello",
    "hi",
    "info",
    "kontakt",
    "mail",
    "office",
    "post",
    "reception",
    "sales",
    "service",
    "support",
    "team",
    "termin",
    "webmaster",
];

pub fn is_role_address(address: &Email) -> bool {
    let local = address.as_str().split('@').next().unwrap_or("");
    // `info+web@` and `info.shop@` are still the info box.
    let base = local
        .split(['+', '.', '-', '_'])
        .next()
        .unwrap_or(local)
        .to_lowercase();
    ROLE_LOCAL_PARTS.contains(&base.as_str())
}

const DISPOSABLE_LIST: &str = include_str!("../../assets/disposable-domains.txt");

/// Whether `domain` (or a domain it is under) is a throw-away mailbox
/// service from `assets/disposable-domains.txt`.
pub fn is_disposable_domain(domain: &str) -> bool {
    let domain = domain.trim_end_matches('.').to_lowercase();
    DISPOSABLE_LIST
        .lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            domain == entry
                || domain
                    .strip_suffix(entry)
                    .is_some_and(|rest| rest.ends_with('.'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(s: &str) -> Email {
        Email::parse(s).unwrap()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn role_addresses_are_flagged_people_are_not() {
        for role in ["info@a.de", "Office@a.de", "info+web@a.de", "kontakt@a.de"] {
            assert!(is_role_address(&email(role)), "{role}");
        }
        for person in ["jana@a.de", "information@a.de", "j.info@a.de"] {
            assert!(!is_role_address(&email(person)), "{person}");
        }
    }

    #[test]
    fn disposable_domains_match_whole_labels() {
        assert!(is_disposable_domain("mailinator.com"));
        assert!(is_disposable_domain("eu.mailinator.com"));
        assert!(is_disposable_domain("YOPMAIL.COM."));
        assert!(!is_disposable_domain("notmailinator.com"));
        assert!(!is_disposable_domain("mailinator.com.example"));
        assert!(!is_disposable_domain("baeckerei-huber.de"));
    }

    #[test]
    fn only_a_certain_no_refuses_a_draft() {
        let check =
            |route| AddressCheck::new(email("info@a.de"), at("2026-01-01T00:00:00Z"), route);
        assert_eq!(
            check(MailRoute::Mx {
                hosts: vec!["mx.a.de".into()]
            })
            .refusal(),
            None
        );
        assert_eq!(check(MailRoute::Address).refusal(), None);
        assert_eq!(
            check(MailRoute::Unknown {
                reason: "timeout".into()
            })
            .refusal(),
            None
        );
        assert_eq!(
            check(MailRoute::NoDomain).refusal().as_deref(),
            Some("the domain a.de does not exist")
        );
        assert!(
            check(MailRoute::NullMx)
                .refusal()
                .unwrap()
                .contains("null MX")
        );
        assert!(
            check(MailRoute::NoRecords)
                .refusal()
                .unwrap()
                .contains("no mail server")
        );
    }

    #[test]
    fn the_summary_names_the_route_and_the_flags() {
        let c = AddressCheck::new(
            email("info@mailinator.com"),
            at("2026-01-01T00:00:00Z"),
            MailRoute::Mx {
                hosts: vec!["mx1.m.com".into(), "mx2.m.com".into()],
            },
        );
        assert_eq!(
            c.summary(),
            "receives mail (MX mx1.m.com and 1 more) · role address · disposable mailbox service"
        );
    }

    #[test]
    fn a_check_is_reused_only_for_its_address_while_fresh_and_known() {
        let week = Duration::from_secs(7 * 86_400);
        let c = AddressCheck::new(
            email("jana@a.de"),
            at("2026-01-01T00:00:00Z"),
            MailRoute::Address,
        );
        assert!(c.is_fresh_for(&email("jana@a.de"), at("2026-01-01T00:00:00Z"), week));
        assert!(c.is_fresh_for(&email("jana@a.de"), at("2026-01-07T00:00:00Z"), week));
        assert!(!c.is_fresh_for(&email("jana@a.de"), at("2026-01-09T00:00:00Z"), week));
        assert!(!c.is_fresh_for(&email("max@a.de"), at("2026-01-02T00:00:00Z"), week));
        // A clock that went backwards does not make an old answer new.
        assert!(!c.is_fresh_for(&email("jana@a.de"), at("2025-12-01T00:00:00Z"), week));
        let unknown = AddressCheck::new(
            email("jana@a.de"),
            at("2026-01-01T00:00:00Z"),
            MailRoute::Unknown {
                reason: "timeout".into(),
            },
        );
        assert!(!unknown.is_fresh_for(&email("jana@a.de"), at("2026-01-01T00:00:01Z"), week));
    }
}
