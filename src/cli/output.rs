//! Printing: aligned tables for people, JSON for scripts.

use std::io::Write;

use color_eyre::eyre::{Result, WrapErr};
use comfy_table::{Table, presets};
use serde::Serialize;

pub struct Out {
    pub json: bool,
}

impl Out {
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    /// Prints a value as pretty JSON on stdout.
    pub fn json<T: Serialize + ?Sized>(&self, value: &T) -> Result<()> {
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        serde_json::to_writer_pretty(&mut lock, value).wrap_err("cannot write JSON")?;
        writeln!(lock).wrap_err("cannot write to stdout")?;
        Ok(())
    }

    /// Prints a borderless table with a header row.
    pub fn table<R, C>(&self, header: &[&str], rows: R) -> Result<()>
    where
        R: IntoIterator<Item = C>,
        C: IntoIterator<Item = String>,
    {
        let mut table = Table::new();
        table.load_style(presets::NOTHING);
        table.set_header(header.iter().map(|h| h.to_uppercase()));
        for row in rows {
            table.add_row(row.into_iter().collect::<Vec<_>>());
        }
        let text = table.to_string();
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        for line in text.lines() {
            writeln!(lock, "{}", line.trim_end()).wrap_err("cannot write to stdout")?;
        }
        Ok(())
    }

    /// Prints `key: value` lines with aligned values.
    pub fn fields(&self, fields: &[(&str, String)]) -> Result<()> {
        let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        for (key, value) in fields {
            let value = if value.is_empty() {
                "-"
            } else {
                value.as_str()
            };
            writeln!(lock, "{key:<width$}  {value}").wrap_err("cannot write to stdout")?;
        }
        Ok(())
    }

    /// Prints a hint on stderr, so stdout stays just the answer (nothing in
    /// JSON mode).
    pub fn note(&self, line: impl AsRef<str>) {
        if !self.json {
            eprintln!("note: {}", line.as_ref());
        }
    }

    /// Prints one line for people (nothing in JSON mode).
    pub fn say(&self, line: impl AsRef<str>) {
        if !self.json {
            println!("{}", line.as_ref());
        }
    }
}

/// `Some(x)` as text, `None` as an empty cell.
pub fn opt<T: ToString>(value: &Option<T>) -> String {
    value.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// A timestamp to the minute, for tables.
pub fn when(ts: &jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%d %H:%M").to_string()
}

/// Shortens text for a table cell.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
