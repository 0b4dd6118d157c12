//! The draft stage's logic: render the campaign's template with the lead,
//! its audit and the sender, optionally let a language model rewrite it
//! (kept only when the evidence gate passes), and add the compliance
//! footer.

pub mod gate;
pub mod llm;
pub mod template;

use crate::domain::Lead;
use crate::domain::audit::Audit;
use crate::domain::outreach::Author;
use crate::domain::text;
use template::{DraftContext, FindingContext, Rendered, SenderContext};

/// A finished draft and how it came about.
#[derive(Debug, Clone)]
pub struct Draft {
    pub subject: String,
    pub body: String,
    pub author: Author,
    /// Why the model's rewrite was not used, when one was tried.
    pub model_note: Option<String>,
    /// Why the email cannot be approved as it is: it links somewhere other
    /// than the lead's site, its pages or the sender's
    /// ([`text::foreign_links_reason`]).
    pub blocked: Option<String>,
}

/// The sender as a template sees it, from the effective identity
/// (`Config::effective_sender`).
pub fn sender_context(sender: &crate::config::SenderConfig) -> SenderContext {
    // Settings are typed by the operator; they go into headers and bodies.
    let line = |value: &str| text::single_line(value);
    SenderContext {
        name: line(&sender.name),
        company: line(&sender.company),
        email: line(&sender.email),
        reply_to: line(&sender.reply_to),
        postal_address: line(&sender.postal_address),
    }
}

/// What the sender must have before any draft can be made.
pub fn missing_identity(sender: &SenderContext) -> Vec<&'static str> {
    let mut missing = Vec::new();
    if sender.name.is_empty() && sender.company.is_empty() {
        missing.push("sender.name");
    }
    if sender.email.is_empty() {
        missing.push("sender.email");
    }
    if sender.postal_address.trim().is_empty() {
        missing.push("sender.postal_address");
    }
    missing
}

/// The hosts an email to `lead` may link to (see
/// [`DraftContext::allowed_hosts`]).
pub fn allowed_hosts(
    lead: &Lead,
    report_url: &str,
    unsubscribe_url: &str,
    cta_url: Option<&str>,
    sender: &SenderContext,
) -> Vec<String> {
    let domain = lead.domain.to_string();
    text::allowed_hosts(
        [
            Some(lead.website.as_str()),
            Some(domain.as_str()),
            Some(report_url),
            Some(unsubscribe_url),
            cta_url,
            Some(sender.email.as_str()),
            Some(sender.reply_to.as_str()),
        ]
        .into_iter()
        .flatten(),
    )
}

/// What the template sees. Lead fields are cleaned again (leads stored
/// before cleaning existed), and scraped evidence loses links to anywhere
/// but the allowed hosts: a site cannot put its own link into the email.
#[allow(clippy::too_many_arguments)]
pub fn context(
    lead: &Lead,
    audit: &Audit,
    previous: Option<&Audit>,
    top: usize,
    report_url: &str,
    unsubscribe_url: &str,
    cta_url: Option<&str>,
    sender: SenderContext,
) -> DraftContext {
    let findings = audit.findings();
    let allowed_hosts = allowed_hosts(lead, report_url, unsubscribe_url, cta_url, &sender);
    let line = |v: &Option<String>| text::single_line_opt(v.as_deref());
    DraftContext {
        business_name: text::single_line(&lead.business_name),
        city: line(&lead.city),
        category: line(&lead.category),
        phone: line(&lead.phone),
        website: lead.website.to_string(),
        domain: lead.domain.to_string(),
        email: lead
            .email
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        score: audit.scores.overall,
        scores: audit
            .scores
            .categories
            .iter()
            .map(|(c, s)| (c.as_str().to_string(), *s))
            .collect(),
        findings_total: findings.len(),
        speed: template::SpeedContext::from_metrics(&audit.metrics),
        findings: findings
            .iter()
            .take(top)
            .map(|c| FindingContext {
                title: c.title.clone(),
                evidence: text::without_foreign_links(&text::evidence(&c.evidence), &allowed_hosts),
                why: c.why.clone(),
                fix: c.fix.clone(),
                severity: c.severity.as_str().into(),
                category: c.category.label().into(),
            })
            .collect(),
        report_url: report_url.into(),
        unsubscribe_url: unsubscribe_url.into(),
        sender,
        extra: lead
            .attributes
            .iter()
            .map(|(k, v)| (text::single_line(k), text::single_line(v)))
            .collect(),
        changes: previous.map(|before| changes(before, audit)),
        followup: None,
        allowed_hosts,
    }
}

