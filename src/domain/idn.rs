//! Internationalised host names as a person reads them. Hosts are stored,
//! compared and sent in their ASCII (punycode, `xn--…`) form; everything a
//! person reads (the TUI, CLI tables, the report page) shows them in
//! Unicode through these functions, so there is one place that decides.

use std::borrow::Cow;

/// A host, domain key or `host:port` in Unicode: `xn--bckerei-su-q8a6d.example`
/// becomes `bäckerei-süß.example`. Text that is not punycode, or punycode
/// that does not decode, comes back as it was.
pub fn unicode_host(ascii: &str) -> Cow<'_, str> {
    if !has_punycode(ascii) {
        return Cow::Borrowed(ascii);
    }
    // A port stays as it is; IPv6 literals never carry punycode.
    let (host, port) = match ascii.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            (host, Some(port))
        }
        _ => (ascii, None),
    };
    let (unicode, result) = idna::domain_to_unicode(host);
    if result.is_err() {
        return Cow::Borrowed(ascii);
    }
    Cow::Owned(match port {
        Some(port) => format!("{unicode}:{port}"),
        None => unicode,
    })
}

/// A URL with its host in Unicode (`http://bäckerei-süß.example/kontakt`),
/// for link text. The link target keeps the ASCII form.
pub fn unicode_url(url: &str) -> Cow<'_, str> {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return Cow::Borrowed(url);
    };
    let rest = &url[start..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    // Credentials are never stored in a website, but a URL from elsewhere
    // may carry them: only the host part is decoded.
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((user, host)) => (Some(user), host),
        None => (None, authority),
    };
    match unicode_host(hostport) {
        Cow::Borrowed(_) => Cow::Borrowed(url),
        Cow::Owned(host) => {
            let mut out = String::with_capacity(url.len() + 8);
            out.push_str(&url[..start]);
            if let Some(user) = userinfo {
                out.push_str(user);
                out.push('@');
            }
            out.push_str(&host);
            out.push_str(&rest[end..]);
            Cow::Owned(out)
        }
    }
}

/// An email address with its domain in Unicode (`info@bäckerei-süß.example`).
pub fn unicode_email(address: &str) -> Cow<'_, str> {
    match address.rsplit_once('@') {
        Some((local, host)) => match unicode_host(host) {
            Cow::Borrowed(_) => Cow::Borrowed(address),
            Cow::Owned(host) => Cow::Owned(format!("{local}@{host}")),
        },
        None => Cow::Borrowed(address),
    }
}

fn has_punycode(text: &str) -> bool {
    text.split(['.', ':'])
        // `get`: a label may start with a multi-byte character.
        .any(|label| {
            label.len() > 4
                && label
                    .get(..4)
                    .is_some_and(|p| p.eq_ignore_ascii_case("xn--"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punycode_hosts_read_in_unicode() {
        let ascii = url::Url::parse("http://bäckerei-süß.example/")
            .unwrap()
            .host_str()
            .unwrap()
            .to_string();
        assert!(ascii.starts_with("xn--"), "{ascii}");
        assert_eq!(unicode_host(&ascii), "bäckerei-süß.example");
        assert_eq!(
            unicode_host(&format!("{ascii}:8080")),
            "bäckerei-süß.example:8080"
        );
        assert_eq!(
            unicode_email(&format!("info@{ascii}")),
            "info@bäckerei-süß.example"
        );
        assert_eq!(
            unicode_url(&format!("https://{ascii}/kontakt?a=1")),
            "https://bäckerei-süß.example/kontakt?a=1"
        );
    }

    #[test]
    fn other_text_is_left_alone() {
        for text in [
            "example.com",
            "127.0.0.1:8001",
            "[::1]:81",
            "xn--.example",
            "xn--zz-invalid-punycode-$$.example",
        ] {
            assert_eq!(unicode_host(text), text);
        }
        assert!(matches!(
            unicode_url("https://example.com/xn--a"),
            Cow::Borrowed(_)
        ));
    }
}
