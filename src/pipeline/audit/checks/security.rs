//! HTTPS, certificates, security headers, mixed content, exposed versions.

use super::{Check, Inputs, of, some};
use crate::domain::audit::{Category::Security, CheckResult, Severity::*};

pub const HTTPS: Check = Check {
    id: "security.https",
    category: Security,
    severity: Critical,
    good: "The site is served over HTTPS",
    bad: "The site is not served over HTTPS",
    why: "Browsers mark plain-HTTP sites as \"Not secure\", which scares visitors away, and search engines rank them lower.",
    fix: "Install a TLS certificate (free from Let's Encrypt) and serve every page over https://.",
};
pub const HTTP_REDIRECT: Check = Check {
    id: "security.http_redirect",
    category: Security,
    severity: High,
    good: "http:// addresses redirect to HTTPS",
    bad: "http:// addresses do not redirect to HTTPS",
    why: "Visitors who type the address or follow old links land on the insecure version.",
    fix: "Redirect every http:// request to https:// with a permanent (301) redirect.",
};
pub const HSTS: Check = Check {
    id: "security.hsts",
    category: Security,
    severity: Low,
    good: "Browsers are told to always use HTTPS (HSTS)",
    bad: "Browsers are not told to always use HTTPS (no HSTS)",
    why: "Without HSTS the first visit can be downgraded to plain HTTP on public Wi-Fi.",
    fix: "Send Strict-Transport-Security: max-age=31536000 on HTTPS responses.",
};
pub const CERTIFICATE: Check = Check {
    id: "security.certificate",
    category: Security,
    severity: Critical,
    good: "The TLS certificate is valid",
    bad: "The TLS certificate has a problem",
    why: "Browsers show a full-page warning for an invalid certificate; almost every visitor leaves.",
    fix: "Renew or replace the certificate so it is valid, trusted and matches the domain.",
};
pub const CSP: Check = Check {
    id: "security.csp",
    category: Security,
    severity: Low,
    good: "A Content-Security-Policy is set",
    bad: "No Content-Security-Policy",
    why: "A CSP limits the damage if a plugin or form is ever abused to inject scripts.",
    fix: "Send a Content-Security-Policy header that allows only the sources the site uses.",
};
pub const FRAME_OPTIONS: Check = Check {
    id: "security.frame_options",
    category: Security,
    severity: Low,
    good: "The site cannot be framed by other sites",
    bad: "Other sites can embed this site in a frame",
    why: "Framing lets attackers overlay fake buttons on the real site (clickjacking).",
    fix: "Send X-Frame-Options: SAMEORIGIN or a CSP frame-ancestors rule.",
};
pub const NOSNIFF: Check = Check {
    id: "security.content_type_options",
    category: Security,
    severity: Low,
    good: "MIME sniffing is off (X-Content-Type-Options)",
    bad: "MIME sniffing is not turned off",
    why: "Browsers may guess file types and run uploaded files as scripts.",
    fix: "Send X-Content-Type-Options: nosniff.",
};
pub const REFERRER: Check = Check {
    id: "security.referrer_policy",
    category: Security,
    severity: Low,
    good: "A Referrer-Policy is set",
    bad: "No Referrer-Policy",
    why: "Full page addresses, sometimes with private details, leak to every site linked to.",
    fix: "Send Referrer-Policy: strict-origin-when-cross-origin.",
};
pub const MIXED: Check = Check {
    id: "security.mixed_content",
    category: Security,
    severity: High,
    good: "No insecure (http://) resources on the HTTPS page",
    bad: "The HTTPS page loads insecure (http://) resources",
    why: "Browsers block or flag insecure images and scripts, so parts of the page break or show warnings.",
    fix: "Load every image, script and stylesheet over https://.",
};
pub const VERSION: Check = Check {
    id: "security.version_exposed",
    category: Security,
    severity: Medium,
    good: "Software versions are not advertised",
    bad: "The site advertises its software version",
    why: "A visible version number tells attackers exactly which known holes to try, and often shows the software is out of date.",
    fix: "Keep the CMS and server updated, and remove the generator tag and version headers.",
};

pub const CHECKS: &[&Check] = &[
    &HTTPS,
    &HTTP_REDIRECT,
    &HSTS,
    &CERTIFICATE,
    &CSP,
    &FRAME_OPTIONS,
    &NOSNIFF,
    &REFERRER,
    &MIXED,
    &VERSION,
];

