//! Contact details on a page: email addresses (links, text, and the usual
//! "name [at] domain [dot] com" disguises), phone numbers, social profiles,
//! a contact form, a postal address.

use std::sync::LazyLock;

use regex::Regex;
use url::Url;

use super::facts::PageFacts;
use crate::domain::Email;
use crate::domain::audit::{Contacts, Found};

static OBFUSCATED_EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b([a-z0-9._%+-]{1,64})\s*(?:\[at\]|\(at\)|\{at\}|\s+at\s+|\[@\]|\(@\))\s*([a-z0-9-]{1,63}(?:\s*(?:\[dot\]|\(dot\)|\{dot\}|\s+dot\s+|\.)\s*[a-z0-9-]{1,63})+)\b",
    )
    .unwrap_or_else(|e| panic!("email pattern: {e}"))
});
static DOT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\s*(?:\[dot\]|\(dot\)|\{dot\}|\s+dot\s+|\.)\s*")
        .unwrap_or_else(|e| panic!("dot pattern: {e}"))
});
/// Phone-number candidates: optional +/00, then digits with the usual
/// separators; validated by digit count afterwards.
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+|\b00|\b0|\()[\d][\d\s().\-/]{5,20}\d\b")
        .unwrap_or_else(|e| panic!("phone pattern: {e}"))
});

const SOCIAL_HOSTS: &[(&str, &str)] = &[
    ("facebook.com", "facebook"),
    ("instagram.com", "instagram"),
    ("linkedin.com", "linkedin"),
    ("twitter.com", "x"),
    ("x.com", "x"),
    ("youtube.com", "youtube"),
    ("tiktok.com", "tiktok"),
    ("xing.com", "xing"),
    ("pinterest.com", "pinterest"),
];

fn push(list: &mut Vec<Found>, value: String, source: &str) {
    let value = crate::domain::text::single_line(&value);
    if !list.iter().any(|f| f.value == value) {
        list.push(Found {
            value,
            source: source.to_string(),
        });
    }
}

pub fn find(facts: &PageFacts, base: &Url) -> Contacts {
    let mut contacts = Contacts::default();
    for link in &facts.links {
        let href = link.href.trim();
        let lower = href.to_ascii_lowercase();
        if lower.starts_with("mailto:") {
            if let Ok(email) = Email::parse(href) {
                push(&mut contacts.emails, email.to_string(), "mailto link");
            }
        } else if lower.starts_with("tel:") {
            let number = href[4..].trim().to_string();
            if digits(&number) >= 6 {
                push(&mut contacts.phones, number, "tel link");
            }
        } else if let Ok(url) = base.join(href)
            && let Some(host) = url.host_str()
        {
            let host = host.trim_start_matches("www.").trim_start_matches("m.");
            if let Some((_, network)) = SOCIAL_HOSTS
                .iter()
                .find(|(h, _)| host == *h || host.ends_with(&format!(".{h}")))
            {
                let profile = url.path().trim_matches('/');
                let is_profile = !profile.is_empty()
                    && !["sharer", "share", "intent", "sharer.php"]
                        .iter()
                        .any(|s| profile.starts_with(s));
                if is_profile && !contacts.socials.iter().any(|(n, _)| n == network) {
                    contacts
                        .socials
                        .push((network.to_string(), url.to_string()));
                }
            }
        }
    }
    let text = &facts.text;
    let mut finder = linkify::LinkFinder::new();
    finder.kinds(&[linkify::LinkKind::Email]);
    for link in finder.links(text) {
        if let Ok(email) = Email::parse(link.as_str()) {
            push(&mut contacts.emails, email.to_string(), "page text");
        }
    }
    for caps in OBFUSCATED_EMAIL.captures_iter(text) {
        let (Some(local), Some(domain)) = (caps.get(1), caps.get(2)) else {
            continue;
        };
        let raw = caps.get(0).map_or("", |m| m.as_str());
        if !raw.contains(['[', '(', '{']) && !raw.to_ascii_lowercase().contains(" at ") {
            continue; // a plain address, already found above
        }
        let domain = DOT.replace_all(domain.as_str(), ".");
        if let Ok(email) = Email::parse(&format!("{}@{}", local.as_str(), domain)) {
            push(
                &mut contacts.emails,
                email.to_string(),
                "disguised in page text",
            );
        }
    }
    for m in PHONE.find_iter(text) {
        let number = m.as_str().trim();
        let count = digits(number);
        if (7..=15).contains(&count) && !looks_like_date_or_id(number) {
            push(&mut contacts.phones, number.to_string(), "page text");
        }
    }
    for block in &facts.json_ld {
        json_ld_contacts(block, &mut contacts);
    }
    contacts.contact_form = facts.contact_forms > 0;
    if contacts.address.is_none() {
        contacts.address = facts.address_elements.first().cloned();
    }
    // Structured data is the site's own JSON: its strings carry whatever
    // bytes the site put there.
    let clean = crate::domain::text::single_line;
    contacts.address = contacts
        .address
        .as_deref()
        .map(|a| crate::domain::text::cap(&clean(a), 200))
        .filter(|a| !a.is_empty());
    for (network, url) in &mut contacts.socials {
        *network = clean(network);
        *url = clean(url);
    }
    contacts
}

fn digits(text: &str) -> usize {
    text.chars().filter(char::is_ascii_digit).count()
}

