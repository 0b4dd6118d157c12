//! The draft stage: the campaign's template rendered for the lead and its
//! latest audit (optionally rewritten by a model behind the evidence gate),
//! with the compliance footer, stored as the lead's outreach draft. Drafts
//! the operator edited, approved or sent are never replaced; blacklisted
//! leads get none. A draft whose unsubscribe link recipients could not use
//! (see `server.public_base_url`) is still made, with a warning in its note.

use std::sync::Arc;

use super::store_error;
use crate::config::Config;
use crate::domain::address_check::MailRoute;
use crate::domain::outreach::{AuditRef, Author, Outreach, OutreachStatus};
use crate::domain::report::ReportLink;
use crate::domain::unsubscribe::{LINK_PROBLEM_PREFIX, UnsubscribeToken, unsubscribe_base_problem};
use crate::domain::{CampaignId, Email, Lead, LeadStatus};
use crate::jobs::address_gate::{AddressGate, GateError};
use crate::jobs::stage::{StageContext, StageError, StageFuture, StageHandler, StageOutcome};
use crate::pipeline::draft::{self, llm::Rewriter, template};
use crate::store::Store;

pub use crate::pipeline::draft::template::DEFAULT_TEMPLATE;

pub struct DraftStage {
    rewriter: Option<Arc<Rewriter>>,
    /// Shared by every draft, so its cache answers repeated domains.
    addresses: AddressGate,
}

impl DraftStage {
    pub fn new(config: &Config) -> Self {
        let rewriter = match Rewriter::new(&config.llm, config.secret(&config.llm.api_key_env)) {
            Some(Ok(r)) => Some(Arc::new(r)),
            Some(Err(reason)) => {
                tracing::warn!(%reason, "drafts will not be rewritten");
                None
            }
            None => None,
        };
        Self {
            rewriter,
            addresses: AddressGate::default(),
        }
    }

    /// Checks the address a draft would go to (or reuses a fresh check)
    /// and says why no draft should be made when its domain certainly
    /// cannot receive mail. A check DNS could not answer fails the job for
    /// now: it is tried again with its backoff.
    async fn check_address(
        &self,
        ctx: &StageContext,
        lead: &Lead,
        to: &Email,
    ) -> Result<Option<String>, StageError> {
        let check = self
            .addresses
            .current(&ctx.store, &ctx.config.verify, lead, to, ctx.clock.now())
            .await
            .map_err(|e| match e {
                GateError::Setup(_) => StageError::permanent(e.to_string()),
                GateError::Store(e) => store_error(e),
            })?;
        let Some(check) = check else {
            return Ok(None);
        };
        if let MailRoute::Unknown { reason } = &check.route {
            return Err(StageError::transient(format!(
                "cannot check {to}: {reason}; try again later, or set verify.enabled = false to draft unchecked"
            )));
        }
        Ok(check
            .refusal()
            .map(|why| format!("{to} cannot receive mail: {why}; no draft")))
    }
}

/// The template for a campaign: the `email.template_file` setting, else
/// `drafts.template` from the config, else the built-in one.
pub fn template_source(
    store: &Store,
    config: &Config,
    campaign: Option<CampaignId>,
) -> Result<(String, String), String> {
    let path = config
        .effective_value(store, campaign, "email.template_file")
        .map_err(|e| e.to_string())?;
    match path {
        None => Ok((
            template::DEFAULT_TEMPLATE.to_string(),
            "the built-in template".into(),
        )),
        Some(path) => std::fs::read_to_string(&path)
            .map(|text| (text, path.clone()))
            .map_err(|e| format!("cannot read the email template {path}: {e}")),
    }
}

