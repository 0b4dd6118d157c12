//! Turns the bytes of an import file into a header and rows: encoding
//! detection, binary refusal, CSV delimiter detection, JSON and JSON Lines.

use serde_json::Value;

/// A row number (as a spreadsheet shows it: the header is row 1) and either
/// its cells or why it cannot be read.
pub type RawRow = (u64, Result<Vec<String>, String>);

pub struct Table {
    pub headers: Vec<String>,
    pub rows: Box<dyn Iterator<Item = RawRow> + Send>,
}

/// The text of a file, and how it was decoded when it was not plain UTF-8.
pub struct Decoded {
    pub text: String,
    pub note: Option<String>,
}

/// Decodes file bytes to text, refusing empty and binary files.
pub fn decode(bytes: &[u8]) -> Result<Decoded, String> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) || bytes == b"\xef\xbb\xbf" {
        return Err("the file is empty".into());
    }
    if let Some(kind) = known_binary(bytes) {
        return Err(format!("this is {kind}, not a CSV or JSON file"));
    }
    if let Some((encoding, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        if had_errors {
            return Err(format!(
                "the file starts with a {} byte-order mark but is not valid {0}",
                encoding.name()
            ));
        }
        let note = (encoding != encoding_rs::UTF_8).then(|| format!("read as {}", encoding.name()));
        return Ok(Decoded {
            text: text.into_owned(),
            note,
        });
    }
    if bytes.iter().take(8192).any(|&b| b == 0) {
        return Err(
            "the file contains binary data (NUL bytes); export it as CSV (UTF-8) or JSON".into(),
        );
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(Decoded {
            text: text.to_string(),
            note: None,
        }),
        Err(_) => {
            let mut detector =
                chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
            detector.feed(bytes, true);
            let encoding = detector.guess(None, chardetng::Utf8Detection::Allow);
            let (text, _, _) = encoding.decode(bytes);
            Ok(Decoded {
                text: text.into_owned(),
                note: Some(format!(
                    "the file is not UTF-8; read it as {}",
                    encoding.name()
                )),
            })
        }
    }
}

fn known_binary(bytes: &[u8]) -> Option<&'static str> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"%PDF", "a PDF document"),
        (
            b"PK\x03\x04",
            "a zip archive (an .xlsx spreadsheet? save it as CSV first)",
        ),
        (
            b"\xd0\xcf\x11\xe0",
            "an old Excel/Office file (save it as CSV first)",
        ),
        (b"\x1f\x8b", "a gzip archive (unpack it first)"),
        (b"\x89PNG", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"\x7fELF", "a program"),
        (b"SQLite format 3", "a SQLite database"),
    ];
    MAGIC
        .iter()
        .find(|(m, _)| bytes.starts_with(m))
        .map(|(_, k)| *k)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

/// The format by file extension, else by the first character.
pub fn detect_format(file_name: &str, text: &str) -> Format {
    let lower = file_name.to_ascii_lowercase();
    if [".json", ".jsonl", ".ndjson"]
        .iter()
        .any(|e| lower.ends_with(e))
    {
        return Format::Json;
    }
    if [".csv", ".tsv", ".txt"].iter().any(|e| lower.ends_with(e)) {
        return Format::Csv;
    }
    match text.trim_start().chars().next() {
        Some('[' | '{') => Format::Json,
        _ => Format::Csv,
    }
}

pub fn parse(text: String, format: Format) -> Result<Table, String> {
    match format {
        Format::Csv => parse_csv(text),
        Format::Json => parse_json(&text),
    }
}

const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// Picks the delimiter whose first rows have the most consistent field
/// count (and, among equals, the most fields).
pub fn detect_delimiter(text: &str) -> u8 {
    let sample_end = text
        .char_indices()
        .filter(|&(_, c)| c == '\n')
        .nth(50)
        .map_or(text.len(), |(i, _)| i + 1);
    let sample = &text[..sample_end];
    let mut best = (b',', 0usize, 0usize);
    for delimiter in DELIMITERS {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(sample.as_bytes());
        let counts: Vec<usize> = reader
            .records()
            .filter_map(|r| r.ok())
            .map(|r| r.len())
            .collect();
        let Some(&width) = counts.first() else {
            continue;
        };
        if width < 2 {
            continue;
        }
        let consistent = counts.iter().filter(|&&c| c == width).count();
        if (consistent, width) > (best.1, best.2) {
            best = (delimiter, consistent, width);
        }
    }
    best.0
}

