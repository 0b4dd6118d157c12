//! Exports a campaign's leads as CSV or JSON Lines.

use std::collections::BTreeSet;
use std::io::Write;

use super::{LeadDetail, Result, Service, ServiceError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

/// The fixed columns of a CSV export; imported attributes follow them.
pub const CSV_COLUMNS: &[&str] = &[
    "id",
    "campaign",
    "business_name",
    "website",
    "domain",
    "email",
    "phone",
    "city",
    "category",
    "status",
    "score",
    "created_at",
    "source",
];

impl Service {
    /// Writes every lead of the campaign; returns how many.
    pub async fn export(
        &self,
        campaign: &str,
        format: ExportFormat,
        out: &mut dyn Write,
    ) -> Result<u64> {
        self.export_blocking(campaign, format, out)
    }

    /// The export without a runtime: for a blocking thread whose writer
    /// may wait (the control socket's stream).
    pub(crate) fn export_blocking(
        &self,
        campaign: &str,
        format: ExportFormat,
        out: &mut dyn Write,
    ) -> Result<u64> {
        let campaign = self.campaign_by_slug(campaign)?;
        let store = self.store();
        let write_err = |e: std::io::Error| ServiceError::io("cannot write the export", e);
        let mut count = 0;
        match format {
            ExportFormat::Jsonl => {
                for id in store.campaign_lead_ids(campaign.id, None) {
                    let Some(lead) = store.lead(id?)? else {
                        continue;
                    };
                    let detail = self.detail(lead)?;
                    serde_json::to_writer(&mut *out, &detail).map_err(|e| write_err(e.into()))?;
                    out.write_all(b"\n").map_err(write_err)?;
                    count += 1;
                }
            }
            ExportFormat::Csv => {
                let mut attributes = BTreeSet::new();
                for id in store.campaign_lead_ids(campaign.id, None) {
                    if let Some(lead) = store.lead(id?)? {
                        attributes.extend(lead.attributes.into_keys());
                    }
                }
                let mut writer = csv::Writer::from_writer(&mut *out);
                let header = CSV_COLUMNS
                    .iter()
                    .map(|c| c.to_string())
                    .chain(attributes.iter().cloned());
                writer
                    .write_record(header)
                    .map_err(|e| write_err(e.into()))?;
                for id in store.campaign_lead_ids(campaign.id, None) {
                    let Some(lead) = store.lead(id?)? else {
                        continue;
                    };
                    let d: LeadDetail = self.detail(lead)?;
                    let v = &d.lead;
                    let fixed = [
                        v.id.to_string(),
                        v.campaign.clone(),
                        v.business_name.clone(),
                        v.website.clone(),
                        v.domain.clone(),
                        v.email.clone().unwrap_or_default(),
                        v.phone.clone().unwrap_or_default(),
                        v.city.clone().unwrap_or_default(),
                        v.category.clone().unwrap_or_default(),
                        v.status.to_string(),
                        v.score.map(|s| s.to_string()).unwrap_or_default(),
                        v.created_at.to_string(),
                        d.source.to_string(),
                    ];
                    let extra = attributes
                        .iter()
                        .map(|k| d.attributes.get(k).cloned().unwrap_or_default());
                    writer
                        .write_record(fixed.into_iter().chain(extra))
                        .map_err(|e| write_err(e.into()))?;
                    count += 1;
                }
                writer.flush().map_err(write_err)?;
            }
        }
        Ok(count)
    }
}
