//! Turns a page body into text: byte-order mark, then the Content-Type
//! charset, then a `<meta charset>` in the first 1024 bytes, then a
//! statistical guess, then UTF-8. Bad bytes become U+FFFD and are noted.

use encoding_rs::Encoding;

/// A decoded page and how its encoding was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static str,
    /// `byte-order mark`, `Content-Type header`, `meta tag`, `detected`, `default`
    pub source: &'static str,
    /// Some bytes were not valid in that encoding.
    pub had_errors: bool,
    /// The header or meta tag named an encoding nobody knows.
    pub unknown_label: Option<String>,
}

pub fn decode_html(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    let mut unknown_label = None;
    let mut choose = |label: Option<String>| -> Option<&'static Encoding> {
        let label = label?;
        let found = Encoding::for_label(label.trim().as_bytes());
        if found.is_none() {
            // The label is the site's text; it is quoted in evidence.
            unknown_label.get_or_insert(crate::domain::text::cap(
                &crate::domain::text::single_line(&label),
                40,
            ));
        }
        found
    };
    let (encoding, source, skip) = if let Some((enc, bom)) = Encoding::for_bom(bytes) {
        (enc, "byte-order mark", bom)
    } else if let Some(enc) = choose(content_type.and_then(charset_param)) {
        (enc, "Content-Type header", 0)
    } else if let Some(enc) = choose(meta_charset(&bytes[..bytes.len().min(1024)])) {
        (enc, "meta tag", 0)
    } else if std::str::from_utf8(bytes).is_ok() {
        (encoding_rs::UTF_8, "default", 0)
    } else {
        let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
        detector.feed(bytes, true);
        (
            detector.guess(None, chardetng::Utf8Detection::Allow),
            "detected",
            0,
        )
    };
    // A page that claims UTF-16 in a header or meta tag but is ASCII-shaped
    // is really ASCII-compatible; the HTML standard says to use UTF-8 then.
    let encoding =
        if skip == 0 && (encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE) {
            encoding_rs::UTF_8
        } else {
            encoding
        };
    let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[skip..]);
    Decoded {
        text: text.into_owned(),
        encoding: encoding.name(),
        source,
        had_errors,
        unknown_label,
    }
}

fn charset_param(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches(['"', '\'']).to_string())
    })
}

/// The charset of a `<meta charset=..>` or `<meta http-equiv=content-type
/// content="..; charset=..">` in the first bytes.
fn meta_charset(prefix: &[u8]) -> Option<String> {
    let lower = String::from_utf8_lossy(prefix).to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(at) = rest.find("<meta") {
        let tag_end = rest[at..].find('>').map_or(rest.len(), |e| at + e);
        let tag = &rest[at..tag_end];
        if let Some(pos) = tag.find("charset") {
            let after = tag[pos + "charset".len()..].trim_start();
            if let Some(value) = after.strip_prefix('=') {
                let value = value.trim_start().trim_start_matches(['"', '\'']);
                let end = value
                    .find(|c: char| {
                        c == '"' || c == '\'' || c == ';' || c == '>' || c.is_whitespace()
                    })
                    .unwrap_or(value.len());
                if end > 0 {
                    return Some(value[..end].to_string());
                }
            }
        }
        rest = &rest[tag_end.min(rest.len())..];
        if rest.is_empty() {
            break;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_of_evidence_is_followed() {
        let d = decode_html(
            b"\xef\xbb\xbf<p>caf\xc3\xa9</p>",
            Some("text/html; charset=iso-8859-1"),
        );
        assert_eq!(
            (d.encoding, d.source, d.text.as_str()),
            ("UTF-8", "byte-order mark", "<p>café</p>")
        );

        let d = decode_html(b"<p>caf\xe9</p>", Some("text/html; charset=\"ISO-8859-1\""));
        assert_eq!(
            (d.encoding, d.source, d.text.as_str()),
            ("windows-1252", "Content-Type header", "<p>café</p>")
        );

        let d = decode_html(
            b"<html><head><meta charset='windows-1252'></head>caf\xe9",
            Some("text/html"),
        );
        assert_eq!((d.source, d.text.ends_with("café")), ("meta tag", true));

        let d = decode_html(
            b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-2\">",
            None,
        );
        assert_eq!(d.encoding, "ISO-8859-2");

        let d = decode_html("<p>plain ü</p>".as_bytes(), None);
        assert_eq!((d.encoding, d.source), ("UTF-8", "default"));
    }

    #[test]
    fn bad_bytes_and_unknown_labels_are_reported() {
        let d = decode_html(
            b"<p>\xff\xfe\xfd broken</p>",
            Some("text/html; charset=utf-8"),
        );
        assert!(d.had_errors);
        assert!(d.text.contains('\u{fffd}'));
        let d = decode_html(b"<p>x</p>", Some("text/html; charset=klingon"));
        assert_eq!(d.unknown_label.as_deref(), Some("klingon"));
        assert_eq!(d.encoding, "UTF-8");
    }
}
