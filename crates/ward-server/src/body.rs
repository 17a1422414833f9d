//! What every JSON request body shares, as `#[serde(deserialize_with)]` helpers: numbers and
//! nested objects read the way the OpenAPI document (JSON Schema 2020-12) describes them.

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_json::{Number, Value};

/// A whole number. JSON Schema's `integer` is "any number with a zero fractional part" (JSON
/// Schema Validation 2020-12 §6.1.1) and JSON itself has one number type (RFC 8259 §6), so `60.0`
/// is 60; `60.5`, or a number beyond `i64`, is refused.
pub fn whole<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    to_i64(&Number::deserialize(d)?).ok_or_else(|| D::Error::custom("expected a whole number (an i64)"))
}

/// [`whole`], or `null`/absent.
pub fn whole_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<Number>::deserialize(d)? {
        None => Ok(None),
        Some(n) => to_i64(&n).map(Some).ok_or_else(|| D::Error::custom("expected a whole number (an i64)")),
    }
}

/// A whole number from 0 to `u32::MAX` (`60` or `60.0`: JSON Schema's `integer` is any number
/// without a fraction).
pub fn whole_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = whole(d)?;
    u32::try_from(n).map_err(|_| D::Error::custom("expected a whole number from 0 to 4294967295"))
}

/// [`whole_u32`], or `null`/absent.
pub fn whole_u32_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    match whole_opt(d)? {
        None => Ok(None),
        Some(n) => u32::try_from(n)
            .map(Some)
            .map_err(|_| D::Error::custom("expected a whole number from 0 to 4294967295")),
    }
}

fn to_i64(n: &Number) -> Option<i64> {
    n.as_i64().or_else(|| {
        let f = n.as_f64()?;
        // `i64::MAX as f64` is 2^63, one past the largest i64. `i64::MIN as f64` is exact, but
        // an integer literal below i64::MIN (which serde_json reads as a float) rounds to it too:
        // the float path excludes both ends, and `-9223372036854775808` still parses as an i64.
        (f.fract() == 0.0 && f > i64::MIN as f64 && f < i64::MAX as f64).then_some(f as i64)
    })
}

/// A nested object (or `null`/absent). serde reads a struct from a positional array as readily as
/// from an object, so `"context": ["1.2.3.4", "curl"]` would be a context; Ward's bodies are
/// objects all the way down (issue 9).
pub fn object_opt<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        v @ Value::Object(_) => T::deserialize(v).map(Some).map_err(D::Error::custom),
        _ => Err(D::Error::custom("expected a JSON object")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Inner {
        a: i64,
    }

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "super::whole_opt")]
        n: Option<i64>,
        #[serde(default, deserialize_with = "super::object_opt")]
        inner: Option<Inner>,
    }

    fn parse(s: &str) -> Result<Body, serde_json::Error> {
        serde_json::from_str(s)
    }

    #[test]
    fn whole_numbers_may_be_written_with_a_zero_fraction() {
        assert_eq!(parse(r#"{"n": 60}"#).unwrap().n, Some(60));
        assert_eq!(parse(r#"{"n": 60.0}"#).unwrap().n, Some(60));
        assert_eq!(parse(r#"{"n": 6e1}"#).unwrap().n, Some(60));
        assert_eq!(parse(r#"{"n": null}"#).unwrap().n, None);
        assert_eq!(parse("{}").unwrap().n, None);
        assert_eq!(parse(r#"{"n": -9223372036854775808}"#).unwrap().n, Some(i64::MIN));
        for bad in [
            r#"{"n": 60.5}"#,
            r#"{"n": 1e19}"#,
            r#"{"n": 9223372036854775808}"#,
            r#"{"n": -9223372036854775809}"#,
            r#"{"n": "6"}"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[derive(Debug, Deserialize)]
    struct Small {
        #[serde(deserialize_with = "super::whole_u32")]
        n: u32,
        #[serde(default, deserialize_with = "super::whole_u32_opt")]
        m: Option<u32>,
    }

    #[test]
    fn small_whole_numbers_too() {
        let s: Small = serde_json::from_str(r#"{"n": 2629.0, "m": 7}"#).unwrap();
        assert_eq!((s.n, s.m), (2629, Some(7)));
        let s: Small = serde_json::from_str(r#"{"n": 0, "m": null}"#).unwrap();
        assert_eq!((s.n, s.m), (0, None));
        for bad in [r#"{"n": -1}"#, r#"{"n": 4294967296}"#, r#"{"n": 1, "m": 1.5}"#] {
            assert!(serde_json::from_str::<Small>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nested_structs_are_objects_not_arrays() {
        assert_eq!(parse(r#"{"inner": {"a": 1}}"#).unwrap().inner, Some(Inner { a: 1 }));
        assert_eq!(parse(r#"{"inner": null}"#).unwrap().inner, None);
        assert!(parse(r#"{"inner": [1]}"#).is_err());
        assert!(parse(r#"{"inner": 1}"#).is_err());
    }
}
