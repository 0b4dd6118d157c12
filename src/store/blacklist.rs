//! The do-not-contact list, keyed `kind:value`.

use super::codec::{decode, encode};
use super::keys;
use super::{Result, Store};
use crate::domain::blacklist::{BlacklistSet, keys_for};
use crate::domain::{BlacklistEntry, BlacklistKind, Domain, Email};

impl Store {
    /// Adds an entry; returns `false` (and keeps the older entry) when the
    /// value is already listed.
    pub fn add_blacklist(&self, entry: &BlacklistEntry) -> Result<bool> {
        let key = keys::blacklist(entry.kind, &entry.value);
        let previous = self.trees.blacklist.compare_and_swap(
            key,
            None as Option<&[u8]>,
            Some(encode(entry)),
        )?;
        Ok(previous.is_ok())
    }

    /// Removes an entry; returns the removed one.
    pub fn remove_blacklist(
        &self,
        kind: BlacklistKind,
        value: &str,
    ) -> Result<Option<BlacklistEntry>> {
        let key = keys::blacklist(kind, value);
        self.trees
            .blacklist
            .remove(&key)?
            .map(|v| decode("blacklist", &key, &v))
            .transpose()
    }

    pub fn blacklist(&self) -> Result<Vec<BlacklistEntry>> {
        self.trees
            .blacklist
            .iter()
            .map(|item| {
                let (k, v) = item?;
                decode("blacklist", &k, &v)
            })
            .collect()
    }

    /// The entry that blocks contact with a site/email, if any.
    pub fn blocking_entry(
        &self,
        domain: &Domain,
        email: Option<&Email>,
    ) -> Result<Option<BlacklistEntry>> {
        for (kind, value) in keys_for(domain, email) {
            let key = keys::blacklist(kind, &value);
            if let Some(bytes) = self.trees.blacklist.get(&key)? {
                return Ok(Some(decode("blacklist", &key, &bytes)?));
            }
        }
        Ok(None)
    }

    /// The whole blacklist in memory, for bulk checks.
    pub fn blacklist_set(&self) -> Result<BlacklistSet> {
        Ok(BlacklistSet::new(self.blacklist()?))
    }

    pub fn blacklist_len(&self) -> usize {
        self.trees.blacklist.len()
    }
}
