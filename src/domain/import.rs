//! The rules of an import, independent of the file format: which column is
//! which field, and whether a row makes a valid lead.

use std::collections::{BTreeMap, HashMap};

use super::{Domain, Email, Website};

/// The lead fields an import can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Name,
    Website,
    Email,
    Phone,
    City,
    Category,
}

impl Field {
    const ALL: [Field; 6] = [
        Self::Name,
        Self::Website,
        Self::Email,
        Self::Phone,
        Self::City,
        Self::Category,
    ];

    /// Header names that mean this field, best first. When two present
    /// columns mean the same field, the better one wins and the other is
    /// kept as an attribute.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Self::Name => &[
                "name",
                "business name",
                "business",
                "company name",
                "company",
                "organisation",
                "organization",
            ],
            Self::Website => &[
                "website",
                "url",
                "site",
                "web",
                "homepage",
                "website url",
                "domain",
            ],
            Self::Email => &["email", "e-mail", "email address", "e-mail address", "mail"],
            Self::Phone => &["phone", "telephone", "tel", "phone number", "mobile"],
            Self::City => &["city", "town", "location"],
            Self::Category => &["category", "industry", "type"],
        }
    }
}

/// The largest field accepted; bigger ones reject their row.
pub const MAX_FIELD_BYTES: usize = 64 * 1024;

/// Header cells normalised for matching: trimmed, lowercase, with `_` and
/// runs of spaces read as one space.
pub fn normalise_header(raw: &str) -> String {
    let cleaned = raw
        .trim_start_matches('\u{feff}')
        .trim()
        .to_lowercase()
        .replace('_', " ");
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Which column holds which field; the rest are attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMap {
    fields: HashMap<Field, usize>,
    /// (column index, attribute name as written in the header)
    attributes: Vec<(usize, String)>,
    width: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error(
        "the header has no website column (looked for: website, url, site, web, homepage, domain); columns found: {found}"
    )]
    NoWebsite { found: String },
    #[error(
        "column `{name}` appears twice in the header (columns {first} and {second}); rename one"
    )]
    Duplicate {
        name: String,
        first: usize,
        second: usize,
    },
}

impl ColumnMap {
    pub fn from_headers<S: AsRef<str>>(headers: &[S]) -> Result<Self, HeaderError> {
        let normalised: Vec<String> = headers
            .iter()
            .map(|h| normalise_header(h.as_ref()))
            .collect();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, name) in normalised.iter().enumerate() {
            if name.is_empty() {
                continue;
            }
            if let Some(first) = seen.insert(name, i) {
                return Err(HeaderError::Duplicate {
                    name: headers[i].as_ref().trim().to_string(),
                    first: first + 1,
                    second: i + 1,
                });
            }
        }
        let mut fields = HashMap::new();
        for field in Field::ALL {
            let column = field
                .aliases()
                .iter()
                .find_map(|alias| normalised.iter().position(|h| h == alias));
            if let Some(column) = column {
                fields.insert(field, column);
            }
        }
        if !fields.contains_key(&Field::Website) {
            let found = headers
                .iter()
                .map(|h| h.as_ref().trim().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(HeaderError::NoWebsite { found });
        }
        let used: Vec<usize> = fields.values().copied().collect();
        let attributes = headers
            .iter()
            .enumerate()
            .filter(|(i, _)| !used.contains(i))
            .map(|(i, h)| {
                let name = h.as_ref().trim_start_matches('\u{feff}').trim();
                let name = if name.is_empty() {
                    format!("column {}", i + 1)
                } else {
                    name.to_string()
                };
                (i, name)
            })
            .collect();
        Ok(Self {
            fields,
            attributes,
            width: headers.len(),
        })
    }

    pub fn width(&self) -> usize {
        self.width
    }

    pub fn column(&self, field: Field) -> Option<usize> {
        self.fields.get(&field).copied()
    }

    pub fn attribute_names(&self) -> impl Iterator<Item = &str> {
        self.attributes.iter().map(|(_, n)| n.as_str())
    }

    /// Builds the lead fields of one row, or says why the row is rejected.
    /// `cell(i)` returns the value of column `i` (empty when missing).
    pub fn read_row<'a>(&self, cell: impl Fn(usize) -> &'a str) -> Result<RowFields, String> {
        for i in 0..self.width {
            let len = cell(i).len();
            if len > MAX_FIELD_BYTES {
                return Err(format!(
                    "field `{}` is {len} bytes, over the {MAX_FIELD_BYTES}-byte limit",
                    self.header_name(i)
                ));
            }
        }
        let get = |field: Field| self.column(field).map(&cell).and_then(meaningful);
        let website_raw = get(Field::Website).ok_or("no website")?;
        let website = Website::parse(website_raw).map_err(|e| format!("invalid website: {e}"))?;
        let email = get(Field::Email)
            .map(Email::parse)
            .transpose()
            .map_err(|e| format!("invalid email: {e}"))?;
        let phone = get(Field::Phone).map(check_phone).transpose()?;
        let domain = website.domain();
        let business_name = get(Field::Name)
            .map(one_line)
            .unwrap_or_else(|| domain.to_string());
        let attributes = self
            .attributes
            .iter()
            .filter_map(|(i, name)| meaningful(cell(*i)).map(|v| (name.clone(), v.to_string())))
            .collect();
        Ok(RowFields {
            business_name,
            domain,
            website,
            email,
            phone,
            city: get(Field::City).map(one_line),
            category: get(Field::Category).map(one_line),
            attributes,
        })
    }

    fn header_name(&self, column: usize) -> String {
        if let Some((_, name)) = self.attributes.iter().find(|(i, _)| *i == column) {
            return name.clone();
        }
        Field::ALL
            .iter()
            .find(|f| self.column(**f) == Some(column))
            .map(|f| f.aliases()[0].to_string())
            .unwrap_or_else(|| format!("column {}", column + 1))
    }
}

