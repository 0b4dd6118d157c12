//! Who is acting: the OS user and the way in (a command, the TUI, a
//! client of the control socket), read-only or not; and the append-only
//! action log every change that affects what is sent, or to whom, writes.

use std::sync::Arc;

use super::{Result, Service, ServiceError};
use crate::domain::action_log::{ActionRecord, Actor};

/// The name of an OS user, asked of NSS (so LDAP, sssd and systemd-homed
/// users have names too, not only those in /etc/passwd); `uid N` when it
/// has none.
pub fn user_name(uid: u32) -> String {
    uzers::get_user_by_uid(uid)
        .map(|user| user.name().to_string_lossy().into_owned())
        .unwrap_or_else(|| format!("uid {uid}"))
}

/// The effective uid of this process.
pub fn own_uid() -> u32 {
    uzers::get_effective_uid()
}

/// The name of this process's user, looked up once.
pub fn own_user() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| user_name(own_uid()))
}

/// This process's user acting through `via`.
pub fn local_actor(via: &str, read_only: bool) -> Actor {
    Actor {
        user: own_user().to_string(),
        via: via.to_string(),
        read_only,
    }
}

impl Service {
    /// The same service acting for someone else (each command, the TUI,
    /// each call on the control socket).
    pub fn with_actor(&self, actor: Actor) -> Service {
        let mut service = self.clone();
        service.actor = Arc::new(actor);
        service
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Refuses a change in read-only mode, naming it.
    pub(crate) fn refuse_if_read_only(&self, what: &str) -> Result<()> {
        if self.actor.read_only {
            return Err(ServiceError::ReadOnly(format!(
                "read-only: {} changes data and is refused; browsing, filtering and reading work (drop --read-only to make changes)",
                what.replace('_', " ")
            )));
        }
        Ok(())
    }

    /// Appends to the action log; flushed with the change it records.
    pub(crate) fn log_action(
        &self,
        action: &str,
        campaign: Option<&str>,
        target: impl Into<String>,
        change: impl Into<String>,
    ) -> Result<()> {
        let record = ActionRecord {
            at: self.now(),
            user: self.actor.user.clone(),
            via: self.actor.via.clone(),
            action: action.to_string(),
            campaign: campaign.map(str::to_string),
            target: target.into(),
            change: change.into(),
        };
        self.store().append_action(self.new_ulid(), &record)?;
        Ok(())
    }

    /// The action log, oldest first: the newest `limit` records, of one
    /// campaign when given. A campaign's log includes the records that
    /// concern every campaign (blacklist entries, global settings): they
    /// change what that campaign sends, or to whom.
    pub async fn action_log(
        &self,
        campaign: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ActionRecord>> {
        if let Some(slug) = campaign {
            self.campaign_by_slug(slug)?;
        }
        Ok(self.store().actions(limit, |r| {
            campaign.is_none_or(|c| r.campaign.as_deref().is_none_or(|rc| rc == c))
        })?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_come_from_nss() {
        assert_eq!(user_name(0), "root", "every system names uid 0");
        // No account system hands out the last uid: it means "no user".
        assert_eq!(user_name(u32::MAX), format!("uid {}", u32::MAX));
    }
}
