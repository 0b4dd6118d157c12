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

/// An error and its causes on one line, each said once: the causes often
/// hold the reason (a library's own text may say only "client error").
pub(crate) fn error_text(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}
