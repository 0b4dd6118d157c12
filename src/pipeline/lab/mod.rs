//! A Lighthouse-style mobile estimate from one fast page load, as pure code.
//!
//! Owns: the trace shape the browser stage will record ([`trace`]) and
//! Lighthouse 12's scoring ([`score`]). No I/O and no browser.

pub mod score;
pub mod trace;