fn parse_csv(text: String) -> Result<Table, String> {
    let delimiter = detect_delimiter(&text);
    let unbalanced_quotes = text.bytes().filter(|&b| b == b'"').count() % 2 == 1;
    let reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(std::io::Cursor::new(text.into_bytes()));
    let mut records = reader.into_records();
    let headers: Vec<String> = match records.next() {
        Some(Ok(record)) => record.iter().map(str::to_string).collect(),
        Some(Err(e)) => return Err(format!("cannot read the header row: {e}")),
        None => return Err("the file is empty".into()),
    };
    let width = headers.len();
    let mut records = records.peekable();
    let mut row = 1u64;
    let rows = std::iter::from_fn(move || {
        let record = records.next()?;
        row += 1;
        let is_last = records.peek().is_none();
        let cells = match record {
            Err(e) => Err(format!("cannot read the row: {e}")),
            Ok(record) => {
                let cells: Vec<String> = record.iter().map(str::to_string).collect();
                if is_last && unbalanced_quotes && cells.iter().any(|c| c.contains('\n')) {
                    Err("a quoted field opened in this row is never closed, so the rest of the file was read into it; close the quote and import again".to_string())
                } else {
                    check_width(cells, width)
                }
            }
        };
        Some((row, cells))
    });
    Ok(Table {
        headers,
        rows: Box::new(rows),
    })
}

/// Rows must have as many fields as the header; extra empty trailing fields
/// (spreadsheets add them) are forgiven.
fn check_width(mut cells: Vec<String>, width: usize) -> Result<Vec<String>, String> {
    while cells.len() > width && cells.last().is_some_and(|c| c.trim().is_empty()) {
        cells.pop();
    }
    if cells.len() != width {
        return Err(format!(
            "the row has {} fields, the header has {width}",
            cells.len()
        ));
    }
    Ok(cells)
}

type JsonObject = serde_json::Map<String, Value>;

fn parse_json(text: &str) -> Result<Table, String> {
    let trimmed = text.trim_start();
    let objects: Vec<(u64, Result<JsonObject, String>)> = if trimmed.starts_with('[') {
        let values: Vec<Value> =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i as u64 + 1, as_object(v)))
            .collect()
    } else {
        text.lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(i, line)| {
                let parsed = serde_json::from_str::<Value>(line)
                    .map_err(|e| format!("not valid JSON: {e}"))
                    .and_then(as_object);
                (i as u64 + 1, parsed)
            })
            .collect()
    };
    if objects.is_empty() {
        return Err("the file has no records".into());
    }
    let mut headers: Vec<String> = Vec::new();
    for (_, object) in &objects {
        if let Ok(object) = object {
            for key in object.keys() {
                if !headers.contains(key) {
                    headers.push(key.clone());
                }
            }
        }
    }
    if headers.is_empty() {
        return Err("no record is a JSON object with fields".into());
    }
    let columns = headers.clone();
    let rows = objects.into_iter().map(move |(row, object)| {
        let cells = object.map(|mut object| {
            columns
                .iter()
                .map(|key| object.remove(key).map(cell_text).unwrap_or_default())
                .collect()
        });
        (row, cells)
    });
    Ok(Table {
        headers,
        rows: Box::new(rows),
    })
}

