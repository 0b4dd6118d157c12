//! The control protocol in one place: the wire format (`wire`), the client
//! end that attaching processes hold (`client`, [`Remote`]), the server end
//! the host runs (`server`, [`ControlServer`]) and the server side of the
//! streaming calls (`streams`). Which calls exist, and whether each reads
//! or writes or carries a file, is declared once in `service::api`; both
//! ends are generated from that table, so the read-only guard and the body
//! caps apply to every call by construction.
//!
//! Part of `service`: uses `domain` and the use cases; never `cli`, `tui`
//! or `web`.

mod client;
mod server;
pub(crate) mod streams;
pub mod wire;

pub use client::{Link, Remote};
pub use server::{ControlError, ControlServer};
