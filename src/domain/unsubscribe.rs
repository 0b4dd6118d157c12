//! Unsubscribe links: each lead's own random token, apart from its report
//! link, so the link in mail already delivered keeps working whatever
//! happens to the report (revoked, expired, published again); and whether a
//! base URL is fit to carry that link in outgoing mail.

use std::fmt;
use std::net::IpAddr;

use url::{Host, Url};

use super::report::ReportToken;

/// 32 lowercase hex digits, like a report token, but never one that opens
/// a report page (except the report tokens of mail sent before leadscout
/// had unsubscribe tokens, kept as aliases so those links still work).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UnsubscribeToken(String);

impl UnsubscribeToken {
    /// A token from 16 random bytes.
    pub fn from_random(bytes: [u8; 16]) -> Self {
        Self(hex::encode(bytes))
    }

    /// Strict: exactly 32 lowercase hex digits, the same rule as report
    /// tokens (so an old report token is a valid unsubscribe token).
    pub fn parse(text: &str) -> Option<Self> {
        text.parse::<ReportToken>()
            .ok()
            .map(|t| Self(String::from(t)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The token at the end of an unsubscribe URL (`…/u/TOKEN`), as the
    /// draft stage has always written them; `None` for anything else.
    pub fn from_url(url: &str) -> Option<Self> {
        let url = Url::parse(url.trim()).ok()?;
        let path = url.path().trim_end_matches('/');
        let (head, token) = path.rsplit_once('/')?;
        if !head.ends_with("/u") && head != "u" {
            return None;
        }
        Self::parse(token)
    }
}

impl From<&ReportToken> for UnsubscribeToken {
    fn from(token: &ReportToken) -> Self {
        Self(token.as_str().to_string())
    }
}

impl fmt::Display for UnsubscribeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for UnsubscribeToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A token lets anyone unsubscribe its lead: logs show a prefix only.
        write!(f, "UnsubscribeToken({}…)", &self.0[..6])
    }
}

/// Every message about unsubscribe links starts this way, so a draft's
/// note can tell its own warning from other notes.
pub const LINK_PROBLEM_PREFIX: &str = "Unsubscribe links";

const WHAT_TO_SET: &str = "set server.public_base_url to the https address people reach the page server at (e.g. https://reports.agency.example); for tests or an offline demo only, set sending.allow_local_unsubscribe_links = true";

/// Why recipients could not use a link starting with `url`.
enum Unfit {
    Unset,
    NotUrl,
    NoHost,
    Unreachable(&'static str),
    NotHttps(String),
}

fn unfit(url: &str) -> Option<Unfit> {
    let url = url.trim();
    if url.is_empty() {
        return Some(Unfit::Unset);
    }
    let Ok(parsed) = Url::parse(url) else {
        return Some(Unfit::NotUrl);
    };
    let Some(host) = parsed.host() else {
        return Some(Unfit::NoHost);
    };
    if let Some(place) = unreachable_host(&host) {
        return Some(Unfit::Unreachable(place));
    }
    (parsed.scheme() != "https").then(|| Unfit::NotHttps(parsed.scheme().to_string()))
}

/// What is wrong with `base_url` (the `server.public_base_url` setting) as
/// the start of the unsubscribe links in outgoing mail, and what to set;
/// `None` when it is fine. Recipients must be able to reach the link from
/// anywhere, and RFC 8058 one-click unsubscribe wants an https URI, so an
/// unset, loopback, private-network or plain-http base is a problem unless
/// `allow_local` (the explicit opt-out for tests and demos) is given.
pub fn unsubscribe_base_problem(base_url: &str, allow_local: bool) -> Option<String> {
    if allow_local {
        return None;
    }
    let base = base_url.trim();
    let why = match unfit(base)? {
        Unfit::Unset => {
            return Some(format!(
                "{LINK_PROBLEM_PREFIX} would point at this machine: server.public_base_url is not set, so they use the page server's local address, which recipients cannot reach; {WHAT_TO_SET}"
            ));
        }
        Unfit::NotUrl => format!("need a URL: server.public_base_url `{base}` is not one"),
        Unfit::NoHost => format!("need a host name: server.public_base_url `{base}` has none"),
        Unfit::Unreachable(place) => format!(
            "would point at {place}: server.public_base_url `{base}` cannot be reached by recipients"
        ),
        Unfit::NotHttps(scheme) => format!(
            "must be https for one-click unsubscribe (RFC 8058): server.public_base_url `{base}` uses {scheme}"
        ),
    };
    Some(format!("{LINK_PROBLEM_PREFIX} {why}; {WHAT_TO_SET}"))
}

/// What is wrong with the unsubscribe links stored in emails about to be
/// sent (`(lead, link)` pairs), e.g. drafted before
/// `server.public_base_url` was set; `None` when every one is fine or
/// `allow_local` is given. The text goes on as it was drafted, so a bad
/// link must be fixed in the email, not swapped behind the operator's back.
pub fn unsubscribe_links_problem<'a>(
    links: impl IntoIterator<Item = (String, &'a str)>,
    allow_local: bool,
) -> Option<String> {
    if allow_local {
        return None;
    }
    let bad: Vec<(String, &str)> = links
        .into_iter()
        .filter(|(_, link)| unfit(link).is_some())
        .collect();
    let (lead, link) = bad.first()?;
    Some(format!(
        "{LINK_PROBLEM_PREFIX} in {} approved email(s) cannot be used by recipients (lead {lead}: `{link}`), as they were drafted before server.public_base_url was a public https address. Redraft them (leadscout outreach reject LEAD, then leadscout run --campaign CAMPAIGN --stages draft) or edit the link, then approve again; for tests or an offline demo only, set sending.allow_local_unsubscribe_links = true",
        bad.len()
    ))
}

/// Where a host is when recipients cannot reach it, in words.
fn unreachable_host(host: &Host<&str>) -> Option<&'static str> {
    let ip = match host {
        Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            return (name == "localhost" || name.ends_with(".localhost"))
                .then_some("this machine (localhost)");
        }
        Host::Ipv4(v4) => IpAddr::V4(*v4),
        Host::Ipv6(v6) => IpAddr::V6(*v6).to_canonical(),
    };
    match ip {
        _ if ip.is_loopback() || ip.is_unspecified() => Some("this machine (loopback)"),
        IpAddr::V4(v4) if v4.is_private() || v4.is_link_local() => {
            Some("a private network address")
        }
        IpAddr::V6(v6) if v6.is_unique_local() || v6.is_unicast_link_local() => {
            Some("a private network address")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_strict_and_found_at_the_end_of_their_url() {
        let t = UnsubscribeToken::from_random([0xcd; 16]);
        assert_eq!(UnsubscribeToken::parse(t.as_str()), Some(t.clone()));
        assert!(!format!("{t:?}").contains(t.as_str()));
        for bad in ["", "ABCD", &"a".repeat(31), &"g".repeat(32)] {
            assert_eq!(UnsubscribeToken::parse(bad), None, "{bad}");
        }
        let url = format!("https://reports.example/u/{t}");
        assert_eq!(UnsubscribeToken::from_url(&url), Some(t.clone()));
        assert_eq!(
            UnsubscribeToken::from_url(&format!("http://127.0.0.1:8080/base/u/{t}/")),
            Some(t.clone())
        );
        assert_eq!(
            UnsubscribeToken::from_url(&format!("https://reports.example/r/{t}")),
            None
        );
        assert_eq!(UnsubscribeToken::from_url("not a url"), None);
    }

    #[test]
    fn only_a_public_https_base_is_fit_for_mail() {
        assert_eq!(
            unsubscribe_base_problem("https://reports.agency.example", false),
            None
        );
        assert_eq!(
            unsubscribe_base_problem("https://reports.agency.example/base/", false),
            None
        );
        assert_eq!(unsubscribe_base_problem("https://203.0.113.7", false), None);
        for (base, says) in [
            ("", "not set"),
            ("  ", "not set"),
            ("http://127.0.0.1:8080", "loopback"),
            ("https://127.0.0.1:8443", "loopback"),
            ("https://[::1]:8443", "loopback"),
            ("https://localhost", "localhost"),
            ("https://reports.localhost", "localhost"),
            ("https://0.0.0.0", "loopback"),
            ("https://192.168.1.20", "private network"),
            ("https://10.0.0.1", "private network"),
            ("https://[fd00::1]", "private network"),
            ("http://reports.agency.example", "uses http"),
            ("reports.agency.example", "not one"),
        ] {
            let problem = unsubscribe_base_problem(base, false)
                .unwrap_or_else(|| panic!("`{base}` should be refused"));
            assert!(problem.starts_with(LINK_PROBLEM_PREFIX), "{problem}");
            assert!(problem.contains(says), "`{base}`: {problem}");
            assert!(
                problem.contains("server.public_base_url")
                    && problem.contains("sending.allow_local_unsubscribe_links"),
                "names what to set: {problem}"
            );
        }
    }

    #[test]
    fn the_explicit_opt_out_accepts_local_links() {
        for base in ["", "http://127.0.0.1:8080", "http://reports.example"] {
            assert_eq!(unsubscribe_base_problem(base, true), None, "{base}");
        }
        let local = [("L1".to_string(), "http://127.0.0.1:8080/u/ab")];
        assert_eq!(unsubscribe_links_problem(local.clone(), true), None);
        assert!(unsubscribe_links_problem(local, false).is_some());
    }

    #[test]
    fn stored_links_are_named_when_unfit() {
        let links = [
            ("L1".to_string(), "https://reports.example/u/ab"),
            ("L2".to_string(), "http://127.0.0.1:8080/u/cd"),
            ("L3".to_string(), "http://reports.example/u/ef"),
        ];
        let problem = unsubscribe_links_problem(links, false).unwrap();
        assert!(problem.starts_with(LINK_PROBLEM_PREFIX), "{problem}");
        assert!(problem.contains("in 2 approved"), "{problem}");
        assert!(
            problem.contains("lead L2") && problem.contains("127.0.0.1:8080"),
            "{problem}"
        );
        assert!(problem.contains("sending.allow_local_unsubscribe_links"));
        let fine = [("L1".to_string(), "https://reports.example/u/ab")];
        assert_eq!(unsubscribe_links_problem(fine, false), None);
    }
}