impl StageHandler for DraftStage {
    fn run(&self, ctx: StageContext) -> StageFuture<'_> {
        Box::pin(async move {
            let store = &ctx.store;
            let lead = store
                .lead(ctx.job.lead)
                .map_err(store_error)?
                .ok_or_else(|| {
                    StageError::permanent(format!("lead {} no longer exists", ctx.job.lead))
                })?;
            if let Some(entry) = store
                .blocking_entry(&lead.domain, lead.email.as_ref())
                .map_err(store_error)?
            {
                return Ok(StageOutcome::Skipped(format!(
                    "{} is on the blacklist ({}); no draft",
                    entry.value, entry.reason
                )));
            }
            if lead.status.is_closed() {
                return Ok(StageOutcome::Skipped(format!(
                    "the lead is {}; no draft",
                    lead.status
                )));
            }
            let Some(to) = lead.email.clone() else {
                return Ok(StageOutcome::Skipped(
                    "no email address for this lead (none imported, none found on the site)".into(),
                ));
            };
            let existing = store.outreach(lead.id).map_err(store_error)?;
            if let Some(o) = &existing {
                // A follow-up is the sequence scheduler's, from its own
                // template; the first email's stage must not replace it.
                if o.step > 1 {
                    return Ok(StageOutcome::Skipped(format!(
                        "its email is follow-up step {}; not redrafted",
                        o.step
                    )));
                }
                if !o.status.may_redraft() {
                    return Ok(StageOutcome::Skipped(format!(
                        "its email is already {}; not redrafted",
                        o.status
                    )));
                }
                if o.author == Author::Operator {
                    return Ok(StageOutcome::Skipped(
                        "the draft was edited by the operator; kept".into(),
                    ));
                }
            }
            if let Some(refusal) = self.check_address(&ctx, &lead, &to).await? {
                return Ok(StageOutcome::Skipped(refusal));
            }
            let mut audits = store
                .audits_of(lead.id, 2)
                .map_err(store_error)?
                .into_iter();
            let audit = audits.next().ok_or_else(|| {
                StageError::permanent("the lead has no audit yet; run the audit stage first")
            })?;
            let previous = audits.next();
            let sender = ctx
                .config
                .effective_sender(&**store, Some(lead.campaign))
                .map_err(store_error)?;
            let sender = draft::sender_context(&sender);
            let missing = draft::missing_identity(&sender);
            if !missing.is_empty() {
                return Err(StageError::permanent(format!(
                    "drafts need the sender's identity and postal address; set {} (leadscout settings set KEY VALUE, or [sender] in config.toml)",
                    missing.join(", ")
                )));
            }
            let now = ctx.clock.now();
            let (link, _) = store
                .publish_report(
                    &ReportLink::new(
                        lead.id,
                        rand::random(),
                        now,
                        ctx.config.server.report_expiry,
                    ),
                    now,
                )
                .map_err(store_error)?
                .ok_or_else(|| StageError::permanent("the lead no longer exists"))?;
            // The lead's own unsubscribe token, not the report token: the
            // link must outlive a revoked, expired or replaced report link.
            let unsubscribe = store
                .ensure_unsubscribe_token(lead.id, &UnsubscribeToken::from_random(rand::random()))
                .map_err(store_error)?;
            let base = ctx.config.server.base_url();
            let report_url = format!("{base}/r/{}", link.token);
            let unsubscribe_url = format!("{base}/u/{unsubscribe}");
            // Drafting goes on (the offline demo drafts on loopback); the
            // warning stays on the draft's note, and sending refuses.
            let link_warning = unsubscribe_base_problem(
                &ctx.config.server.public_base_url,
                ctx.config.sending.allow_local_unsubscribe_links,
            );
            if let Some(warning) = &link_warning {
                tracing::warn!(lead = %lead.id, %warning, "draft made with an unusable unsubscribe link");
            }
            let (source, origin) = template_source(store, &ctx.config, Some(lead.campaign))
                .map_err(StageError::permanent)?;
            let cta_url = ctx
                .config
                .effective_value(&**store, Some(lead.campaign), "report.cta_url")
                .map_err(store_error)?;
            let context = draft::context(
                &lead,
                &audit,
                previous.as_ref(),
                ctx.config.drafts.top_findings,
                &report_url,
                &unsubscribe_url,
                cta_url.as_deref(),
                sender,
            );
            let rendered = template::render(&source, &origin, &context)
                .map_err(|e| StageError::permanent(e.to_string()))?;
            let composed =
                draft::compose(&rendered, &context, &audit, self.rewriter.as_deref()).await;
            let outreach = match existing {
                Some(mut o) => {
                    o.revise(composed.subject, composed.body, composed.author, now);
                    o.status = OutreachStatus::Draft;
                    o.to = to;
                    o.report_url = report_url;
                    o.unsubscribe_url = unsubscribe_url;
                    o.model_note = composed.model_note;
                    o.note = note_after_redraft(o.note.take(), link_warning);
                    o.blocked = composed.blocked;
                    o.audit = Some(AuditRef::of(&audit));
                    o.updated_at = now;
                    o
                }
                None => Outreach {
                    report_url,
                    unsubscribe_url,
                    model_note: composed.model_note,
                    blocked: composed.blocked,
                    note: link_warning,
                    audit: Some(AuditRef::of(&audit)),
                    ..Outreach::draft(
                        lead.id,
                        lead.campaign,
                        to,
                        (composed.subject, composed.body),
                        composed.author,
                        now,
                    )
                },
            };
            store
                .put_outreach(&outreach, Some(LeadStatus::Drafted))
                .map_err(store_error)?;
            Ok(StageOutcome::Done)
        })
    }
}

/// A redraft's note: the link warning when there is one; otherwise the old
/// note, unless it was an earlier link warning that no longer holds.
fn note_after_redraft(old: Option<String>, warning: Option<String>) -> Option<String> {
    warning.or(old.filter(|n| !n.starts_with(LINK_PROBLEM_PREFIX)))
}
