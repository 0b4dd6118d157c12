//! Server response, page weight, compression, caching, and what the page
//! makes the browser load before it can show anything.

use super::{Check, Inputs, of, plural, some};
use crate::domain::audit::{Category::Performance, CheckResult, Severity::*};

pub const TTFB: Check = Check {
    id: "performance.ttfb",
    category: Performance,
    severity: High,
    good: "The server answers quickly",
    bad: "The server is slow to answer",
    why: "Nothing appears until the server answers; every extra second loses visitors.",
    fix: "Use page caching, a faster host or a CDN so the first byte arrives within 0.6 s.",
};
pub const LOAD: Check = Check {
    id: "performance.load_time",
    category: Performance,
    severity: Medium,
    good: "The page downloads quickly",
    bad: "The page takes long to download",
    why: "Slow pages lose visitors, especially on mobile connections.",
    fix: "Make the page lighter (smaller images, fewer scripts) and cache it.",
};
pub const SIZE: Check = Check {
    id: "performance.html_size",
    category: Performance,
    severity: Medium,
    good: "The HTML is a reasonable size",
    bad: "The HTML is very large",
    why: "A heavy HTML document takes longer to download and to process on phones.",
    fix: "Remove inline data, unused markup and page-builder bloat; keep the HTML under 200 KB.",
};
pub const COMPRESSION: Check = Check {
    id: "performance.compression",
    category: Performance,
    severity: Medium,
    good: "The page is sent compressed",
    bad: "The page is sent uncompressed",
    why: "Compression makes text 70–90% smaller, so the page arrives much sooner.",
    fix: "Turn on gzip or Brotli compression in the web server.",
};
pub const CACHE: Check = Check {
    id: "performance.cache_headers",
    category: Performance,
    severity: Low,
    good: "Caching headers are set",
    bad: "No caching headers",
    why: "Without caching headers, returning visitors download everything again.",
    fix: "Send Cache-Control (and ETag or Last-Modified) so browsers can reuse what they have.",
};
pub const SCRIPTS: Check = Check {
    id: "performance.scripts",
    category: Performance,
    severity: Medium,
    good: "A moderate number of scripts",
    bad: "Many separate scripts",
    why: "Every script is another download the phone must fetch and run.",
    fix: "Remove unused plugins and trackers; bundle what remains.",
};
pub const STYLESHEETS: Check = Check {
    id: "performance.stylesheets",
    category: Performance,
    severity: Low,
    good: "A moderate number of stylesheets",
    bad: "Many separate stylesheets",
    why: "Each stylesheet blocks the page from showing until it has loaded.",
    fix: "Combine stylesheets and drop the ones the page does not use.",
};
pub const IMAGES: Check = Check {
    id: "performance.images",
    category: Performance,
    severity: Low,
    good: "A moderate number of images",
    bad: "A very large number of images",
    why: "Dozens of images make the page heavy, above all on mobile data.",
    fix: "Use fewer images, compress them, and lazy-load those below the fold.",
};
pub const RENDER_BLOCKING: Check = Check {
    id: "performance.render_blocking",
    category: Performance,
    severity: Medium,
    good: "No scripts block the first paint",
    bad: "Scripts in the page head block the first paint",
    why: "The browser stops drawing the page until these scripts have downloaded and run.",
    fix: "Add defer (or async) to scripts in <head>, or move them to the end of the page.",
};
pub const DIMENSIONS: Check = Check {
    id: "performance.image_dimensions",
    category: Performance,
    severity: Low,
    good: "Images have their size set",
    bad: "Images without width and height",
    why: "The layout jumps as these images load, so visitors tap the wrong thing.",
    fix: "Give every <img> width and height attributes (or a CSS aspect ratio).",
};
pub const REDIRECTS: Check = Check {
    id: "performance.redirects",
    category: Performance,
    severity: Low,
    good: "At most one redirect before the page",
    bad: "A chain of redirects before the page",
    why: "Each redirect is another round trip before anything loads.",
    fix: "Link and redirect straight to the final address.",
};

pub const CHECKS: &[&Check] = &[
    &TTFB,
    &LOAD,
    &SIZE,
    &COMPRESSION,
    &CACHE,
    &SCRIPTS,
    &STYLESHEETS,
    &IMAGES,
    &RENDER_BLOCKING,
    &DIMENSIONS,
    &REDIRECTS,
];

