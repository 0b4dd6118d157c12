//! Lead discovery from OpenStreetMap: which map tag a business category
//! means, the Overpass query for it, and reading the answer into places.
//! No I/O; `service::discover` sends the query.

use serde::Deserialize;

/// The licence notice that must travel with data taken from OpenStreetMap.
pub const ODBL_ATTRIBUTION: &str =
    "© OpenStreetMap contributors, ODbL 1.0 (https://www.openstreetmap.org/copyright)";

/// Common categories and the OpenStreetMap tag that marks them. Anything
/// else can be given as `key=value` directly.
const CATEGORIES: &[(&str, &str, &str)] = &[
    ("accountant", "office", "accountant"),
    ("bakery", "shop", "bakery"),
    ("beauty", "shop", "beauty"),
    ("bicycle", "shop", "bicycle"),
    ("butcher", "shop", "butcher"),
    ("cafe", "amenity", "cafe"),
    ("car_repair", "shop", "car_repair"),
    ("carpenter", "craft", "carpenter"),
    ("dentist", "amenity", "dentist"),
    ("doctor", "amenity", "doctors"),
    ("electrician", "craft", "electrician"),
    ("estate_agent", "office", "estate_agent"),
    ("florist", "shop", "florist"),
    ("gym", "leisure", "fitness_centre"),
    ("hairdresser", "shop", "hairdresser"),
    ("hotel", "tourism", "hotel"),
    ("insurance", "office", "insurance"),
    ("lawyer", "office", "lawyer"),
    ("optician", "shop", "optician"),
    ("painter", "craft", "painter"),
    ("pharmacy", "amenity", "pharmacy"),
    ("photographer", "craft", "photographer"),
    ("physiotherapist", "healthcare", "physiotherapist"),
    ("plumber", "craft", "plumber"),
    ("restaurant", "amenity", "restaurant"),
    ("veterinary", "amenity", "veterinary"),
];

/// The map tag for a category name (`dentist`) or a literal `key=value`.
pub fn category_tag(category: &str) -> Result<(String, String), String> {
    let category = category.trim();
    if let Some((key, value)) = category.split_once('=') {
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-'))
        };
        if ok(key) && ok(value) {
            return Ok((key.to_string(), value.to_string()));
        }
        return Err(format!(
            "`{category}` is not a map tag; write it as key=value, e.g. shop=bakery"
        ));
    }
    let wanted = category.to_ascii_lowercase().replace([' ', '-'], "_");
    CATEGORIES
        .iter()
        .find(|(name, ..)| *name == wanted || wanted.strip_suffix('s') == Some(name))
        .map(|(_, key, value)| (key.to_string(), value.to_string()))
        .ok_or_else(|| {
            let names: Vec<&str> = CATEGORIES.iter().map(|(n, ..)| *n).collect();
            format!(
                "unknown category `{category}`; use one of {} or an OpenStreetMap tag such as craft=roofer",
                names.join(", ")
            )
        })
}

/// A string inside an Overpass QL double-quoted literal.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The Overpass QL query: places with the tag and a website inside the
/// named administrative area, at most `limit`.
pub fn overpass_query(
    tag: &(String, String),
    area: &str,
    limit: usize,
    timeout_secs: u64,
) -> String {
    let (key, value) = (quoted(&tag.0), quoted(&tag.1));
    format!(
        "[out:json][timeout:{timeout_secs}];\n\
         area[\"boundary\"=\"administrative\"][\"name\"={area}]->.a;\n\
         (\n  nwr[{key}={value}][\"website\"](area.a);\n  nwr[{key}={value}][\"contact:website\"](area.a);\n);\n\
         out center tags {limit};\n",
        area = quoted(area.trim()),
    )
}

/// One business from the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// `node/123`, `way/456` or `relation/789`.
    pub reference: String,
    pub name: Option<String>,
    pub website: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub city: Option<String>,
    /// Street, number and postcode as the map has them.
    pub address: Option<String>,
}

