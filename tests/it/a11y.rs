//! Accessibility judged in the rendered page, with axe-core's semantics:
//! fixture pages with the axe-passing and the axe-failing variant of each
//! case (names of fields, links, buttons and images; hidden content;
//! document language; colour contrast), loaded by Debian's Chromium. One
//! browser session for all pages; every element under test carries an id,
//! which the evidence names. Then the whole path: fetch, audit and the
//! screenshot stage, where the browser's verdicts replace the HTML's.
//!
//! Needs `chromium` and `chromedriver` (skipped with a reason without
//! them, failing under `CI`).

use std::time::Duration;

use leadscout::config::Config;
use leadscout::domain::audit::{CheckResult, MeasuredBy, Severity};
use leadscout::pipeline::browser::a11y::A11yReport;
use leadscout::pipeline::browser::{Browser, checks};

use crate::browser::{browser_available, one_at_a_time};
use crate::helpers::Cli;

const STYLE: &str = "<style>body{font:16px sans-serif;margin:0;background:#fff;color:#111}\
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);white-space:nowrap;border:0}\
.icon{display:inline-block;width:24px;height:24px;background:#06c}</style>";

/// Everything here passes axe (one field gets the low placeholder finding).
const PASSING: &str = "<form>\
<input id=p-placeholder placeholder='Your email'>\
<input id=p-aria aria-label='Phone number'>\
<label for=p-for>Name</label><input id=p-for>\
<label>Message <textarea id=p-wrap></textarea></label>\
<span id=p-by-label>Date</span><input id=p-by aria-labelledby=p-by-label>\
<select id=p-select aria-label='Service'><option>Cut</option></select>\
<button id=p-btn-aria aria-label='Open the menu'><svg aria-hidden=true width=20 height=20></svg></button>\
<button id=p-btn-text>Send</button><input type=submit id=p-submit>\
</form>\
<a id=p-link-aria href=/fb aria-label='Facebook'><svg aria-hidden=true width=24 height=24></svg></a>\
<a id=p-link-title href=/ig title='Instagram'><i class=icon></i></a>\
<a id=p-link-sronly href=/tw><i class=icon aria-hidden=true></i><span class=sr-only style='color:#eee'>Twitter</span></a>\
<a id=p-link-img href=/home><img src=/img.png width=20 height=20 alt='Home'></a>\
<nav style='display:none'><a id=p-menu-link href=/menu><i class=icon></i></a><input id=p-menu-input><p style='color:#eee'>faint but hidden</p></nav>\
<a id=p-aria-hidden href=/skip aria-hidden=true tabindex=-1></a>\
<img id=p-img-alt src=/img.png width=20 height=20 alt='Our shop'>\
<img id=p-img-empty src=/img.png width=20 height=20 alt=''>\
<img id=p-img-pres src=/img.png width=20 height=20 role=presentation>\
<img id=p-img-hidden src=/img.png width=20 height=20 aria-hidden=true>\
<img id=p-img-none src=/img.png width=20 height=20 style='display:none'>\
<p id=p-dark style='color:#333'>Dark grey on white</p>\
<p id=p-large style='color:#949494;font-size:24px'>Large grey text at 3:1</p>\
<p id=p-large-bold style='color:#949494;font-size:19px;font-weight:700'>Bold grey text at 3:1</p>\
<div style=\"background:url('/img.png')\"><p id=p-over-image style='color:#fff'>White over a picture</p></div>\
<div style='background:linear-gradient(#000,#333)'><p id=p-over-gradient style='color:#eee'>Over a gradient</p></div>";

/// The same cases, each the way axe fails it.
const FAILING: &str = "<form>\
<input id=f-none>\
<label for=f-hidden-label style='display:none'>Hidden name</label><input id=f-hidden-label>\
<input id=f-empty-aria aria-label='  '>\
<input id=f-by-missing aria-labelledby=nowhere>\
<label for=f-labelled-ph>Email</label><input id=f-labelled-ph placeholder='you@example'>\
<button id=f-btn-empty><i class=icon></i></button>\
</form>\
<a id=f-link-empty href=/e><i class=icon></i></a>\
<a id=f-link-hidden-text href=/h><i class=icon></i><span style='display:none'>Hidden</span></a>\
<a id=f-link-hidden-icon href=/x><img src=/img.png width=20 height=20 alt='Hidden' aria-hidden=true></a>\
<nav style='display:none'><a id=f-menu-link href=/menu></a></nav>\
<img id=f-img-noalt src=/img.png width=20 height=20>\
<p id=f-faint style='color:#ccc'>Faint grey text</p>\
<p id=f-small-grey style='color:#949494'>Small grey text at 3:1</p>";