fn as_object(value: Value) -> Result<JsonObject, String> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(format!(
            "expected a JSON object, found {}",
            json_kind(&other)
        )),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn cell_text(value: Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s,
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_rows(table: Table) -> Vec<RawRow> {
        table.rows.collect()
    }

    #[test]
    fn delimiters_are_detected() {
        assert_eq!(detect_delimiter("a,b,c\n1,2,3\n"), b',');
        assert_eq!(detect_delimiter("a;b;c\n1;2,5;3\n"), b';');
        assert_eq!(detect_delimiter("a\tb\n1\t2\n"), b'\t');
        assert_eq!(detect_delimiter("a|b\n1|2\n"), b'|');
        assert_eq!(detect_delimiter("website\nx.com\n"), b',');
    }

    #[test]
    fn quoted_fields_keep_commas_and_newlines() {
        let table = parse(
            "name,website\n\"Smith, Jones\",a.com\n\"Two\nLines\",b.com\n".into(),
            Format::Csv,
        )
        .unwrap();
        let rows = all_rows(table);
        assert_eq!(
            rows[0],
            (2, Ok(vec!["Smith, Jones".to_string(), "a.com".to_string()]))
        );
        assert_eq!(rows[1].1.as_ref().unwrap()[0], "Two\nLines");
    }

    #[test]
    fn an_unclosed_quote_rejects_its_row_only() {
        let table = parse(
            "name,website\nA,a.com\n\"B,b.com\nC,c.com\n".into(),
            Format::Csv,
        )
        .unwrap();
        let rows = all_rows(table);
        assert_eq!(rows.len(), 2);
        assert!(rows[0].1.is_ok());
        assert_eq!(rows[1].0, 3);
        assert!(rows[1].1.as_ref().unwrap_err().contains("never closed"));
    }

    #[test]
    fn ragged_rows_are_rejected_with_counts() {
        let rows = all_rows(parse("a,b\n1\n1,2,,\n1,2,3\n".into(), Format::Csv).unwrap());
        assert_eq!(
            rows[0].1,
            Err("the row has 1 fields, the header has 2".to_string())
        );
        assert!(rows[1].1.is_ok(), "trailing empty fields are forgiven");
        assert_eq!(
            rows[2].1,
            Err("the row has 3 fields, the header has 2".to_string())
        );
    }

    #[test]
    fn decoding_refuses_binary_and_reads_other_encodings() {
        assert_eq!(decode(b"").err().unwrap(), "the file is empty");
        assert_eq!(decode(b"  \n").err().unwrap(), "the file is empty");
        assert!(decode(b"%PDF-1.4 ...").err().unwrap().contains("PDF"));
        assert!(
            decode(b"a,b\n\x00\x01\x02")
                .err()
                .unwrap()
                .contains("binary")
        );
        let latin1 = b"name,website\nB\xe4ckerei M\xfcller,mueller.de\n";
        let decoded = decode(latin1).unwrap();
        assert!(decoded.text.contains("Bäckerei Müller"));
        assert!(decoded.note.unwrap().contains("not UTF-8"));
        let bom = b"\xef\xbb\xbfwebsite\nx.com\n";
        assert_eq!(decode(bom).unwrap().text, "website\nx.com\n");
        let utf16: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain(
                "website\nx.com\n"
                    .encode_utf16()
                    .flat_map(|u| u.to_le_bytes()),
            )
            .collect();
        let decoded = decode(&utf16).unwrap();
        assert_eq!(decoded.text, "website\nx.com\n");
        assert_eq!(decoded.note.as_deref(), Some("read as UTF-16LE"));
    }

    #[test]
    fn json_arrays_and_lines() {
        let table = parse(
            r#"[{"name":"A","url":"a.com","rating":4.5},{"url":"b.com","extra":null},3]"#.into(),
            Format::Json,
        )
        .unwrap();
        assert_eq!(table.headers, vec!["name", "url", "rating", "extra"]);
        let rows = all_rows(table);
        assert_eq!(rows[0].1.as_ref().unwrap(), &vec!["A", "a.com", "4.5", ""]);
        assert_eq!(
            rows[2].1,
            Err("expected a JSON object, found a number".to_string())
        );

        let table = parse(
            "{\"website\":\"a.com\"}\n\n{oops\n{\"website\":\"b.com\"}\n".into(),
            Format::Json,
        )
        .unwrap();
        let rows = all_rows(table);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].0, 3);
        assert!(
            rows[1]
                .1
                .as_ref()
                .unwrap_err()
                .starts_with("not valid JSON")
        );
        assert!(parse("[1,".into(), Format::Json).is_err());
    }
}
