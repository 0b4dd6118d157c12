//! Stage logic as plain async functions: fetch, audit (and, as they land,
//! browser, report, draft, send). No apalis types and no store: inputs in,
//! results out.
//!
//! Uses `domain` and `config` only.

pub mod audit;
pub mod browser;
pub mod fetch;
