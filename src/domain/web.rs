//! Website URL normalisation and the per-site domain key used to find
//! duplicates and to match the blacklist.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use url::{Host, Url};

/// A lead's website: an absolute http(s) URL with a lowercase host, no
/// credentials and no fragment. A bare `example.com` becomes
/// `http://example.com/`; the fetcher follows any redirect to https and the
/// audit reports whether one exists.
///
/// Held as its normalised text: leads are decoded far more often than their
/// URL is needed, and a stored website was validated when it was made.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub struct Website(String);

/// The key that says "same site": the registrable domain (`shop.example.co.uk`
/// and `WWW.Example.co.uk` are both `example.co.uk`). Hosts with no public
/// suffix (IP literals, `localhost`) keep an explicit port, so that sites on
/// different loopback ports stay different leads.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Domain(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebsiteError {
    #[error("website is empty")]
    Empty,
    #[error("`{0}` contains whitespace")]
    Whitespace(String),
    #[error("`{value}` uses the {scheme} scheme; only http and https websites can be audited")]
    Scheme { value: String, scheme: String },
    #[error("`{value}` is not a valid URL: {reason}")]
    Invalid { value: String, reason: String },
    #[error("`{0}` has no host name")]
    NoHost(String),
    #[error("`{0}` is not a complete host name (expected something like example.com)")]
    IncompleteHost(String),
}

