//! Printing: aligned tables for people, JSON for scripts. Every value
//! printed for people goes through [`printable`], so text a website or an
//! import put in the store cannot drive the terminal.

use std::borrow::Cow;
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
            table.add_row(
                row.into_iter()
                    .map(|cell| printable(&cell, false).into_owned())
                    .collect::<Vec<_>>(),
            );
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
                Cow::Borrowed("-")
            } else {
                printable(value, false)
            };
            writeln!(lock, "{key:<width$}  {value}").wrap_err("cannot write to stdout")?;
        }
        Ok(())
    }

    /// Prints a hint on stderr, so stdout stays just the answer (nothing in
    /// JSON mode).
    pub fn note(&self, line: impl AsRef<str>) {
        if !self.json {
            eprintln!("note: {}", printable(line.as_ref(), true));
        }
    }

    /// Prints one line for people (nothing in JSON mode).
    pub fn say(&self, line: impl AsRef<str>) {
        if !self.json {
            println!("{}", printable(line.as_ref(), true));
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

/// `text` safe for a terminal: control characters (ESC, BEL, CR, DEL, the
/// C1 range) and invisible bidi controls are shown as escapes (`\x1b`,
/// `\u{202e}`) instead of being sent raw. With `keep_lines`, line breaks
/// and tabs stay (an email body); without, they are escaped too (a cell).
pub fn printable(text: &str, keep_lines: bool) -> Cow<'_, str> {
    let bad = |c: char| {
        (c.is_control() && !(keep_lines && (c == '\n' || c == '\t')))
            || crate::domain::text::is_invisible_format(c)
    };
    if !text.chars().any(bad) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' if !keep_lines => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' if !keep_lines => out.push_str("\\t"),
            c if bad(c) && (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if bad(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(printable("plain", false), "plain");
        assert_eq!(printable("a\u{1b}[2Jb\u{7}", false), "a\\x1b[2Jb\\x07");
        assert_eq!(printable("x\ny\r", false), "x\\ny\\r");
        assert_eq!(printable("x\ny\tz", true), "x\ny\tz");
        assert_eq!(printable("\u{9b}31m \u{202e}", true), "\\x9b31m \\u{202e}");
    }
}
