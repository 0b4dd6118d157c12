//! A follow-up's text: the step's own template rendered with the first
//! email's variables plus what happened since (report views, `changes`
//! after a re-audit), under `Re: <first subject>`, with the compliance
//! footer, as a draft (or approved, when the campaign approves follow-ups
//! with the first email). Also the check `sequence set` runs on a step's
//! template before keeping it. Writes nothing: the scheduler in
//! `service::sequence` stores the result in one transaction.

use std::collections::BTreeMap;

use crate::config::Config;
use crate::domain::outreach::{Author, Outreach, OutreachStatus};
use crate::domain::sequence::reply_subject;
use crate::domain::{CampaignId, Lead, Timestamp};
use crate::pipeline::draft::template::{self, DraftContext, FindingContext, FollowupContext};
use crate::pipeline::draft::{self};
use crate::store::Store;

/// What the scheduler knows when it drafts a step.
pub struct FollowupInput<'a> {
    pub lead: &'a Lead,
    /// The lead's email as it stands: the step sent last.
    pub sent: &'a Outreach,
    pub step: u32,
    pub template_path: &'a str,
    pub auto_approve: bool,
    /// The first send's day in the sending time zone.
    pub first_sent_on: String,
    pub now: Timestamp,
}

/// Reads a step's template file.
fn read_template(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the follow-up template {path}: {e}"))
}

/// The follow-up as it will be stored (its step and thread are set by the
/// store when it takes the sent step's place).
pub fn compose(
    store: &Store,
    config: &Config,
    input: &FollowupInput<'_>,
) -> Result<Outreach, String> {
    let lead = input.lead;
    let sent = input.sent;
    let source = read_template(input.template_path)?;
    let mut audits = store
        .audits_of(lead.id, 2)
        .map_err(|e| e.to_string())?
        .into_iter();
    let audit = audits
        .next()
        .ok_or("the lead has no audit; a follow-up quotes it like the first email")?;
    let previous = audits.next();
    let sender = config
        .effective_sender(store, Some(lead.campaign))
        .map_err(|e| e.to_string())?;
    let sender = draft::sender_context(&sender);
    let missing = draft::missing_identity(&sender);
    if !missing.is_empty() {
        return Err(format!(
            "follow-ups need the sender's identity; set {}",
            missing.join(", ")
        ));
    }
    let cta_url = config
        .effective_value(store, Some(lead.campaign), "report.cta_url")
        .map_err(|e| e.to_string())?;
    let views = store
        .view_stats(lead.id)
        .map_err(|e| e.to_string())?
        .map_or(0, |v| v.views);
    let mut context = draft::context(
        lead,
        &audit,
        previous.as_ref(),
        config.drafts.top_findings,
        &sent.report_url,
        &sent.unsubscribe_url,
        cta_url.as_deref(),
        sender,
    );
    context.followup = Some(FollowupContext {
        step: input.step,
        first_subject: sent.first_subject().to_string(),
        first_sent_on: input.first_sent_on.clone(),
        views,
    });
    let rendered = template::render(&source, input.template_path, &context)
        .map_err(|e| format!("step {}: {e}", input.step))?;
    // The template's own subject line is not used: a follow-up answers
    // the first email, so mail programs keep them in one conversation.
    let subject = reply_subject(sent.first_subject());
    let body = template::with_footer(&rendered.body, &context.sender, &sent.unsubscribe_url);
    let blocked = crate::domain::text::email_block_reason(&subject, &body, &context.allowed_hosts);
    let mut o = Outreach {
        report_url: sent.report_url.clone(),
        unsubscribe_url: sent.unsubscribe_url.clone(),
        ..Outreach::draft(
            lead.id,
            lead.campaign,
            sent.to.clone(),
            (subject, body),
            Author::Template,
            input.now,
        )
    };
    o.step = input.step;
    o.audit = Some(crate::domain::outreach::AuditRef::of(&audit));
    match (&blocked, input.auto_approve) {
        (None, true) => {
            o.status = OutreachStatus::Approved;
            o.approved_at = Some(input.now);
            o.note = Some(
                "approved with the first email (the campaign's auto_approve_followups)".into(),
            );
        }
        (Some(why), true) => {
            o.note = Some(format!(
                "not approved automatically: {why}; edit and approve it"
            ));
        }
        _ => {}
    }
    o.blocked = blocked;
    Ok(o)
}

/// Whether `path` is a template a follow-up can be drafted from: it reads,
/// starts with a `Subject:` line and renders, against one of the
/// campaign's audited leads when there is one, else against sample data.
pub fn check_template(
    store: &Store,
    config: &Config,
    campaign: CampaignId,
    step: u32,
    path: &str,
) -> Result<(), String> {
    let source = read_template(path)?;
    let sender = config
        .effective_sender(store, Some(campaign))
        .map_err(|e| e.to_string())?;
    let sender = draft::sender_context(&sender);
    let mut context = None;
    for id in store.campaign_lead_ids(campaign, None).take(50) {
        let Ok(id) = id else { continue };
        let (Ok(Some(lead)), Ok(audits)) = (store.lead(id), store.audits_of(id, 2)) else {
            continue;
        };
        let mut audits = audits.into_iter();
        if let Some(audit) = audits.next() {
            let previous = audits.next();
            context = Some(draft::context(
                &lead,
                &audit,
                previous.as_ref(),
                config.drafts.top_findings,
                "https://reports.example/r/sample",
                "https://reports.example/u/sample",
                None,
                sender.clone(),
            ));
            break;
        }
    }
    let mut context = context.unwrap_or_else(|| sample_context(sender));
    context.followup = Some(FollowupContext {
        step,
        first_subject: "Your website".into(),
        first_sent_on: "2026-01-05".into(),
        views: 2,
    });
    template::render(&source, path, &context)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Stand-in values for a campaign with no audited lead yet.
fn sample_context(sender: template::SenderContext) -> DraftContext {
    DraftContext {
        business_name: "Sample Bakery".into(),
        city: Some("Berlin".into()),
        category: Some("bakery".into()),
        phone: None,
        website: "https://bakery.example/".into(),
        domain: "bakery.example".into(),
        email: "info@bakery.example".into(),
        score: 62,
        scores: BTreeMap::from([("performance".to_string(), 55), ("seo".to_string(), 70)]),
        findings: vec![FindingContext {
            title: "No meta description".into(),
            evidence: "the home page has no meta description".into(),
            why: "search results show a random snippet".into(),
            fix: "add a meta description".into(),
            severity: "medium".into(),
            category: "SEO".into(),
        }],
        findings_total: 1,
        speed: None,
        report_url: "https://reports.example/r/sample".into(),
        unsubscribe_url: "https://reports.example/u/sample".into(),
        sender,
        extra: BTreeMap::new(),
        changes: None,
        followup: None,
        allowed_hosts: Vec::new(),
    }
}
