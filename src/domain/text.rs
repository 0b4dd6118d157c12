//! Text that comes from outside — scraped pages and headers, imported
//! files, typed fields, a model's answer — made safe to store, show and
//! mail, by one rule for every layer; and the links an email may carry.
//!
//! Uses no other module of the crate (domain rule).

use std::sync::LazyLock;

use regex::Regex;

/// Longest evidence line a finding keeps, in characters, the ellipsis
/// included: a measurement fits easily, a paragraph planted in a header
/// does not.
pub const EVIDENCE_MAX: usize = 160;

/// Characters that change how text is shown without being visible: bidi
/// embeddings, overrides and isolates (they can make a link read as another
/// one), zero-width space, word joiner, the byte-order mark. Zero-width
/// (non-)joiners stay: some scripts need them.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// A one-line value: every control character (CR, LF, TAB, ESC, BEL, NUL,
/// DEL, the C1 range) becomes a space, invisible formatting characters go,
/// whitespace runs collapse to one space, and the ends are trimmed. Nothing
/// scraped or typed can then start a line (or a header) of its own, or
/// drive a terminal.
pub fn single_line(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut space = false;
    for c in value.chars() {
        if is_invisible_format(c) {
            continue;
        }
        if c.is_control() || c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    out
}

/// `Some` cleaned value, or `None` when nothing is left of it.
pub fn single_line_opt(value: Option<&str>) -> Option<String> {
    value.map(single_line).filter(|v| !v.is_empty())
}

/// At most `max` characters: longer text is cut and ends with `…` (which
/// counts towards `max`).
pub fn cap(value: &str, max: usize) -> String {
    if value.chars().count() <= max {
        return value.to_string();
    }
    let mut out: String = value.chars().take(max.saturating_sub(1)).collect();
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// A finding's evidence: one clean line of at most [`EVIDENCE_MAX`]
/// characters.
pub fn evidence(value: &str) -> String {
    cap(&single_line(value), EVIDENCE_MAX)
}

/// Links with a scheme (`https://…`, `ftp://…`), `www.` links and `mailto:`.
static LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(?:[a-z][a-z0-9+.-]*://[^\s<>"']+|www\.[^\s<>"']+|mailto:[^\s<>"']+)"#)
        .unwrap_or_else(|e| panic!("link pattern: {e}"))
});

/// A bare host name (`evil.com/pay`) as mail programs turn into a link. Not
/// after `@`: an email address is not a link.
static BARE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)(?:^|[^@\w.-])((?:[\w-]+\.)+([^\W\d_]{2,24})(?::\d{1,5})?(?:/[^\s<>"']*)?)"#)
        .unwrap_or_else(|e| panic!("bare host pattern: {e}"))
});

/// Endings of bare names that are counted as links: two letters (country
/// domains, but not `.js`) or one of these. Anything else (`robots.txt`,
/// `St.Pauli`, `today.Thanks`) is a word, not a link.
const BARE_ENDINGS: &[&str] = &[
    "com", "net", "org", "info", "biz", "io", "app", "dev", "xyz", "top", "online", "site", "shop",
    "store", "club", "live", "pro", "tech", "link", "click", "page", "example", "test", "local",
];

fn trim_link(link: &str) -> &str {
    link.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '\'', '"', '>'])
}

/// Every link in `text`, as written (trailing punctuation off), in order.
pub fn links_in(text: &str) -> Vec<String> {
    // A bare scheme ("served over https://.") names no place to go.
    let mut found: Vec<(usize, String)> = LINK
        .find_iter(text)
        .map(|m| (m.start(), trim_link(m.as_str())))
        .filter(|(_, link)| !link.ends_with("://"))
        .map(|(at, link)| (at, link.to_string()))
        .collect();
    let covered: Vec<(usize, usize)> = LINK.find_iter(text).map(|m| (m.start(), m.end())).collect();
    for caps in BARE.captures_iter(text) {
        let (Some(whole), Some(ending)) = (caps.get(1), caps.get(2)) else {
            continue;
        };
        let ending = ending.as_str().to_lowercase();
        let counted =
            (ending.chars().count() == 2 && ending != "js") || BARE_ENDINGS.contains(&&*ending);
        let inside = covered
            .iter()
            .any(|(s, e)| whole.start() >= *s && whole.start() < *e);
        // `jane.co@agency.example`: the part before `@` is no host.
        let address = text[whole.end()..].starts_with('@');
        if counted && !inside && !address {
            found.push((whole.start(), trim_link(whole.as_str()).to_string()));
        }
    }
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, link)| link).collect()
}

