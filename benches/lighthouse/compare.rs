//! How leadscout's verdicts and scores line up with Lighthouse's: the audit
//! pairs that judge the same thing, Spearman's rank correlation and the mean
//! absolute difference of two score lists.

use serde_json::Value;

/// (leadscout check, Lighthouse audit, what both judge).
pub const PAIRS: &[(&str, &str, &str)] = &[
    ("mobile.viewport", "viewport", "a mobile viewport"),
    ("seo.title.present", "document-title", "a title"),
    (
        "seo.meta_description.present",
        "meta-description",
        "a meta description",
    ),
    ("accessibility.lang", "html-has-lang", "the page's language"),
    ("accessibility.image_alt", "image-alt", "image alt text"),
    (
        "accessibility.link_text",
        "link-text",
        "descriptive link text",
    ),
    (
        "accessibility.empty_links",
        "link-name",
        "links have a name",
    ),
    (
        "accessibility.button_name",
        "button-name",
        "buttons have a name",
    ),
    (
        "accessibility.form_labels",
        "label",
        "form fields have a label",
    ),
    ("seo.heading_order", "heading-order", "headings in order"),
    ("seo.noindex", "is-crawlable", "search engines may index it"),
    (
        "mobile.browser.font_size",
        "font-size",
        "legible font sizes",
    ),
    ("seo.status", "http-status-code", "a successful status"),
    ("seo.encoding", "charset", "a declared character set"),
    ("accessibility.contrast", "color-contrast", "text contrast"),
];

/// Lighthouse's verdict on one audit: passed (score 1, or nothing to judge)
/// or failed; `None` when the audit is informative or errored.
pub fn lighthouse_verdict(report: &Value, audit: &str) -> Option<bool> {
    let a = &report["audits"][audit];
    match a["scoreDisplayMode"].as_str()? {
        "notApplicable" => Some(true),
        "binary" | "numeric" | "metricSavings" => Some(a["score"].as_f64()? >= 0.9),
        _ => None,
    }
}

/// leadscout's verdict on one check in `audit show --json` (`passed` lists
/// the ids that passed, `findings` the ones that did not), `None` when it
/// did not run.
pub fn leadscout_verdict(audit: &Value, check: &str) -> Option<bool> {
    if audit["passed"].as_array()?.iter().any(|id| id == check) {
        return Some(true);
    }
    audit["findings"]
        .as_array()?
        .iter()
        .any(|f| f["id"] == check)
        .then_some(false)
}

fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        // Ties share the mean of their ranks.
        let mean = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = mean;
        }
        i = j + 1;
    }
    r
}

/// Spearman's rank correlation: Pearson's over the ranks, ties averaged.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    debug_assert!(a.len() == b.len() && a.len() > 1);
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

pub fn mean_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() / a.len() as f64
}