pub fn run(i: &Inputs<'_>, out: &mut Vec<CheckResult>) {
    let f = i.fetch;
    let https = i.final_url.scheme() == "https";
    out.push(HTTPS.result(
        https,
        if https {
            format!("final address {}", i.final_url)
        } else {
            format!("the site ends on {}", i.final_url)
        },
    ));
    if let Some(probe) = &f.http_probe {
        let redirects_to_https = probe.status.is_some_and(|s| (300..400).contains(&s))
            && probe.text.starts_with("https://");
        let evidence = match (probe.status, &probe.error) {
            (Some(s), _) if redirects_to_https => {
                format!("{} answers {s} → {}", probe.url, probe.text)
            }
            (Some(s), _) if !probe.text.is_empty() => {
                format!("{} answers {s} → {}", probe.url, probe.text)
            }
            (Some(s), _) => format!("{} answers {s} without redirecting", probe.url),
            (None, Some(e)) => format!("{} did not answer ({e})", probe.url),
            (None, None) => format!("{} did not answer", probe.url),
        };
        // No answer on port 80 at all is fine: nothing insecure is served.
        let passed = redirects_to_https || probe.status.is_none();
        out.push(HTTP_REDIRECT.result(passed, evidence));
    } else if !https {
        out.push(HTTP_REDIRECT.result(false, "the site stays on http:// (no redirect to https)"));
    }
    if https {
        let hsts = f.header("strict-transport-security");
        out.push(
            HSTS.result(
                hsts.is_some_and(|v| v.to_ascii_lowercase().contains("max-age")),
                hsts.map(|v| format!("Strict-Transport-Security: {v}"))
                    .unwrap_or_else(|| "no Strict-Transport-Security header".into()),
            ),
        );
        out.push(
            CERTIFICATE.result(
                f.tls_problem.is_none(),
                f.tls_problem
                    .clone()
                    .unwrap_or_else(|| "the certificate is trusted and matches the host".into()),
            ),
        );
    }
    let csp = f.header("content-security-policy");
    out.push(CSP.result(
        csp.is_some(),
        if csp.is_some() {
            "Content-Security-Policy is set"
        } else {
            "no Content-Security-Policy header"
        },
    ));
    let xfo = f.header("x-frame-options");
    let frame_ancestors = csp.is_some_and(|c| c.to_ascii_lowercase().contains("frame-ancestors"));
    out.push(FRAME_OPTIONS.result(
        xfo.is_some() || frame_ancestors,
        match xfo {
            Some(v) => format!("X-Frame-Options: {v}"),
            None if frame_ancestors => "CSP frame-ancestors is set".into(),
            None => "no X-Frame-Options header and no CSP frame-ancestors".into(),
        },
    ));
    let nosniff = f.header("x-content-type-options");
    out.push(NOSNIFF.result(
        nosniff.is_some_and(|v| v.trim().eq_ignore_ascii_case("nosniff")),
        nosniff.map_or_else(
            || "no X-Content-Type-Options header".into(),
            |v| format!("X-Content-Type-Options: {v}"),
        ),
    ));
    let referrer = f.header("referrer-policy");
    out.push(REFERRER.result(
        referrer.is_some(),
        referrer.map_or_else(
            || "no Referrer-Policy header".into(),
            |v| format!("Referrer-Policy: {v}"),
        ),
    ));
    if let Some(facts) = i.facts
        && https
    {
        let insecure: Vec<String> = facts
            .subresources
            .iter()
            .filter(|u| u.to_ascii_lowercase().starts_with("http://"))
            .cloned()
            .collect();
        out.push(MIXED.result(
            insecure.is_empty(),
            if insecure.is_empty() {
                format!("all {} resources load securely", facts.subresources.len())
            } else {
                format!(
                    "{} insecure: {}",
                    of(insecure.len(), facts.subresources.len()),
                    some(&insecure, 3)
                )
            },
        ));
    }
    let mut exposed = Vec::new();
    if let Some(generator) = i.facts.and_then(|f| f.generator.as_deref())
        && generator.chars().any(|c| c.is_ascii_digit())
    {
        exposed.push(format!("generator \"{generator}\""));
    }
    for name in ["server", "x-powered-by"] {
        if let Some(value) = f.header(name)
            && value.contains('/')
            && value.chars().any(|c| c.is_ascii_digit())
        {
            exposed.push(format!("{name}: {value}"));
        }
    }
    out.push(VERSION.result(
        exposed.is_empty(),
        if exposed.is_empty() {
            "no version numbers found".to_string()
        } else {
            exposed.join("; ")
        },
    ));
}
