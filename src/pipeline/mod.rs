//! Stage logic as plain async functions: fetch, audit, browser, draft and
//! send. No apalis types and no store: inputs in, results out.
//!
//! Uses `domain` and `config` only.

pub mod audit;
pub mod browser;
pub mod draft;
pub mod fetch;
pub mod inbox;
pub mod lab;
pub mod robots;
pub mod send;
pub mod verify;