/// One valid row, ready to become a lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowFields {
    pub business_name: String,
    pub website: Website,
    pub domain: Domain,
    pub email: Option<Email>,
    pub phone: Option<String>,
    pub city: Option<String>,
    pub category: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

/// Cells that spreadsheets use for "nothing" are read as empty.
fn meaningful(value: &str) -> Option<&str> {
    let v = value.trim();
    let empty = v.is_empty()
        || v == "-"
        || ["n/a", "na", "none", "null", "nil", "#n/a"].contains(&v.to_ascii_lowercase().as_str());
    (!empty).then_some(v)
}

fn one_line(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn check_phone(value: &str) -> Result<String, String> {
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()./".contains(c) || c.eq_ignore_ascii_case(&'x'));
    if !(5..=20).contains(&digits) || !allowed {
        return Err(format!(
            "invalid phone `{value}`: expected 5 to 20 digits with + - ( ) . / or spaces"
        ));
    }
    Ok(one_line(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(headers: &[&str]) -> ColumnMap {
        ColumnMap::from_headers(headers).unwrap()
    }

    #[test]
    fn aliases_match_case_insensitively_and_the_rest_are_attributes() {
        let m = map(&[
            "\u{feff}Company",
            "URL",
            "E-Mail",
            "Tel",
            "Town",
            "Industry",
            "Rating",
            "",
        ]);
        assert_eq!(m.column(Field::Name), Some(0));
        assert_eq!(m.column(Field::Website), Some(1));
        assert_eq!(m.column(Field::Email), Some(2));
        assert_eq!(m.column(Field::Phone), Some(3));
        assert_eq!(m.column(Field::City), Some(4));
        assert_eq!(m.column(Field::Category), Some(5));
        assert_eq!(
            m.attribute_names().collect::<Vec<_>>(),
            vec!["Rating", "column 8"]
        );
    }

    #[test]
    fn better_alias_wins_and_the_other_stays_an_attribute() {
        let m = map(&["domain", "website", "business_name"]);
        assert_eq!(m.column(Field::Website), Some(1));
        assert_eq!(m.column(Field::Name), Some(2));
        assert_eq!(m.attribute_names().collect::<Vec<_>>(), vec!["domain"]);
    }

    #[test]
    fn header_errors_are_specific() {
        let err = ColumnMap::from_headers(&["name", "email"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the header has no website column (looked for: website, url, site, web, homepage, domain); columns found: name, email"
        );
        let err = ColumnMap::from_headers(&["website", "Email", "email "]).unwrap_err();
        assert_eq!(
            err,
            HeaderError::Duplicate {
                name: "email".into(),
                first: 2,
                second: 3
            }
        );
    }

    #[test]
    fn rows_become_fields_or_a_reason() {
        let m = map(&["name", "website", "email", "phone", "notes"]);
        let row = [
            "  Joe's   Bakery ",
            "WWW.Joes.example",
            "Joe@Joes.example",
            "+49 30 1234567",
            "n/a",
        ];
        let f = m.read_row(|i| row.get(i).copied().unwrap_or("")).unwrap();
        assert_eq!(f.business_name, "Joe's Bakery");
        assert_eq!(f.domain.as_str(), "joes.example");
        assert_eq!(f.email.unwrap().as_str(), "joe@joes.example");
        assert!(f.attributes.is_empty());

        let reason = |row: [&'static str; 5]| m.read_row(|i| row[i]).unwrap_err();
        assert_eq!(reason(["x", "", "", "", ""]), "no website");
        assert!(reason(["x", "ftp://x.com", "", "", ""]).starts_with("invalid website:"));
        assert!(reason(["x", "x.com", "bob@", "", ""]).starts_with("invalid email:"));
        assert!(reason(["x", "x.com", "", "call me", ""]).starts_with("invalid phone"));
    }

    #[test]
    fn missing_name_falls_back_to_the_domain_and_huge_fields_are_refused() {
        let m = map(&["website", "notes"]);
        let f = m.read_row(|i| ["https://www.x.example/", ""][i]).unwrap();
        assert_eq!(f.business_name, "x.example");
        let huge = "a".repeat(MAX_FIELD_BYTES + 1);
        let err = m
            .read_row(|i| if i == 0 { "x.example" } else { huge.as_str() })
            .unwrap_err();
        assert!(err.starts_with("field `notes` is 65537 bytes"), "{err}");
    }
}