/// What the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub places: Vec<Place>,
    /// Set when the server stopped early (a "runtime error" remark, e.g.
    /// its timeout): the places are only part of the answer.
    pub incomplete: Option<String>,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    elements: Vec<Element>,
    #[serde(default)]
    remark: Option<String>,
}

#[derive(Deserialize)]
struct Element {
    #[serde(rename = "type")]
    kind: String,
    id: u64,
    #[serde(default)]
    tags: std::collections::BTreeMap<String, String>,
}

/// Reads an Overpass JSON answer.
pub fn parse_answer(body: &[u8]) -> Result<Found, String> {
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|e| format!("the answer is not Overpass JSON ({e})"))?;
    let incomplete = answer
        .remark
        .filter(|r| r.contains("runtime error") || r.contains("timed out"))
        .map(|r| r.trim().to_string());
    let mut places = Vec::new();
    for element in answer.elements {
        let tag = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| element.tags.get(*n))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        // Several values are separated by `;` in OpenStreetMap.
        let first = |v: String| v.split(';').next().unwrap_or("").trim().to_string();
        let Some(website) = tag(&["website", "contact:website", "url"]).map(first) else {
            continue;
        };
        let street = [tag(&["addr:street"]), tag(&["addr:housenumber"])]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let address = [
            Some(street).filter(|s| !s.is_empty()),
            tag(&["addr:postcode"]),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
        places.push(Place {
            reference: format!("{}/{}", element.kind, element.id),
            name: tag(&["name", "brand", "operator"]),
            website,
            email: tag(&["email", "contact:email"]).map(first),
            phone: tag(&["phone", "contact:phone"]).map(first),
            city: tag(&["addr:city"]),
            address: Some(address).filter(|a| !a.is_empty()),
        });
    }
    Ok(Found { places, incomplete })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_map_to_tags_and_literal_tags_pass() {
        assert_eq!(
            category_tag("dentist").unwrap(),
            ("amenity".into(), "dentist".into())
        );
        assert_eq!(
            category_tag("Dentists").unwrap(),
            ("amenity".into(), "dentist".into())
        );
        assert_eq!(
            category_tag("car repair").unwrap(),
            ("shop".into(), "car_repair".into())
        );
        assert_eq!(
            category_tag("craft=roofer").unwrap(),
            ("craft".into(), "roofer".into())
        );
        assert!(
            category_tag("astronaut")
                .unwrap_err()
                .contains("unknown category")
        );
        assert!(
            category_tag("shop=\"x\"]")
                .unwrap_err()
                .contains("not a map tag")
        );
    }

    #[test]
    fn the_query_quotes_the_area() {
        let q = overpass_query(
            &("amenity".into(), "dentist".into()),
            "Saint \"X\"\\",
            50,
            60,
        );
        assert!(q.contains(r#"["name"="Saint \"X\"\\"]"#), "{q}");
        assert!(
            q.contains("[timeout:60]") && q.contains("out center tags 50;"),
            "{q}"
        );
        assert!(
            q.contains(r#"nwr["amenity"="dentist"]["website"](area.a);"#),
            "{q}"
        );
    }

    #[test]
    fn answers_become_places_and_a_runtime_error_is_incomplete() {
        let body = br#"{"version":0.6,"elements":[
          {"type":"node","id":1,"tags":{"name":"A","website":"https://a.example; https://b.example","addr:street":"Main St","addr:housenumber":"3","addr:postcode":"10115","addr:city":"Berlin","contact:email":"hi@a.example"}},
          {"type":"way","id":2,"center":{"lat":1,"lon":2},"tags":{"name":"No site"}}
        ],"remark":"runtime error: Query timed out in \"query\" at line 3 after 61 seconds."}"#;
        let found = parse_answer(body).unwrap();
        assert_eq!(found.places.len(), 1);
        let a = &found.places[0];
        assert_eq!(a.reference, "node/1");
        assert_eq!(a.website, "https://a.example");
        assert_eq!(a.email.as_deref(), Some("hi@a.example"));
        assert_eq!(a.address.as_deref(), Some("Main St 3, 10115"));
        assert!(found.incomplete.unwrap().contains("timed out"));
        assert!(parse_answer(b"<html>busy</html>").is_err());
    }
}