fn kb(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

pub fn run(i: &Inputs<'_>, out: &mut Vec<CheckResult>) {
    let f = i.fetch;
    let t = &f.timings;
    out.push(TTFB.result(
        t.ttfb_ms <= 600,
        format!("first byte after {} ms (aim: under 600 ms)", t.ttfb_ms),
    ));
    out.push(LOAD.result(
        t.total_ms <= 2000,
        format!(
            "the page took {:.1} s to download (aim: under 2 s)",
            t.total_ms as f64 / 1000.0
        ),
    ));
    let size_evidence = if f.truncated {
        format!(
            "the HTML is over {} (cut off at the download limit)",
            kb(f.bytes_decoded)
        )
    } else {
        format!("the HTML is {} (aim: under 200 KB)", kb(f.bytes_decoded))
    };
    out.push(SIZE.result(f.bytes_decoded <= 200 * 1024 && !f.truncated, size_evidence));
    let encoding = f
        .header("content-encoding")
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if f.bytes_decoded > 1024 {
        let compressed = ["gzip", "br", "zstd", "deflate", "x-gzip"].contains(&encoding.as_str());
        out.push(COMPRESSION.result(
            compressed,
            if compressed {
                format!(
                    "sent as {encoding}: {} on the wire for {}",
                    kb(f.bytes_wire),
                    kb(f.bytes_decoded)
                )
            } else {
                format!("{} sent without compression", kb(f.bytes_decoded))
            },
        ));
    }
    let cache_control = f.header("cache-control");
    let validator = f.header("etag").or(f.header("last-modified"));
    out.push(CACHE.result(
        cache_control.is_some() || validator.is_some(),
        match (cache_control, validator) {
            (Some(cc), _) => format!("Cache-Control: {cc}"),
            (None, Some(_)) => "ETag or Last-Modified set, no Cache-Control".into(),
            (None, None) => "no Cache-Control, ETag or Last-Modified header".into(),
        },
    ));
    if f.redirects.len() > 1 {
        let hops: Vec<String> = f
            .redirects
            .iter()
            .map(|r| format!("{} ({})", r.from, r.status))
            .collect();
        out.push(REDIRECTS.result(
            false,
            format!(
                "{} before the page: {}",
                plural(f.redirects.len(), "redirect", "redirects"),
                some(&hops, 3)
            ),
        ));
    } else {
        out.push(REDIRECTS.result(
            true,
            format!(
                "{} before the page",
                plural(f.redirects.len(), "redirect", "redirects")
            ),
        ));
    }
    let Some(facts) = i.facts else { return };
    let external_scripts = facts.scripts.iter().filter(|s| s.src.is_some()).count();
    out.push(SCRIPTS.result(
        external_scripts <= 15,
        format!(
            "{} (aim: 15 or fewer)",
            plural(external_scripts, "script file", "script files")
        ),
    ));
    out.push(STYLESHEETS.result(
        facts.stylesheets.len() <= 6,
        format!(
            "{} (aim: 6 or fewer)",
            plural(facts.stylesheets.len(), "stylesheet", "stylesheets")
        ),
    ));
    out.push(IMAGES.result(
        facts.images.len() <= 50,
        format!(
            "{} on the page (aim: 50 or fewer)",
            plural(facts.images.len(), "image", "images")
        ),
    ));
    let blocking: Vec<String> = facts
        .scripts
        .iter()
        .filter(|s| s.in_head && !s.non_blocking && s.src.is_some())
        .filter_map(|s| s.src.clone())
        .collect();
    out.push(RENDER_BLOCKING.result(
        blocking.is_empty(),
        if blocking.is_empty() {
            "no blocking scripts in <head>".to_string()
        } else {
            format!(
                "{} in <head> without defer/async: {}",
                plural(blocking.len(), "script", "scripts"),
                some(&blocking, 3)
            )
        },
    ));
    if !facts.images.is_empty() {
        let missing = facts
            .images
            .iter()
            .filter(|img| !img.has_dimensions)
            .count();
        out.push(DIMENSIONS.result(
            missing == 0,
            format!(
                "{} images have no width and height",
                of(missing, facts.images.len())
            ),
        ));
    }
}