/// What the HTML alone judges wrongly: a placeholder-labelled field and an
/// empty link in a hidden menu.
const STAGE: &str = "<h1>Joe's Bakery</h1><form><input id=email placeholder='Your email'><button>Send</button></form>\
<nav style='display:none'><a href=/menu></a></nav><a href=/about>About us</a>";

fn page(lang: &str, body: &str) -> String {
    format!(
        "<!doctype html><html{lang}><head><meta name=viewport content='width=device-width'><title>Shop</title>{STYLE}</head><body>{body}</body></html>"
    )
}

fn png() -> Vec<u8> {
    let image = image::RgbImage::from_pixel(40, 40, image::Rgb([200, 120, 40]));
    crate::helpers::png(&image)
}

/// Serves `/pass`, `/fail`, `/badlang` and `/img.png` on loopback.
fn serve() -> u16 {
    crate::helpers::serve_pages(|path| {
        let (kind, body) = match path {
            "/img.png" => ("image/png", png()),
            "/pass" => ("text/html", page(" lang=en", PASSING).into_bytes()),
            "/fail" => ("text/html", page("", FAILING).into_bytes()),
            "/badlang" => ("text/html", page(" lang=english", "<p>Hi</p>").into_bytes()),
            "/stage" => ("text/html", page(" lang=en", STAGE).into_bytes()),
            _ => (
                "text/html",
                page(" lang=en", "<p>elsewhere</p>").into_bytes(),
            ),
        };
        ("200 OK", kind, body)
    })
}

fn find<'a>(results: &'a [CheckResult], id: &str) -> &'a CheckResult {
    results
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no {id} in {results:#?}"))
}

fn names(examples: &[String], prefix: &str) -> Vec<String> {
    let mut ids: Vec<String> = examples
        .iter()
        .filter_map(|e| {
            let at = e.find(prefix)?;
            let rest = &e[at + 1..];
            Some(rest.split([' ', '"', '>']).next().unwrap_or("").to_string())
        })
        .collect();
    ids.sort();
    ids
}

