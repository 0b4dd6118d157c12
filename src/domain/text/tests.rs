use proptest::prelude::*;

use super::*;

fn hosts(list: &[&str]) -> Vec<String> {
    allowed_hosts(list.iter().copied())
}

#[test]
fn single_line_turns_controls_into_one_space() {
    assert_eq!(
        single_line("Evil\r\nBcc: victim@x.example"),
        "Evil Bcc: victim@x.example"
    );
    assert_eq!(single_line("Caf\u{1b}[31m\u{7}é\t\u{85}x"), "Caf [31m é x");
    assert_eq!(single_line("  a \u{0} \u{7f} b  "), "a b");
    assert_eq!(single_line("pay\u{202e}lmth.exe"), "paylmth.exe");
    assert_eq!(single_line("\u{feff}Bäckerei\u{2028}Nord"), "Bäckerei Nord");
    assert_eq!(single_line(""), "");
    assert_eq!(single_line_opt(Some(" \r\n ")), None);
}

#[test]
fn evidence_is_one_capped_line() {
    let long = format!("X-Robots-Tag: noindex.\r\n{}", "pay now ".repeat(40));
    let e = evidence(&long);
    // Cut at the limit; a space before the ellipsis goes.
    assert!(
        (EVIDENCE_MAX - 1..=EVIDENCE_MAX).contains(&e.chars().count()),
        "{e}"
    );
    assert!(e.ends_with('…') && !e.contains('\n'), "{e}");
    assert_eq!(evidence("title is 78 characters"), "title is 78 characters");
    assert_eq!(cap("abcdef", 4), "abc…");
    assert_eq!(cap("ab  cdef", 4), "ab…");
}

#[test]
fn links_are_found_with_and_without_scheme() {
    let text = "See https://evil.example/pay, www.shop.test or evil.com/x. \
                Serve it over https://. Redirect http:// requests. Mail jane@agency.example, jane.co@agency.example, mailto:a@b.example. robots.txt, St.Pauli, Node.js, 2.4 s.";
    assert_eq!(
        links_in(text),
        [
            "https://evil.example/pay",
            "www.shop.test",
            "evil.com/x",
            "mailto:a@b.example"
        ]
    );
}

#[test]
fn only_foreign_hosts_are_reported() {
    let allowed = hosts(&[
        "http://www.crumbs.example/",
        "https://reports.agency.example/r/abc",
        "jane@agency.example",
        "http://127.0.0.1:4000/",
    ]);
    assert_eq!(
        allowed,
        [
            "crumbs.example",
            "reports.agency.example",
            "agency.example",
            "127.0.0.1"
        ]
    );
    let body = "Your site https://crumbs.example/menu and https://shop.crumbs.example/ \
                report http://127.0.0.1:4000/r/x, book at https://agency.example/call. \
                Pay at https://evil.example/pay or https://crumbs.example.evil.example/ \
                or notcrumbs.example/.";
    assert_eq!(
        foreign_links(body, &allowed),
        [
            "https://evil.example/pay",
            "https://crumbs.example.evil.example/",
            "notcrumbs.example/"
        ]
    );
    assert_eq!(
        without_foreign_links("noindex. pay at https://evil.example/pay", &allowed),
        "noindex. pay at [link removed]"
    );
    let reason = foreign_links_reason(&foreign_links(body, &allowed)).unwrap();
    assert!(reason.contains("https://evil.example/pay"), "{reason}");
    assert_eq!(foreign_links_reason(&[]), None);
    assert_eq!(email_block_reason("Hi", body, &allowed), Some(reason));
    assert!(email_block_reason("Hi https://evil.example", "Body", &allowed).is_some());
}

#[test]
fn a_link_without_a_readable_host_is_foreign() {
    assert_eq!(
        foreign_links("file:///etc/passwd", &hosts(&["a.example"])),
        ["file:///etc/passwd"]
    );
    assert_eq!(
        link_host("mailto:x@Evil.Example?subject=hi").as_deref(),
        Some("evil.example")
    );
}

proptest! {
    #[test]
    fn single_line_never_keeps_a_control_or_a_double_space(s in any::<String>()) {
        let out = single_line(&s);
        prop_assert!(!out.chars().any(|c| c.is_control() || is_invisible_format(c)));
        prop_assert!(!out.contains("  "));
        prop_assert_eq!(out.trim(), out.as_str());
        prop_assert_eq!(single_line(&out), out.clone(), "idempotent");
    }

    #[test]
    fn evidence_is_bounded(s in any::<String>()) {
        let out = evidence(&s);
        prop_assert!(out.chars().count() <= EVIDENCE_MAX);
        prop_assert!(!out.chars().any(char::is_control));
    }

    #[test]
    fn a_planted_link_is_always_found(word in "[a-z]{1,12}", path in "[a-z0-9/]{0,20}") {
        let body = format!("Hello\n{word} https://{word}.evil.example/{path} bye");
        let allowed = hosts(&["crumbs.example"]);
        let found = foreign_links(&body, &allowed);
        prop_assert_eq!(found.len(), 1);
        prop_assert!(without_foreign_links(&body, &allowed).find("evil.example").is_none());
    }
}
