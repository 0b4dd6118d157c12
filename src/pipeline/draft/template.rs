//! The email template: a plain text file, `Subject: ...` on the first line,
//! then the body, in minijinja. Strict about undefined names (a typo is an
//! error that names it, `| default(...)` covers a missing value), bounded by
//! fuel, and never HTML-escaped (it is plain text).

use std::collections::BTreeMap;

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

/// The template that ships with leadscout.
pub const DEFAULT_TEMPLATE: &str = include_str!("../../../assets/email.txt");

/// Everything a template can use.
#[derive(Debug, Clone, Serialize)]
pub struct DraftContext {
    pub business_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub website: String,
    pub domain: String,
    pub email: String,
    /// Overall score 0–100.
    pub score: u8,
    /// Score by category key (`performance`, `seo`, ...).
    pub scores: BTreeMap<String, u8>,
    /// The worst findings, worst first.
    pub findings: Vec<FindingContext>,
    /// How many findings there are in all.
    pub findings_total: usize,
    /// The mobile estimate, when the browser stage made one: what a
    /// Lighthouse mobile run would most likely measure, with its label.
    /// `{% if speed %}…{% endif %}`; none for an HTTP-only audit.
    pub speed: Option<SpeedContext>,
    pub report_url: String,
    pub unsubscribe_url: String,
    pub sender: SenderContext,
    /// Columns from the import that leadscout has no field for.
    pub extra: BTreeMap<String, String>,
    /// Since the previous audit, when there is one (a re-audit): for a
    /// follow-up, `{% if changes %}…{% endif %}`; none on a first audit.
    pub changes: Option<ChangesContext>,
    /// A follow-up's own facts (`{% if followup %}…{% endif %}`); none
    /// for the first email.
    pub followup: Option<FollowupContext>,
    /// Hosts the email may link to: the lead's site, its report and
    /// unsubscribe pages, the call-to-action page and the sender's domains
    /// (as [`crate::domain::text::allowed_host`] makes them). Not for
    /// templates.
    #[serde(skip)]
    pub allowed_hosts: Vec<String>,
}

/// What a follow-up template can say about what happened since the first
/// email.
#[derive(Debug, Clone, Serialize)]
pub struct FollowupContext {
    /// This email's step, 2 for the first follow-up.
    pub step: u32,
    /// The first email's subject (the follow-up's is `Re: ` it).
    pub first_subject: String,
    /// The day the first email went, in the sending time zone.
    pub first_sent_on: String,
    /// How often the report page was opened since the first email.
    pub views: u64,
}

/// The mobile estimate as a template quotes it: every figure formatted the
/// way the evidence gate counts it as the audit's.
#[derive(Debug, Clone, Serialize)]
pub struct SpeedContext {
    /// The speed category's score, 0–100 (the estimate's performance).
    pub score: u8,
    /// Estimated first content, "4.1 s".
    pub fcp: String,
    /// Estimated largest content, "7.0 s".
    pub lcp: String,
    /// Estimated total blocking time, "850 ms".
    pub tbt: String,
    /// The unthrottled largest content measured here, when measured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lcp_measured: Option<String>,
    /// "a mid-range phone on slow 4G".
    pub device: String,
    /// "estimated as Lighthouse 12.8.2 measures mobile".
    pub basis: String,
    pub lighthouse_version: String,
}

impl SpeedContext {
    pub fn from_metrics(metrics: &crate::domain::metrics::AuditMetrics) -> Option<Self> {
        use crate::domain::metrics::seconds;
        let e = metrics.mobile_estimate.as_ref()?;
        Some(Self {
            score: e.performance.min(100),
            fcp: seconds(e.fcp.value),
            lcp: seconds(e.lcp.value),
            tbt: format!("{:.0} ms", e.tbt.value),
            lcp_measured: metrics.lcp.map(|f| seconds(f.value)),
            device: e.device(),
            basis: e.basis(),
            lighthouse_version: e.lighthouse_version.clone(),
        })
    }

    /// One sentence for the model's facts.
    pub fn sentence(&self) -> String {
        format!(
            "On {} the main content appears after about {} and the speed score is {}/100 ({}).",
            self.device, self.lcp, self.score, self.basis
        )
    }
}

