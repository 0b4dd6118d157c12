//! Blacklist use cases. Adding an entry marks every matching lead
//! `blacklisted` at once; removing it gives those leads their earlier status
//! back unless another entry still blocks them.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{RejectedRow, Result, Service, ServiceError};
use crate::domain::blacklist::BlacklistValue;
use crate::domain::{BlacklistEntry, BlacklistReason, LeadStatus};

/// What `blacklist add` did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlacklistAdded {
    pub entry: BlacklistEntry,
    /// False when the value was already listed (the older entry is kept).
    pub added: bool,
    /// Leads that became `blacklisted`.
    pub leads_blacklisted: u64,
    /// Their business names, so a face can say which (absent in answers
    /// from older hosts).
    #[serde(default)]
    pub leads: Vec<String>,
}

/// What `blacklist import` did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BlacklistImport {
    pub added: u64,
    pub already_listed: u64,
    pub leads_blacklisted: u64,
    pub rejected: Vec<RejectedRow>,
}

impl Service {
    pub async fn blacklist_add(
        &self,
        value: &str,
        reason: BlacklistReason,
        source: &str,
    ) -> Result<BlacklistAdded> {
        let value =
            BlacklistValue::parse(value).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let added = self.blacklist_add_blocking(&value, reason, source)?;
        self.log_action(
            "blacklist_add",
            None,
            value.to_string(),
            if added.added {
                format!(
                    "{} {value} blacklisted ({reason}); {} lead(s) blacklisted",
                    value.kind(),
                    added.leads_blacklisted
                )
            } else {
                format!("{} {value} was already blacklisted", value.kind())
            },
        )?;
        self.store().flush().await?;
        Ok(added)
    }

    /// Adds one value without flushing (callers flush once at the end).
    pub(crate) fn blacklist_add_value(
        &self,
        value: &BlacklistValue,
        reason: BlacklistReason,
        source: &str,
    ) -> Result<BlacklistAdded> {
        self.blacklist_add_blocking(value, reason, source)
    }

    fn blacklist_add_blocking(
        &self,
        value: &BlacklistValue,
        reason: BlacklistReason,
        source: &str,
    ) -> Result<BlacklistAdded> {
        let entry = BlacklistEntry {
            kind: value.kind(),
            value: value.as_str().to_string(),
            reason,
            source: source.to_string(),
            created_at: self.now(),
        };
        let added = self.store().add_blacklist(&entry)?;
        let leads = self.sync_blacklisted_leads()?;
        Ok(BlacklistAdded {
            entry,
            added,
            leads_blacklisted: leads.len() as u64,
            leads,
        })
    }

    pub async fn blacklist_list(&self) -> Result<Vec<BlacklistEntry>> {
        Ok(self.store().blacklist()?)
    }

    /// Removes an entry; returns it, or an error when nothing matched.
    pub async fn blacklist_remove(&self, value: &str) -> Result<BlacklistEntry> {
        let parsed =
            BlacklistValue::parse(value).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let removed = self
            .store()
            .remove_blacklist(parsed.kind(), parsed.as_str())?
            .ok_or_else(|| {
                ServiceError::NotFound(format!(
                    "{} {parsed} is not on the blacklist",
                    parsed.kind()
                ))
            })?;
        self.sync_blacklisted_leads()?;
        self.log_action(
            "blacklist_remove",
            None,
            parsed.to_string(),
            format!("{} {parsed} may be contacted again", parsed.kind()),
        )?;
        self.store().flush().await?;
        Ok(removed)
    }

    /// Imports one value per line (blank lines and `#` comments skipped; in
    /// a CSV line the first field that parses is taken).
    pub async fn blacklist_import(
        &self,
        path: &Path,
        reason: BlacklistReason,
    ) -> Result<BlacklistImport> {
        let shown = path.display();
        let bytes =
            std::fs::read(path).map_err(|e| ServiceError::io(format!("cannot read {shown}"), e))?;
        let text = super::import::read::decode(&bytes)
            .map_err(|e| ServiceError::Invalid(format!("{shown}: {e}")))?
            .text;
        let source = format!(
            "import {}",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        );
        let mut report = BlacklistImport::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let parsed = line
                .split([',', ';', '\t'])
                .map(|f| f.trim().trim_matches('"'))
                .find_map(|f| BlacklistValue::parse(f).ok());
            let Some(value) = parsed else {
                if i == 0 {
                    continue; // a header line such as `email` or `domain`
                }
                report.rejected.push(RejectedRow {
                    row: i as u64 + 1,
                    reason: format!("`{line}` is neither an email address nor a domain"),
                });
                continue;
            };
            let entry = BlacklistEntry {
                kind: value.kind(),
                value: value.as_str().to_string(),
                reason,
                source: source.clone(),
                created_at: self.now(),
            };
            if self.store().add_blacklist(&entry)? {
                report.added += 1;
            } else {
                report.already_listed += 1;
            }
        }
        report.leads_blacklisted = self.sync_blacklisted_leads()?.len() as u64;
        self.store().flush().await?;
        Ok(report)
    }

    /// Brings every lead's status in line with the blacklist: blocked leads
    /// become `blacklisted`, unblocked ones get their earlier status back.
    /// Returns the names of the leads that became blacklisted.
    fn sync_blacklisted_leads(&self) -> Result<Vec<String>> {
        let store = self.store();
        let blacklist = store.blacklist_set()?;
        let mut newly = Vec::new();
        // sled iterators see a consistent snapshot without holding locks, so
        // updating while scanning is safe.
        for lead in store.all_leads() {
            let mut lead = lead?;
            let entry = blacklist.blocking(&lead.domain, lead.email.as_ref());
            let blocked = entry.is_some();
            let is_blacklisted = lead.status == LeadStatus::Blacklisted;
            if let Some(entry) = entry.filter(|_| !is_blacklisted) {
                // No follow-up to a blacklisted lead, ever (a later removal
                // from the blacklist does not restart the sequence).
                self.stop_sequence(
                    lead.id,
                    &format!("blacklisted: {} ({})", entry.value, entry.reason),
                )?;
            }
            if blocked && !is_blacklisted {
                lead.status_before_blacklist = Some(lead.status);
                lead.status = LeadStatus::Blacklisted;
                newly.push(lead.business_name.clone());
            } else if !blocked && is_blacklisted {
                lead.status = lead
                    .status_before_blacklist
                    .take()
                    .unwrap_or(LeadStatus::New);
            } else {
                continue;
            }
            lead.updated_at = self.now();
            store.update_lead(&lead)?;
        }
        Ok(newly)
    }
}
