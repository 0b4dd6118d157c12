//! The address check as the draft stage and the sender use it: a stored
//! answer while it is fresh for the same address, else a new DNS check
//! (`pipeline::verify`) that is kept on the lead. Each user decides what a
//! "not known" answer means for it.

use tokio::sync::OnceCell;

use crate::config::VerifyConfig;
use crate::domain::address_check::AddressCheck;
use crate::domain::{Email, Lead, Timestamp};
use crate::pipeline::verify::MailDns;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// No resolver could be made from `[verify]`.
    #[error(
        "cannot check addresses: {0}; fix [verify] in config.toml, or set verify.enabled = false"
    )]
    Setup(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One per stage or send: its resolver (made on first use, since it needs
/// the runtime) caches answers across leads.
#[derive(Default)]
pub struct AddressGate {
    dns: OnceCell<Result<MailDns, String>>,
}

impl AddressGate {
    /// The check that answers for mail to `to` now, `None` when checks are
    /// off. A new check is stored on the lead before it is returned.
    pub async fn current(
        &self,
        store: &Store,
        config: &VerifyConfig,
        lead: &Lead,
        to: &Email,
        now: Timestamp,
    ) -> Result<Option<AddressCheck>, GateError> {
        if !config.enabled {
            return Ok(None);
        }
        if let Some(check) = &lead.address_check
            && check.is_fresh_for(to, now, config.recheck_after)
        {
            return Ok(Some(check.clone()));
        }
        let dns = self
            .dns
            .get_or_init(|| async { MailDns::new(config) })
            .await
            .as_ref()
            .map_err(|reason| GateError::Setup(reason.clone()))?;
        let check = dns.check(to, now).await;
        let stored = check.clone();
        store.modify_lead(lead.id, move |l| l.address_check = Some(stored.clone()))?;
        Ok(Some(check))
    }
}