/// What changed between the previous audit and this one.
#[derive(Debug, Clone, Serialize)]
pub struct ChangesContext {
    /// Titles of problems that are new.
    pub new: Vec<String>,
    /// Titles of problems that are gone.
    pub fixed: Vec<String>,
    pub score_before: u8,
    pub score_after: u8,
    /// `score_after - score_before`.
    pub score_delta: i16,
}

#[derive(Debug, Clone, Serialize)]
pub struct FindingContext {
    pub title: String,
    pub evidence: String,
    pub why: String,
    pub fix: String,
    pub severity: String,
    pub category: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SenderContext {
    pub name: String,
    pub company: String,
    pub email: String,
    pub reply_to: String,
    pub postal_address: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the email template ({origin}) must start with a `Subject: ...` line")]
    NoSubject { origin: String },
    #[error("the email template ({origin}) does not work: {detail}")]
    Broken { origin: String, detail: String },
}

/// A rendered email, before the compliance footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// Renders `source` (named `origin` in errors) with `context`.
pub fn render(
    source: &str,
    origin: &str,
    context: &DraftContext,
) -> Result<Rendered, TemplateError> {
    let source = source.trim_start_matches('\u{feff}');
    let (first, rest) = source.split_once('\n').unwrap_or((source, ""));
    let Some(subject) = first.trim_end_matches('\r').strip_prefix("Subject:") else {
        return Err(TemplateError::NoSubject {
            origin: origin.into(),
        });
    };
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_fuel(Some(100_000));
    let ctx = minijinja::value::Value::from(minijinja::value::Serde(context));
    let broken = |part: &str, e: minijinja::Error| TemplateError::Broken {
        origin: origin.into(),
        detail: format!(
            "{}{}",
            describe(&e),
            undefined_names(&env, part, context, &e)
        ),
    };
    let subject_source = subject.trim();
    let subject = env
        .render_str(subject_source, ctx.clone())
        .map_err(|e| broken(subject_source, e))?;
    let body_source = rest.trim_start_matches(['\r', '\n']);
    let body = env
        .render_str(body_source, ctx)
        .map_err(|e| broken(body_source, e))?;
    Ok(Rendered {
        subject: crate::domain::outreach::single_line(&subject),
        body: tidy(&body),
    })
}

/// For an undefined name, which ones the template uses that this email
/// does not have, and the names it can use: minijinja's own message does
/// not say which.
fn undefined_names(
    env: &Environment,
    source: &str,
    context: &DraftContext,
    e: &minijinja::Error,
) -> String {
    if e.kind() != minijinja::ErrorKind::UndefinedError {
        return String::new();
    }
    let Ok(serde_json::Value::Object(known)) = serde_json::to_value(context) else {
        return String::new();
    };
    let Ok(template) = env.template_from_str(source) else {
        return String::new();
    };
    let mut missing: Vec<String> = template
        .undeclared_variables(false)
        .into_iter()
        .filter(|name| !known.contains_key(name) && env.globals().all(|(g, _)| g != name))
        .collect();
    missing.sort();
    let available = known
        .keys()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(", ");
    if missing.is_empty() {
        format!("; this email has: {available}")
    } else {
        format!(
            "; not defined for this email: {}; it has: {available} (use `{{% if name is defined %}}` for a value only some leads have)",
            missing.join(", ")
        )
    }
}

/// minijinja's error with its line, on one line.
fn describe(e: &minijinja::Error) -> String {
    let mut text = e.to_string();
    if let Some(line) = e.line() {
        text.push_str(&format!(" (template line {})", line + 1));
    }
    if let Some(detail) = e.detail() {
        text.push_str(&format!(": {detail}"));
    }
    text.replace('\n', " ")
}

/// Trailing spaces off every line, at most one blank line in a row, one
/// newline at the end.
fn tidy(body: &str) -> String {
    let mut out = String::new();
    let mut blank = 0;
    for line in body.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_matches('\n').to_string() + "\n"
}

/// The compliance footer every email carries (see
/// [`crate::domain::outreach::with_footer`]), signed by the company or the
/// sender's name.
pub fn with_footer(body: &str, sender: &SenderContext, unsubscribe_url: &str) -> String {
    let who = [sender.company.as_str(), sender.name.as_str()]
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or("");
    crate::domain::outreach::with_footer(body, who, &sender.postal_address, unsubscribe_url)
}
