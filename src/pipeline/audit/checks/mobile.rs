//! How the page behaves on a phone, as far as the HTML tells (the browser
//! stage adds measured checks).

use super::{Check, Inputs};
use crate::domain::audit::{Category::Mobile, CheckResult, Severity::*};
use crate::pipeline::audit::facts::PageFacts;

pub const VIEWPORT: Check = Check {
    id: "mobile.viewport",
    category: Mobile,
    severity: Critical,
    good: "The page is set up for phones (viewport)",
    bad: "The page is not set up for phones",
    why: "Without a viewport tag, phones show a tiny desktop page that visitors must pinch and zoom.",
    fix: "Add <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">.",
};
pub const ZOOM: Check = Check {
    id: "mobile.zoom",
    category: Mobile,
    severity: Medium,
    good: "Visitors can zoom",
    bad: "Zooming is turned off",
    why: "People with poor eyesight cannot enlarge the text.",
    fix: "Remove user-scalable=no and maximum-scale=1 from the viewport tag.",
};
pub const ICON: Check = Check {
    id: "mobile.icon",
    category: Mobile,
    severity: Low,
    good: "The site has an icon (favicon)",
    bad: "No site icon (favicon)",
    why: "Tabs, bookmarks and home-screen shortcuts show a blank icon instead of the business's logo.",
    fix: "Add <link rel=\"icon\"> and <link rel=\"apple-touch-icon\">.",
};
pub const TAP_TO_CALL: Check = Check {
    id: "mobile.tap_to_call",
    category: Mobile,
    severity: Medium,
    good: "Phone numbers can be tapped to call",
    bad: "The phone number cannot be tapped to call",
    why: "On a phone, a number that is only text must be copied by hand; many people give up.",
    fix: "Link phone numbers: <a href=\"tel:+49301234567\">030 1234567</a>.",
};

pub const CHECKS: &[&Check] = &[&VIEWPORT, &ZOOM, &ICON, &TAP_TO_CALL];

pub fn run(i: &Inputs<'_>, facts: &PageFacts, out: &mut Vec<CheckResult>) {
    let viewport = facts.viewport.as_deref().unwrap_or("").to_ascii_lowercase();
    out.push(VIEWPORT.result(
        viewport.contains("width=device-width"),
        match &facts.viewport {
            None => "no viewport meta tag".to_string(),
            Some(v) => format!("viewport: \"{v}\""),
        },
    ));
    if facts.viewport.is_some() {
        let compact = viewport.replace(' ', "");
        let blocked = compact.contains("user-scalable=no")
            || compact.contains("user-scalable=0")
            || compact.contains("maximum-scale=1,")
            || compact.ends_with("maximum-scale=1")
            || compact.contains("maximum-scale=1.0");
        out.push(ZOOM.result(
            !blocked,
            format!("viewport: \"{}\"", facts.viewport.as_deref().unwrap_or("")),
        ));
    }
    out.push(ICON.result(
        facts.favicon,
        if facts.favicon {
            "an icon is linked"
        } else {
            "no <link rel=\"icon\"> or apple-touch-icon"
        },
    ));
    let tel_links = i
        .contacts
        .phones
        .iter()
        .filter(|p| p.source == "tel link")
        .count();
    let text_phones = i
        .contacts
        .phones
        .iter()
        .filter(|p| p.source == "page text")
        .count();
    if tel_links > 0 || text_phones > 0 {
        out.push(TAP_TO_CALL.result(
            tel_links > 0,
            if tel_links > 0 {
                format!("{tel_links} tel: link(s)")
            } else {
                format!("{text_phones} phone number(s) in the text, none linked with tel:")
            },
        ));
    }
}
