//! Strict decoding of the untrusted parts of a token: base64url without padding, and JSON objects
//! whose members are unique at every depth.
//!
//! `serde_json` keeps the last of two members with the same name; two parsers that disagree on
//! which one wins let a token mean different things to different readers, so Ward refuses both.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::{self, Deserialize, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use ward_core::{Reason, Verdict};

/// Encodes bytes as base64url without padding (RFC 7515 §2).
pub(crate) fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding, refusing padding, other alphabets and non-canonical trailing
/// bits (so each token has exactly one spelling).
pub(crate) fn unb64(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).ok()
}

/// Whether `s` would decode if non-zero trailing bits were allowed: the mark of a last character
/// that was changed or cut short, as opposed to text that is not base64url at all.
pub(crate) fn only_trailing_bits_wrong(s: &str) -> bool {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    );
    LENIENT.decode(s).is_ok()
}

/// Decodes one base64url part of a token, or says which part is broken and how.
pub(crate) fn part(s: &str, what: &str) -> Result<Vec<u8>, Verdict> {
    unb64(s).ok_or_else(|| Verdict::with(Reason::Malformed, format!("the {what} is not {}", b64_problem(s))))
}

/// What is wrong with a string that did not decode as base64url without padding.
pub(crate) fn b64_problem(s: &str) -> &'static str {
    if s.contains('=') {
        "unpadded base64url: it ends in `=` padding, which JWS and PASETO forbid"
    } else if s.contains(['+', '/']) {
        "base64url: it uses `+` or `/` from the other base64 alphabet"
    } else {
        "valid base64url (a character outside the alphabet, or a truncated last group)"
    }
}

/// Parses `bytes` as one JSON object with unique member names at every depth.
pub(crate) fn object(bytes: &[u8], what: &str) -> Result<Map<String, Value>, Verdict> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Strict::deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| Verdict::with(Reason::Malformed, format!("the {what} is not valid JSON: {e}")))?;
    match value.0 {
        Value::Object(map) => Ok(map),
        other => Err(Verdict::with(
            Reason::Malformed,
            format!("the {what} must be a JSON object, not {}", type_name(&other)),
        )),
    }
}

/// Untrusted text as it may appear in a verdict's detail: at most 80 characters (then `…`), control
/// characters escaped, so a hostile claim cannot flood or forge a log line.
pub(crate) fn shown(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(90));
    for (i, c) in s.chars().enumerate() {
        if i == 80 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// The JSON type of a value, with its article, for messages ("a string", "null").
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Reads any JSON value from any deserializer, refusing repeated member names at every depth.
pub(crate) fn strict_value<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    Strict::deserialize(d).map(|s| s.0)
}

/// A JSON value read by [`StrictVisitor`].
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

/// Builds a [`Value`] like serde_json's own visitor, except that a repeated member name is an error.
struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v).map(Value::Number).ok_or_else(|| E::custom("a number out of range"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Strict::deserialize(d).map(|s| s.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("the member `{key}` appears twice")));
            }
            let Strict(v) = map.next_value_seed(StrictSeed)?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// Seed form of [`Strict`], for map values.
struct StrictSeed;

impl<'de> DeserializeSeed<'de> for StrictSeed {
    type Value = Strict;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Strict, D::Error> {
        Strict::deserialize(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_parse_and_other_values_do_not() {
        let m = object(br#"{"a":1,"b":[true,null,"x",{"c":1.5}]}"#, "header").unwrap();
        assert_eq!(m.len(), 2);
        for (bytes, needle) in [
            (&b"[1]"[..], "not an array"),
            (b"\"x\"", "not a string"),
            (b"null", "not null"),
            (b"{", "not valid JSON"),
            (b"{} x", "not valid JSON"),
            (b"\xff", "not valid JSON"),
        ] {
            let v = object(bytes, "header").unwrap_err();
            assert_eq!(v.reason, Reason::Malformed);
            assert!(v.detail.as_deref().unwrap().contains(needle), "{v:?}");
        }
    }

    #[test]
    fn duplicate_members_are_refused_at_every_depth() {
        for bytes in
            [&br#"{"alg":"EdDSA","alg":"none"}"#[..], br#"{"x":{"k":1,"k":2}}"#, br#"{"x":[{"k":1,"k":1}]}"#]
        {
            let v = object(bytes, "header").unwrap_err();
            assert!(v.detail.as_deref().unwrap().contains("appears twice"), "{v:?}");
        }
    }

    #[test]
    fn untrusted_text_is_shown_short_and_escaped() {
        assert_eq!(shown("https://ward.example"), "https://ward.example");
        assert_eq!(shown("a\nb"), "a\\nb");
        let long = "x".repeat(500);
        assert_eq!(shown(&long).chars().count(), 81);
    }

    #[test]
    fn base64_is_strict() {
        assert_eq!(unb64("AQAB"), Some(vec![1, 0, 1]));
        assert_eq!(unb64("AQA"), Some(vec![1, 0]));
        // Padding, the other alphabet, a dangling character and non-zero trailing bits.
        for s in ["AQA=", "+/8", "AQABA", "AQB"] {
            assert_eq!(unb64(s), None, "{s}");
        }
        assert!(b64_problem("AQA=").contains("padding"));
        assert!(only_trailing_bits_wrong("AQB"));
        assert!(!only_trailing_bits_wrong("AQA=") && !only_trailing_bits_wrong("AQABA"));
    }
}