impl Website {
    pub fn parse(input: &str) -> Result<Self, WebsiteError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(WebsiteError::Empty);
        }
        if trimmed.chars().any(char::is_whitespace) {
            return Err(WebsiteError::Whitespace(trimmed.to_string()));
        }
        let with_scheme = match trimmed.find("://") {
            Some(at) => {
                let scheme = trimmed[..at].to_ascii_lowercase();
                if scheme != "http" && scheme != "https" {
                    return Err(WebsiteError::Scheme {
                        value: trimmed.to_string(),
                        scheme,
                    });
                }
                trimmed.to_string()
            }
            None if trimmed.starts_with("//") => format!("http:{trimmed}"),
            None => format!("http://{trimmed}"),
        };
        let mut url = Url::parse(&with_scheme).map_err(|e| WebsiteError::Invalid {
            value: trimmed.to_string(),
            reason: e.to_string(),
        })?;
        match url.host() {
            None => return Err(WebsiteError::NoHost(trimmed.to_string())),
            Some(Host::Domain(host)) => {
                let host = host.trim_end_matches('.');
                if host.is_empty() {
                    return Err(WebsiteError::NoHost(trimmed.to_string()));
                }
                if !host.contains('.') && host != "localhost" {
                    return Err(WebsiteError::IncompleteHost(trimmed.to_string()));
                }
                if host
                    .split('.')
                    .any(|label| label.is_empty() || label.len() > 63)
                {
                    return Err(WebsiteError::Invalid {
                        value: trimmed.to_string(),
                        reason: "empty or over-long label in host name".into(),
                    });
                }
                let host = host.to_string();
                url.set_host(Some(&host))
                    .map_err(|e| WebsiteError::Invalid {
                        value: trimmed.to_string(),
                        reason: e.to_string(),
                    })?;
            }
            Some(Host::Ipv4(_) | Host::Ipv6(_)) => {}
        }
        // Credentials in a lead's URL are never wanted and must not be stored.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.set_fragment(None);
        Ok(Self(url.into()))
    }

    /// The parsed URL. A `Website` is only made from a URL that parsed, so
    /// this cannot fail short of a corrupted store.
    pub fn url(&self) -> Result<Url, WebsiteError> {
        Url::parse(&self.0).map_err(|e| WebsiteError::Invalid {
            value: self.0.clone(),
            reason: e.to_string(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host as a person reads it (Unicode for an internationalised
    /// name); the stored URL keeps the ASCII form for the wire.
    pub fn display_host(&self) -> String {
        match Url::parse(&self.0) {
            Ok(url) => crate::domain::idn::unicode_host(url.host_str().unwrap_or_default()).into(),
            Err(_) => self.0.clone(),
        }
    }

    /// The whole URL with its host in Unicode, for link text.
    pub fn display(&self) -> String {
        crate::domain::idn::unicode_url(&self.0).into_owned()
    }

    pub fn domain(&self) -> Domain {
        match Url::parse(&self.0) {
            Ok(url) => Domain::of_url(&url),
            Err(_) => Domain(self.0.clone()),
        }
    }
}

impl Domain {
    /// Parses what an operator types for a domain (`example.com`,
    /// `https://www.example.com/x`) into its key.
    pub fn parse(input: &str) -> Result<Self, WebsiteError> {
        Website::parse(input).map(|w| w.domain())
    }

    /// The key of a mail domain (the part after `@`).
    pub fn of_host(host: &str) -> Self {
        Self(registrable(
            host.trim_end_matches('.').to_ascii_lowercase().as_str(),
        ))
    }

    fn of_url(url: &Url) -> Self {
        let port = url.port();
        let key = match url.host() {
            Some(Host::Domain(host)) => {
                let base = registrable(host);
                match port {
                    Some(port) if psl::suffix_str(host).is_none_or(|s| s == host) => {
                        format!("{base}:{port}")
                    }
                    _ => base,
                }
            }
            Some(Host::Ipv4(ip)) => with_port(IpAddr::V4(ip), port),
            Some(Host::Ipv6(ip)) => with_port(IpAddr::V6(ip), port),
            None => String::new(),
        };
        Self(key)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key as a person reads it (Unicode for an internationalised name).
    pub fn display(&self) -> String {
        crate::domain::idn::unicode_host(&self.0).into_owned()
    }
}

fn with_port(ip: IpAddr, port: Option<u16>) -> String {
    match (ip, port) {
        (IpAddr::V4(v4), Some(p)) => format!("{v4}:{p}"),
        (IpAddr::V6(v6), Some(p)) => format!("[{v6}]:{p}"),
        (ip, None) => ip.to_string(),
    }
}

fn registrable(host: &str) -> String {
    let host = host.strip_prefix("www.").unwrap_or(host);
    psl::domain_str(host).unwrap_or(host).to_string()
}

impl fmt::Display for Website {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Website {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Website({})", self.0)
    }
}

/// Stored websites were normalised when they were made; decoding trusts them.
impl From<String> for Website {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<Website> for String {
    fn from(value: Website) -> Self {
        value.0
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Domain({})", self.0)
    }
}

impl TryFrom<String> for Domain {
    type Error = WebsiteError;
    /// Stored keys are already normalised; anything else goes through `parse`.
    fn try_from(value: String) -> Result<Self, Self::Error> {
        if value.is_empty() {
            return Err(WebsiteError::Empty);
        }
        Ok(Self(value))
    }
}

impl From<Domain> for String {
    fn from(value: Domain) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn spellings_of_one_site_share_a_domain() {
        let keys: Vec<_> = [
            "HTTP://WWW.Example.com/",
            "example.com",
            "https://example.com/contact?x=1",
            "www.example.com.",
            "https://shop.example.com",
            "http://user:pw@example.com/#top",
        ]
        .iter()
        .map(|s| Domain::parse(s).unwrap().to_string())
        .collect();
        assert!(keys.iter().all(|k| k == "example.com"), "{keys:?}");
    }

    #[test]
    fn normalised_website_keeps_path_drops_credentials_and_fragment() {
        let w = Website::parse("HTTPS://user:pw@WWW.Example.COM:443/Contact?x=1#top").unwrap();
        assert_eq!(w.as_str(), "https://www.example.com/Contact?x=1");
        assert_eq!(
            Website::parse("example.com").unwrap().as_str(),
            "http://example.com/"
        );
    }

    #[test]
    fn public_suffixes_are_respected() {
        assert_eq!(
            Domain::parse("www.bakery.co.uk").unwrap().as_str(),
            "bakery.co.uk"
        );
        assert_eq!(
            Domain::parse("https://a.b.bakery.co.uk/x")
                .unwrap()
                .as_str(),
            "bakery.co.uk"
        );
    }

    #[test]
    fn loopback_sites_on_different_ports_are_different() {
        let a = Domain::parse("http://127.0.0.1:8001/").unwrap();
        let b = Domain::parse("http://127.0.0.1:8002/").unwrap();
        assert_ne!(a, b);
        assert_eq!(a.as_str(), "127.0.0.1:8001");
        assert_eq!(
            Domain::parse("localhost:3000").unwrap().as_str(),
            "localhost:3000"
        );
        assert_eq!(Domain::parse("[::1]:80").unwrap().as_str(), "::1");
        assert_eq!(
            Domain::parse("http://[::1]:81").unwrap().as_str(),
            "[::1]:81"
        );
    }

    #[test]
    fn bad_websites_say_why() {
        assert_eq!(Website::parse("  "), Err(WebsiteError::Empty));
        assert!(matches!(
            Website::parse("ftp://x.com"),
            Err(WebsiteError::Scheme { .. })
        ));
        assert!(matches!(
            Website::parse("javascript://x.com"),
            Err(WebsiteError::Scheme { .. })
        ));
        assert!(matches!(
            Website::parse("bakery"),
            Err(WebsiteError::IncompleteHost(_))
        ));
        assert!(matches!(
            Website::parse("exa mple.com"),
            Err(WebsiteError::Whitespace(_))
        ));
        assert!(matches!(
            Website::parse("http://"),
            Err(WebsiteError::Invalid { .. })
        ));
        assert!(Website::parse("http://a..com").is_err());
    }

    /// A plain DNS label. Labels with `--` in the third and fourth place
    /// are reserved for internationalised names (`xn--...`) and must be
    /// valid punycode, which random text is not.
    fn host_label() -> impl Strategy<Value = String> {
        "[a-z][a-z0-9-]{0,10}[a-z0-9]"
            .prop_filter("reserved IDN form", |l| l.get(2..4) != Some("--"))
    }

    proptest! {
        #[test]
        fn parse_never_panics(input in "\\PC{0,80}") {
            let _ = Website::parse(&input);
            let _ = Domain::parse(&input);
        }

        #[test]
        fn normalising_is_idempotent(label in host_label(), tld in "(com|de|co\\.uk|org)", path in "(/[a-z0-9]{0,6}){0,3}") {
            let input = format!("http://{label}.{tld}{path}");
            let once = Website::parse(&input).unwrap();
            let twice = Website::parse(once.as_str()).unwrap();
            prop_assert_eq!(&once, &twice);
            prop_assert_eq!(once.domain(), twice.domain());
        }

        #[test]
        fn case_scheme_www_and_path_do_not_change_the_domain(
            label in host_label(),
            tld in "(com|de|co\\.uk|org)",
            upper in any::<bool>(),
            www in any::<bool>(),
            https in any::<bool>(),
            path in "(/[a-z0-9]{0,6}){0,3}(\\?q=[a-z]{1,4})?",
        ) {
            let base = Domain::parse(&format!("{label}.{tld}")).unwrap();
            let host = format!("{}{label}.{tld}", if www { "www." } else { "" });
            let host = if upper { host.to_uppercase() } else { host };
            let scheme = if https { "https://" } else { "" };
            let variant = Domain::parse(&format!("{scheme}{host}{path}")).unwrap();
            prop_assert_eq!(variant, base);
        }
    }
}
