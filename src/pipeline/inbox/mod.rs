//! Reading the operator's inbox: the IMAP conversation (`imap.rs`), waiting
//! for new mail with IDLE (`idle.rs`), and what
//! each message is (`classify.rs`, pure; `dates.rs` for an out-of-office's
//! return date). No store: the jobs layer tracks what was read and the
//! service applies it to leads.
//!
//! Uses `domain` and `config` only.

mod classify;
mod dates;
mod idle;
mod imap;

pub use classify::classify;
pub use dates::return_date;
pub use idle::{Idling, Wake};
pub use imap::{Fetched, ImapError, Mailbox, Selected};
