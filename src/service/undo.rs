//! Taking a change back: a rejected email returns to draft (the TUI's undo
//! after a reject, and any later change of mind). Undoing a blacklist entry
//! is `blacklist_remove`, which already gives the leads their status back.

use super::{Result, Service, ServiceError};
use crate::domain::LeadStatus;
use crate::domain::outreach::OutreachStatus;

impl Service {
    /// Moves rejected emails back to draft, their text untouched; the lead
    /// returns to `drafted` unless something else moved it on since (a
    /// blacklisted lead stays blacklisted). Returns the business names of
    /// the leads whose email was restored. Nothing changes when any
    /// reference is not a rejected email.
    pub async fn restore_outreach(&self, references: &[String]) -> Result<Vec<String>> {
        let mut leads = Vec::new();
        for r in references {
            let lead = self.resolve_lead(r)?;
            let status = self.store().outreach(lead.id)?.map(|o| o.status);
            if status != Some(OutreachStatus::Rejected) {
                return Err(ServiceError::Conflict(format!(
                    "the email to {} is {}; only rejected emails go back to draft",
                    lead.business_name,
                    status.map_or("missing".to_string(), |s| s.to_string())
                )));
            }
            leads.push(lead);
        }
        let now = self.now();
        let mut restored = Vec::new();
        for lead in &leads {
            let changed = self.store().modify_outreach(
                lead.id,
                |o| {
                    if o.status != OutreachStatus::Rejected {
                        return false;
                    }
                    o.status = OutreachStatus::Draft;
                    o.updated_at = now;
                    true
                },
                |o| (o.status == OutreachStatus::Draft).then_some(LeadStatus::Drafted),
            )?;
            if changed.is_some_and(|o| o.status == OutreachStatus::Draft) {
                restored.push(lead.business_name.clone());
            }
        }
        let campaign = match leads.first() {
            Some(lead) => Some(self.campaign_slug(lead.campaign)?),
            None => None,
        };
        self.log_action(
            "restore",
            campaign.as_deref(),
            references.join(","),
            format!("back to draft: {}", restored.join(", ")),
        )?;
        self.store().flush().await?;
        Ok(restored)
    }
}
