//! The value encoding of every record: one version byte, then JSON. JSON
//! keeps dumps readable and lets fields be added with serde defaults; the
//! version byte leaves room for a different body later without guessing.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;

pub const CODEC_JSON_V1: u8 = 1;

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    out.push(CODEC_JSON_V1);
    // Serialising our own plain structs to a Vec cannot fail.
    serde_json::to_writer(&mut out, value).expect("records serialise to JSON");
    out
}

pub fn decode<T: DeserializeOwned>(tree: &str, key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        tree: tree.to_string(),
        key: printable_key(key),
        reason,
    };
    match bytes.split_first() {
        Some((&CODEC_JSON_V1, body)) => {
            serde_json::from_slice(body).map_err(|e| corrupt(e.to_string()))
        }
        Some((version, _)) => Err(corrupt(format!("unknown value encoding {version}"))),
        None => Err(corrupt("empty value".into())),
    }
}

/// The JSON body of an encoded value, for dumps.
pub fn json_body(bytes: &[u8]) -> Option<&[u8]> {
    match bytes.split_first() {
        Some((&CODEC_JSON_V1, body)) => Some(body),
        _ => None,
    }
}

/// Keys are shown as text when they are text, as hex otherwise.
pub fn printable_key(key: &[u8]) -> String {
    match std::str::from_utf8(key) {
        Ok(s) if s.chars().all(|c| !c.is_control()) => s.to_string(),
        _ => hex::encode(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption_are_reported() {
        let bytes = encode(&vec![1, 2, 3]);
        assert_eq!(bytes[0], CODEC_JSON_V1);
        assert_eq!(
            decode::<Vec<i32>>("t", b"k", &bytes).unwrap(),
            vec![1, 2, 3]
        );
        let err = decode::<Vec<i32>>("leads", &[0xff, 0x00], &[9, b'x']).unwrap_err();
        assert_eq!(
            err.to_string(),
            "corrupt record in tree `leads` (key ff00): unknown value encoding 9"
        );
        assert!(decode::<Vec<i32>>("t", b"k", &[]).is_err());
    }
}