/// Dates (2024-01-31, 31.01.2024) and long bare numbers are not phones.
fn looks_like_date_or_id(text: &str) -> bool {
    let separators: Vec<char> = text.chars().filter(|c| !c.is_ascii_digit()).collect();
    let is_date = separators.len() == 2
        && separators
            .iter()
            .all(|c| *c == '.' || *c == '-' || *c == '/')
        && text.len() <= 10;
    let bare_long = separators.is_empty() && !text.starts_with('0') && !text.starts_with('+');
    is_date || bare_long
}

fn json_ld_contacts(value: &serde_json::Value, contacts: &mut Contacts) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(email) = map.get("email").and_then(|v| v.as_str())
                && let Ok(email) = Email::parse(email)
            {
                push(&mut contacts.emails, email.to_string(), "structured data");
            }
            if let Some(phone) = map.get("telephone").and_then(|v| v.as_str())
                && digits(phone) >= 6
            {
                push(
                    &mut contacts.phones,
                    phone.trim().to_string(),
                    "structured data",
                );
            }
            if contacts.address.is_none()
                && let Some(address) = map.get("address")
            {
                contacts.address = match address {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Object(parts) => {
                        let fields = [
                            "streetAddress",
                            "postalCode",
                            "addressLocality",
                            "addressCountry",
                        ];
                        let joined: Vec<&str> = fields
                            .iter()
                            .filter_map(|f| parts.get(*f).and_then(|v| v.as_str()))
                            .collect();
                        (!joined.is_empty()).then(|| joined.join(", "))
                    }
                    _ => None,
                };
            }
            for v in map.values() {
                json_ld_contacts(v, contacts);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| json_ld_contacts(v, contacts)),
        _ => {}
    }
}

/// The best email to write to: the site's own domain first, then a mailto
/// link, then role addresses such as info@ or contact@.
pub fn best_email<'a>(contacts: &'a Contacts, site_domain: &str) -> Option<&'a Found> {
    let role = |v: &str| {
        [
            "info@", "contact@", "kontakt@", "hello@", "hallo@", "office@", "mail@", "post@",
        ]
        .iter()
        .any(|p| v.starts_with(p))
    };
    contacts.emails.iter().max_by_key(|f| {
        let own = Email::parse(&f.value).is_ok_and(|e| e.domain().as_str() == site_domain);
        (
            own,
            f.source == "mailto link",
            role(&f.value),
            std::cmp::Reverse(f.value.len()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::audit::facts::extract;

    fn contacts_of(html: &str) -> Contacts {
        find(
            &extract(html),
            &Url::parse("https://shop.example/").unwrap(),
        )
    }

    #[test]
    fn emails_from_links_text_and_disguises() {
        let c = contacts_of(
            r#"<a href="mailto:Info@Shop.example?subject=Hi">write</a>
            <p>Or: sales@shop.example. Also jane [at] shop [dot] example and bob (at) shop.example</p>"#,
        );
        let values: Vec<&str> = c.emails.iter().map(|f| f.value.as_str()).collect();
        assert_eq!(
            values,
            vec![
                "info@shop.example",
                "sales@shop.example",
                "jane@shop.example",
                "bob@shop.example"
            ]
        );
        assert_eq!(c.emails[0].source, "mailto link");
        assert_eq!(c.emails[2].source, "disguised in page text");
    }

    #[test]
    fn phones_from_tel_links_text_and_structured_data() {
        let c = contacts_of(
            r#"<a href="tel:+493012345678">call</a><p>Tel. 030 / 123 456 78, Fax (030) 1234-5679. Open since 01.02.2020, order 123456789012.</p>
            <script type="application/ld+json">{"@type":"LocalBusiness","telephone":"+49 30 999999","address":{"streetAddress":"Hauptstr. 1","postalCode":"10115","addressLocality":"Berlin"}}</script>"#,
        );
        let values: Vec<&str> = c.phones.iter().map(|f| f.value.as_str()).collect();
        assert!(values.contains(&"+493012345678"), "{values:?}");
        assert!(values.contains(&"030 / 123 456 78"), "{values:?}");
        assert!(values.contains(&"(030) 1234-5679"), "{values:?}");
        assert!(values.contains(&"+49 30 999999"), "{values:?}");
        assert!(
            !values
                .iter()
                .any(|v| v.contains("2020") || v.contains("123456789012")),
            "{values:?}"
        );
        assert_eq!(c.address.as_deref(), Some("Hauptstr. 1, 10115, Berlin"));
    }

    #[test]
    fn social_profiles_not_share_buttons() {
        let c = contacts_of(
            r#"<a href="https://www.facebook.com/sharer.php?u=x">share</a><a href="https://www.instagram.com/shop_example/">insta</a><a href="https://x.com/shop">x</a>"#,
        );
        assert_eq!(
            c.socials,
            vec![
                (
                    "instagram".into(),
                    "https://www.instagram.com/shop_example/".into()
                ),
                ("x".into(), "https://x.com/shop".into())
            ]
        );
    }

    #[test]
    fn the_best_email_prefers_the_sites_own_domain() {
        let c = contacts_of("<p>me@gmail.example and info@shop.example and zed@shop.example</p>");
        assert_eq!(
            best_email(&c, "shop.example").unwrap().value,
            "info@shop.example"
        );
    }
}