#[test]
fn the_rendered_page_is_judged_as_axe_judges_it() {
    if !browser_available("the_rendered_page_is_judged_as_axe_judges_it") {
        return;
    }
    let _one = one_at_a_time();
    let port = serve();
    let mut config = Config::default();
    config.fetch.allow_hosts = vec![format!("127.0.0.1:{port}")];
    config.webdriver.sessions = 1;
    config.webdriver.page_timeout = Duration::from_secs(10);
    let browser = Browser::new(&config).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = |path: &str| url::Url::parse(&format!("http://127.0.0.1:{port}{path}")).unwrap();
    let pass = rt.block_on(browser.capture(&url("/pass"))).unwrap();
    let fail = rt.block_on(browser.capture(&url("/fail"))).unwrap();
    let badlang = rt.block_on(browser.capture(&url("/badlang"))).unwrap();
    rt.block_on(browser.shutdown());
    assert!(
        pass.desktop.a11y.is_none(),
        "judged once, on the phone view"
    );
    let p: &A11yReport = pass.mobile.a11y.as_ref().expect("judged on the phone");
    let f: &A11yReport = fail.mobile.a11y.as_ref().expect("judged on the phone");

    // Passing variants: nothing fails; hidden things are not counted.
    assert_eq!(p.lang.as_deref(), Some("en"));
    assert!(p.lang_valid);
    assert_eq!(p.label.failed, 0, "{:?}", p.label);
    assert_eq!(p.label.checked, 6, "the hidden menu's field is not counted");
    assert_eq!(
        names(&p.placeholder_only.examples, "#"),
        ["p-placeholder"],
        "axe passes it, a person still struggles"
    );
    assert_eq!(p.link_name.failed, 0, "{:?}", p.link_name);
    assert_eq!(
        p.link_name.checked, 4,
        "neither the hidden menu's nor the aria-hidden link counts"
    );
    assert_eq!(p.button_name.failed, 0, "{:?}", p.button_name);
    assert_eq!(p.button_name.checked, 3);
    assert_eq!(p.image_alt.failed, 0, "{:?}", p.image_alt);
    assert_eq!(
        p.image_alt.checked, 4,
        "aria-hidden and display:none images are not counted"
    );
    assert_eq!(
        p.contrast.failed, 0,
        "large text at 3:1 passes; sr-only and hidden text are not judged: {:?}",
        p.contrast
    );
    assert_eq!(
        names(&p.contrast_incomplete.examples, "#"),
        ["p-over-gradient", "p-over-image"],
        "no verdict over an image or a gradient"
    );

    // Failing variants: each named.
    assert_eq!(f.lang, None);
    assert_eq!(
        names(&f.label.examples, "#"),
        ["f-by-missing", "f-empty-aria", "f-hidden-label", "f-none"]
    );
    assert_eq!(f.placeholder_only.failed, 0, "a labelled field is fine");
    assert_eq!(
        names(&f.link_name.examples, "#"),
        ["f-link-empty", "f-link-hidden-icon", "f-link-hidden-text"]
    );
    assert_eq!(names(&f.button_name.examples, "#"), ["f-btn-empty"]);
    assert_eq!(names(&f.image_alt.examples, "#"), ["f-img-noalt"]);
    assert_eq!(
        names(&f.contrast.examples, "#"),
        ["f-faint", "f-small-grey"]
    );
    assert!(
        f.contrast
            .examples
            .iter()
            .any(|e| e.contains("\"Faint grey text\"") && e.contains("needs 4.5:1")),
        "{:?}",
        f.contrast.examples
    );

    // The checks: browser-measured, with the elements in the evidence.
    let passed = checks::run(&pass, &Default::default());
    for id in [
        "accessibility.lang",
        "accessibility.form_labels",
        "accessibility.empty_links",
        "accessibility.button_name",
        "accessibility.image_alt",
        "accessibility.contrast",
    ] {
        let check = find(&passed, id);
        assert!(check.passed, "{check:?}");
        assert_eq!(check.measured_by, MeasuredBy::Browser);
    }
    let placeholder = find(&passed, "accessibility.placeholder_only");
    assert!(!placeholder.passed && placeholder.severity == Severity::Low);
    assert!(
        placeholder
            .evidence
            .contains("input#p-placeholder \"Your email\""),
        "{placeholder:?}"
    );
    assert!(
        find(&passed, "accessibility.contrast")
            .evidence
            .contains("2 over images, gradients or overlapping content not judged")
    );
    let failed = checks::run(&fail, &Default::default());
    for id in [
        "accessibility.lang",
        "accessibility.form_labels",
        "accessibility.empty_links",
        "accessibility.button_name",
        "accessibility.image_alt",
        "accessibility.contrast",
    ] {
        assert!(!find(&failed, id).passed, "{:?}", find(&failed, id));
    }
    assert_eq!(
        find(&failed, "accessibility.form_labels").evidence,
        "4 of 5 visible fields have no label: input#f-none, input#f-hidden-label, input#f-empty-aria and 1 more"
    );
    assert!(find(&failed, "accessibility.placeholder_only").passed);
    let lang = find(
        &checks::run(&badlang, &Default::default()),
        "accessibility.lang",
    )
    .clone();
    assert!(!lang.passed);
    assert_eq!(
        lang.evidence,
        "lang=\"english\" is not a valid language code"
    );
}

#[test]
fn the_screenshot_stage_replaces_the_html_verdicts_with_the_browsers() {
    if !browser_available("the_screenshot_stage_replaces_the_html_verdicts_with_the_browsers") {
        return;
    }
    let _one = one_at_a_time();
    let port = serve();
    let url = format!("http://127.0.0.1:{port}/stage");
    let cli = Cli::new().allow_local_site(port).one_browser();
    cli.campaign("c");
    cli.ok(&["leads", "add", "-c", "c", "--website", &url]);
    cli.ok(&["run", "-c", "c", "--stages", "fetch,audit", "--wait"]);
    let finding = |audit: &serde_json::Value, id: &str| {
        audit["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .cloned()
    };
    let html = cli.json(&["audit", "show", &url]);
    for id in ["accessibility.form_labels", "accessibility.empty_links"] {
        let found =
            finding(&html, id).unwrap_or_else(|| panic!("{id} fails from the HTML: {html}"));
        assert!(
            found["evidence"]
                .as_str()
                .unwrap()
                .ends_with("(judged from the HTML only)"),
            "{found}"
        );
    }
    cli.ok(&["run", "-c", "c", "--stages", "screenshot", "--wait"]);
    let rendered = cli.json(&["audit", "show", &url]);
    let passed: Vec<&str> = rendered["passed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for id in [
        "accessibility.form_labels",
        "accessibility.empty_links",
        "accessibility.lang",
    ] {
        assert!(
            passed.iter().filter(|p| **p == id).count() == 1,
            "{id} passes once, judged in the page: {rendered}"
        );
    }
    let placeholder = finding(&rendered, "accessibility.placeholder_only")
        .unwrap_or_else(|| panic!("the low finding: {rendered}"));
    assert_eq!(placeholder["severity"], "low", "{placeholder}");
    assert!(
        placeholder["evidence"]
            .as_str()
            .unwrap()
            .contains("input#email \"Your email\""),
        "{placeholder}"
    );
}
