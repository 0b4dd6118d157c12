//! Email address parsing that refuses what a receiving mail server would, and
//! normalises the rest to one lowercase form for matching.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::web::Domain;

/// A deliverable-looking email address in normalised (lowercase) form.
/// Decoding a stored address trusts it (it was validated when it was made);
/// everything typed or scraped goes through `parse`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a valid email address: {reason}")]
pub struct EmailError {
    pub value: String,
    pub reason: &'static str,
}

impl Email {
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let trimmed = input.trim();
        let bare = strip_mailto(trimmed);
        let fail = |reason| EmailError {
            value: trimmed.to_string(),
            reason,
        };
        if bare.is_empty() {
            return Err(fail("it is empty"));
        }
        if bare.len() > 254 {
            return Err(fail("it is longer than 254 characters"));
        }
        if bare.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(fail("it contains whitespace or control characters"));
        }
        let Some((local, domain)) = bare.rsplit_once('@') else {
            return Err(fail("it has no @"));
        };
        if local.is_empty() {
            return Err(fail("nothing before the @"));
        }
        if local.len() > 64 {
            return Err(fail("the part before the @ is longer than 64 characters"));
        }
        if local.contains('@') || local.starts_with('"') {
            return Err(fail("quoted or multi-@ addresses are not accepted"));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(fail("misplaced dot before the @"));
        }
        let allowed_local = |c: char| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c);
        if !local.chars().all(allowed_local) {
            return Err(fail(
                "the part before the @ has characters mail servers refuse",
            ));
        }
        let domain = domain.trim_end_matches('.');
        if domain.starts_with('[') {
            return Err(fail("IP-literal mail domains are not accepted"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 {
            return Err(fail("the domain has no dot"));
        }
        for label in &labels {
            if label.is_empty() || label.len() > 63 {
                return Err(fail("the domain has an empty or over-long part"));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(fail("a domain part starts or ends with a hyphen"));
            }
            if !label.chars().all(|c| c.is_alphanumeric() || c == '-') {
                return Err(fail("the domain has characters that are not allowed"));
            }
        }
        let tld = labels[labels.len() - 1];
        if tld.chars().all(|c| c.is_ascii_digit()) {
            return Err(fail("the domain ends in a number"));
        }
        let normalised = format!("{}@{}", local.to_lowercase(), domain.to_lowercase());
        // A second opinion from a full RFC 5321 parser catches the rest.
        if !email_address::EmailAddress::is_valid(&normalised) {
            return Err(fail("it does not follow the address format"));
        }
        Ok(Self(normalised))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn host(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }

    /// The site key of the mail domain, to match domain blacklist entries.
    pub fn domain(&self) -> Domain {
        Domain::of_host(self.host())
    }
}

fn strip_mailto(s: &str) -> &str {
    let lower = s.get(..7).map(str::to_ascii_lowercase);
    let without = if lower.as_deref() == Some("mailto:") {
        &s[7..]
    } else {
        s
    };
    // `mailto:` links may carry ?subject=...; the address is what precedes it.
    without.split('?').next().unwrap_or(without)
}

impl FromStr for Email {
    type Err = EmailError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

impl From<String> for Email {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_and_normalises_ordinary_addresses() {
        let e = Email::parse("  Info@Bakery-Berlin.DE ").unwrap();
        assert_eq!(e.as_str(), "info@bakery-berlin.de");
        assert_eq!(
            Email::parse("mailto:a.b+c@x.co.uk?subject=hi")
                .unwrap()
                .as_str(),
            "a.b+c@x.co.uk"
        );
        assert_eq!(
            Email::parse("o'brien@pub.ie").unwrap().domain().as_str(),
            "pub.ie"
        );
        assert_eq!(
            Email::parse("x@mail.shop.co.uk").unwrap().domain().as_str(),
            "shop.co.uk"
        );
    }

    #[test]
    fn refuses_what_a_mail_server_would() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a@b@c.com",
            "a..b@c.com",
            ".a@c.com",
            "a.@c.com",
            "a b@c.com",
            "a@c..com",
            "a@-c.com",
            "a@c-.com",
            "a@[127.0.0.1]",
            "a@1.2.3.4",
            "\"quoted\"@c.com",
            "a<b@c.com",
            "a@c_d.com",
            "line\r\nbreak@c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "accepted {bad:?}");
        }
        let long_local = format!("{}@c.com", "a".repeat(65));
        assert!(Email::parse(&long_local).is_err());
        let long = format!("a@{}.com", vec!["b".repeat(60); 5].join("."));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn error_names_the_value_and_the_reason() {
        let err = Email::parse("bob@").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`bob@` is not a valid email address: the domain has no dot"
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(input in "\\PC{0,80}") {
            let _ = Email::parse(&input);
        }

        #[test]
        fn valid_addresses_round_trip(local in "[a-z0-9][a-z0-9._+-]{0,15}[a-z0-9]", host in "[a-z][a-z0-9]{0,10}\\.(com|de|org)") {
            prop_assume!(!local.contains(".."));
            let e = Email::parse(&format!("{local}@{host}")).unwrap();
            prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e.clone());
            prop_assert_eq!(Email::parse(&e.as_str().to_uppercase()).unwrap(), e);
        }

        #[test]
        fn parsed_addresses_never_contain_line_breaks(input in "[a-z\r\n@.]{1,30}") {
            if let Ok(e) = Email::parse(&input) {
                prop_assert!(!e.as_str().contains(['\r', '\n']));
            }
        }
    }
}