fn changes(before: &Audit, after: &Audit) -> template::ChangesContext {
    let diff = crate::domain::audit::AuditDiff::between(before, after);
    let title = |audit: &Audit, id: &str| {
        audit
            .checks
            .iter()
            .find(|c| c.id == id)
            .map_or_else(|| id.to_string(), |c| c.title.clone())
    };
    template::ChangesContext {
        new: diff.new.iter().map(|id| title(after, id)).collect(),
        fixed: diff.fixed.iter().map(|id| title(before, id)).collect(),
        score_before: before.scores.overall,
        score_after: after.scores.overall,
        score_delta: i16::from(after.scores.overall) - i16::from(before.scores.overall),
    }
}

/// The template draft, rewritten by the model when one is given and its
/// rewrite passes the gate; always with the footer.
pub async fn compose(
    template: &Rendered,
    ctx: &DraftContext,
    audit: &Audit,
    rewriter: Option<&llm::Rewriter>,
) -> Draft {
    let mut draft = Draft {
        subject: template.subject.clone(),
        body: template.body.clone(),
        author: Author::Template,
        model_note: None,
        blocked: None,
    };
    if let Some(rewriter) = rewriter {
        let evidence = llm::Evidence {
            business_name: &ctx.business_name,
            website: &ctx.website,
            overall_score: ctx.score,
            mobile_speed: ctx.speed.as_ref().map(template::SpeedContext::sentence),
            findings: ctx
                .findings
                .iter()
                .map(|f| (f.title.as_str(), f.evidence.as_str()))
                .collect(),
        };
        let template_text = format!("{}\n{}", template.subject, template.body);
        match rewriter.rewrite(&evidence, template).await {
            Ok(rewrite) => match gate::check(
                &format!("{}\n{}", rewrite.subject, rewrite.body),
                audit,
                &template_text,
                &ctx.allowed_hosts,
            ) {
                Ok(()) => {
                    draft.subject = rewrite.subject;
                    draft.body = rewrite.body;
                    draft.author = Author::Model;
                }
                Err(reason) => {
                    draft.model_note = Some(format!(
                        "the model's rewrite was rejected: {reason}; the template draft is used"
                    ));
                }
            },
            Err(reason) => {
                draft.model_note = Some(format!("{reason}; the template draft is used"));
            }
        }
        if let Some(note) = &draft.model_note {
            tracing::warn!(lead = %ctx.business_name, %note, "draft rewrite not used");
        }
    }
    draft.body = template::with_footer(&draft.body, &ctx.sender, &ctx.unsubscribe_url);
    // The last word, whoever wrote the text: the template itself, a lead
    // field or a cleaned finding may still carry a link to somewhere else.
    draft.blocked = text::email_block_reason(&draft.subject, &draft.body, &ctx.allowed_hosts);
    if let Some(reason) = &draft.blocked {
        tracing::warn!(lead = %ctx.business_name, %reason, "draft blocked");
    }
    draft
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_reaudit_gives_the_template_what_changed() {
        let before = super::gate::tests::audit();
        let mut after = before.clone();
        after.scores.overall = 70;
        for check in &mut after.checks {
            match check.id.as_str() {
                "security.https" => check.passed = true,
                "mobile.viewport" => check.passed = false,
                _ => {}
            }
        }
        let changes = super::changes(&before, &after);
        assert_eq!(changes.fixed, ["security.https"]);
        assert_eq!(changes.new, ["mobile.viewport"]);
        assert_eq!((changes.score_before, changes.score_after), (62, 70));
        assert_eq!(changes.score_delta, 8);
    }
}