/// The host a link points at, lowercase; `None` when it has none that can
/// be read (such a link is never on an allowed host).
pub fn link_host(link: &str) -> Option<String> {
    let lower = link.to_lowercase();
    if let Some(address) = lower.strip_prefix("mailto:") {
        let address = address.split(['?', '#']).next().unwrap_or("");
        return address
            .rsplit_once('@')
            .map(|(_, host)| host.to_string())
            .filter(|h| !h.is_empty());
    }
    let with_scheme = if lower.contains("://") {
        lower
    } else {
        format!("http://{lower}")
    };
    url::Url::parse(&with_scheme)
        .ok()?
        .host_str()
        .map(|h| h.trim_end_matches('.').to_string())
        .filter(|h| !h.is_empty())
}

/// A host as an allowed-host entry: from a URL, an email address or a bare
/// host name; lowercase, without `www.`.
pub fn allowed_host(value: &str) -> Option<String> {
    let value = value.trim();
    let host = match value.rsplit_once('@') {
        Some((_, domain)) if !value.contains("://") => Some(domain.to_lowercase()),
        _ => link_host(value),
    }?;
    let host = host.trim_end_matches('.');
    let host = host.strip_prefix("www.").unwrap_or(host);
    (!host.is_empty()).then(|| host.to_string())
}

/// The allowed-host list for an email from where it may link: the lead's
/// website and domain, its report and unsubscribe URLs, the call-to-action
/// URL, the sender's addresses. Unreadable or empty entries are left out;
/// no host appears twice.
pub fn allowed_hosts<'a>(sources: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut hosts: Vec<String> = Vec::new();
    for host in sources.into_iter().filter_map(allowed_host) {
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    hosts
}

fn is_allowed(host: &str, allowed: &[String]) -> bool {
    let host = host.strip_prefix("www.").unwrap_or(host);
    allowed.iter().any(|a| {
        host == a
            || host
                .strip_suffix(a.as_str())
                .is_some_and(|rest| rest.ends_with('.'))
    })
}

/// The links in an email `body` whose host is none of `allowed_hosts` (nor
/// a subdomain of one). Entries are compared as [`allowed_host`] makes
/// them; build them with it.
pub fn foreign_links(body: &str, allowed_hosts: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for link in links_in(body) {
        let ok = link_host(&link).is_some_and(|h| is_allowed(&h, allowed_hosts));
        if !ok && !out.contains(&link) {
            out.push(link);
        }
    }
    out
}

/// `text` with every foreign link replaced by `[link removed]`, for
/// scraped text quoted in an email.
pub fn without_foreign_links(text: &str, allowed_hosts: &[String]) -> String {
    let mut out = text.to_string();
    for link in foreign_links(text, allowed_hosts) {
        out = out.replace(&link, "[link removed]");
    }
    out
}

/// Why an email (`subject` and `body`) cannot be approved or sent: the
/// links in it that point anywhere but `allowed_hosts` (see
/// [`allowed_hosts`]); `None` when there are none. The draft stage stores
/// this on the draft; approval should ask it again of the current text.
pub fn email_block_reason(subject: &str, body: &str, allowed_hosts: &[String]) -> Option<String> {
    foreign_links_reason(&foreign_links(&format!("{subject}\n{body}"), allowed_hosts))
}

/// Why an email with these foreign links cannot go out; `None` when there
/// are none.
pub fn foreign_links_reason(links: &[String]) -> Option<String> {
    if links.is_empty() {
        return None;
    }
    let shown: Vec<String> = links.iter().take(3).map(|l| cap(l, 80)).collect();
    let more = match links.len().saturating_sub(3) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    Some(format!(
        "it links to {}{more}, which is not the lead's site, its report or unsubscribe page, or the sender's; \
         edit the email (or the template) to remove it",
        shown.join(", ")
    ))
}

#[cfg(test)]
mod tests;
