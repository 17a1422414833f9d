//! The claims of an access token (RFC 9068 §2.2), read strictly: a claim of the wrong JSON type is
//! `malformed` and named, never taken as absent.
//!
//! JWTs carry times as NumericDate (seconds since the epoch, RFC 7519 §2); PASETO tokens carry them
//! as RFC 3339 strings, as the PASETO registered claims require. [`AccessClaims`] holds seconds
//! either way.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use ward_core::{Reason, Verdict};

use crate::json::{shown, type_name};

/// The claims Ward puts in (and requires of) an access token.
///
/// `exp`, `iat`, `sub`, `iss` and `jti` are required; `aud` may be empty (then [`crate::Expect`]
/// must not ask for an audience). Anything else the token carries is kept in `extra`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AccessClaims {
    /// `iss`: who issued the token (Ward's issuer URL).
    pub iss: String,
    /// `sub`: whom the token is about.
    pub sub: String,
    /// `aud`: the resource servers it is meant for. Written as a string when there is one.
    pub aud: Vec<String>,
    /// `exp`: when it stops being valid (seconds since the epoch).
    pub exp: i64,
    /// `iat`: when it was issued.
    pub iat: i64,
    /// `nbf`: when it starts being valid, if not at issue.
    pub nbf: Option<i64>,
    /// `jti`: its unique id (what a revocation of this one token names).
    pub jti: String,
    /// `scope`: space-separated scopes (RFC 8693 §4.2).
    pub scope: Option<String>,
    /// `client_id`: the OAuth client it was issued to.
    pub client_id: Option<String>,
    /// Every other claim. Never overrides the claims above when a token is signed.
    pub extra: Map<String, Value>,
}

/// How a token format writes times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dates {
    /// JWT: NumericDate, seconds since the epoch.
    Numeric,
    /// PASETO: RFC 3339 date-time strings.
    Rfc3339,
}

/// Which way to round a fractional time: always towards the stricter reading.
#[derive(Clone, Copy)]
enum Round {
    /// For `exp`: a token valid until 10.5 is treated as valid until 10.
    Down,
    /// For `nbf` and `iat`: a token valid from 10.5 is treated as valid from 11.
    Up,
}

const REGISTERED: [&str; 9] = ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "scope", "client_id"];

impl AccessClaims {
    /// The scopes, split on spaces.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.as_deref().unwrap_or_default().split(' ').filter(|s| !s.is_empty())
    }

    /// The claims as a JSON object, times written as `dates` says.
    pub(crate) fn to_object(&self, dates: Dates) -> Map<String, Value> {
        let mut m: Map<String, Value> = self
            .extra
            .iter()
            .filter(|(k, _)| !REGISTERED.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let time = |t: i64| match dates {
            Dates::Numeric => Value::from(t),
            Dates::Rfc3339 => Value::String(ward_core::clock::rfc3339(t)),
        };
        m.insert("iss".into(), Value::String(self.iss.clone()));
        m.insert("sub".into(), Value::String(self.sub.clone()));
        match self.aud.as_slice() {
            [] => {}
            [one] => {
                m.insert("aud".into(), Value::String(one.clone()));
            }
            many => {
                m.insert("aud".into(), Value::Array(many.iter().cloned().map(Value::String).collect()));
            }
        }
        m.insert("exp".into(), time(self.exp));
        m.insert("iat".into(), time(self.iat));
        if let Some(nbf) = self.nbf {
            m.insert("nbf".into(), time(nbf));
        }
        m.insert("jti".into(), Value::String(self.jti.clone()));
        if let Some(scope) = &self.scope {
            m.insert("scope".into(), Value::String(scope.clone()));
        }
        if let Some(client_id) = &self.client_id {
            m.insert("client_id".into(), Value::String(client_id.clone()));
        }
        m
    }

    /// Reads claims from a verified token's JSON object.
    pub(crate) fn from_object(mut m: Map<String, Value>, dates: Dates) -> Result<Self, Verdict> {
        let iss = required_string(&mut m, "iss")?;
        let sub = required_string(&mut m, "sub")?;
        let jti = required_string(&mut m, "jti")?;
        let exp = time(m.remove("exp"), "exp", dates, Round::Down)?.ok_or_else(|| missing("exp"))?;
        let iat = time(m.remove("iat"), "iat", dates, Round::Up)?.ok_or_else(|| missing("iat"))?;
        let nbf = time(m.remove("nbf"), "nbf", dates, Round::Up)?;
        let aud = audience(m.remove("aud"))?;
        let scope = optional_string(&mut m, "scope")?;
        let client_id = optional_string(&mut m, "client_id")?;
        Ok(AccessClaims { iss, sub, aud, exp, iat, nbf, jti, scope, client_id, extra: m })
    }
}

fn missing(claim: &str) -> Verdict {
    Verdict::with(Reason::Malformed, format!("the required claim `{claim}` is missing"))
}

fn wrong_type(claim: &str, wanted: &str, got: &Value) -> Verdict {
    Verdict::with(Reason::Malformed, format!("the claim `{claim}` must be {wanted}, not {}", type_name(got)))
}

fn required_string(m: &mut Map<String, Value>, claim: &str) -> Result<String, Verdict> {
    match m.remove(claim) {
        None => Err(missing(claim)),
        Some(Value::String(s)) if s.is_empty() => {
            Err(Verdict::with(Reason::Malformed, format!("the claim `{claim}` is an empty string")))
        }
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(wrong_type(claim, "a string", &other)),
    }
}

/// An optional string claim: absent is `None`; `null` or any other type is malformed, because a
/// reader that took it as absent and one that did not would disagree about the token.
fn optional_string(m: &mut Map<String, Value>, claim: &str) -> Result<Option<String>, Verdict> {
    match m.remove(claim) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(wrong_type(claim, "a string (or absent)", &other)),
    }
}

fn audience(v: Option<Value>) -> Result<Vec<String>, Verdict> {
    match v {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s]),
        Some(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s),
                other => Err(Verdict::with(
                    Reason::Malformed,
                    format!("the claim `aud` must hold strings, but item {i} is {}", type_name(&other)),
                )),
            })
            .collect(),
        Some(other) => Err(wrong_type("aud", "a string or an array of strings", &other)),
    }
}

fn time(v: Option<Value>, claim: &str, dates: Dates, round: Round) -> Result<Option<i64>, Verdict> {
    let Some(v) = v else { return Ok(None) };
    match (dates, v) {
        (Dates::Numeric, Value::Number(n)) => {
            if let Some(i) = n.as_i64() {
                return Ok(Some(i));
            }
            // RFC 7519 allows fractional NumericDates; round towards the stricter reading.
            let f = n.as_f64().filter(|f| f.is_finite() && f.abs() < 1e15).ok_or_else(|| {
                Verdict::with(Reason::Malformed, format!("the claim `{claim}` ({n}) is out of range"))
            })?;
            let rounded = match round {
                Round::Down => f.floor(),
                Round::Up => f.ceil(),
            };
            // |rounded| < 1e15, so the conversion is exact.
            Ok(Some(rounded as i64))
        }
        (Dates::Numeric, other) => {
            Err(wrong_type(claim, "a NumericDate (a number of seconds since 1970-01-01 UTC)", &other))
        }
        (Dates::Rfc3339, Value::String(s)) => {
            let t = OffsetDateTime::parse(&s, &Rfc3339).map_err(|e| {
                Verdict::with(
                    Reason::Malformed,
                    format!("the claim `{claim}` (`{}`) is not an RFC 3339 date-time: {e}", shown(&s)),
                )
            })?;
            let secs = t.unix_timestamp();
            Ok(Some(match round {
                Round::Up if t.nanosecond() > 0 => secs.saturating_add(1),
                _ => secs,
            }))
        }
        (Dates::Rfc3339, other) => Err(wrong_type(
            claim,
            "an RFC 3339 date-time string (PASETO registered claims are not NumericDates)",
            &other,
        )),
    }
}

/// Writes the JWT form (NumericDates), `aud` as a string when it has one element.
impl Serialize for AccessClaims {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_object(Dates::Numeric).serialize(s)
    }
}

/// Reads the JWT form with the same strictness as [`crate::verify`].
impl<'de> Deserialize<'de> for AccessClaims {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = match crate::json::strict_value(d)? {
            Value::Object(m) => m,
            other => {
                return Err(serde::de::Error::custom(format!(
                    "access token claims must be a JSON object, not {}",
                    type_name(&other)
                )))
            }
        };
        AccessClaims::from_object(m, Dates::Numeric)
            .map_err(|v| serde::de::Error::custom(v.detail.unwrap_or_else(|| v.reason.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> AccessClaims {
        AccessClaims {
            iss: "https://ward.example".into(),
            sub: "user_1".into(),
            aud: vec!["api".into()],
            exp: 1_700_000_600,
            iat: 1_700_000_000,
            nbf: None,
            jti: "j1".into(),
            scope: Some("read write".into()),
            client_id: Some("c1".into()),
            extra: Map::new(),
        }
    }

    #[test]
    fn one_audience_is_a_string_several_an_array() {
        let v = serde_json::to_value(sample()).unwrap();
        assert_eq!(v["aud"], json!("api"));
        let mut two = sample();
        two.aud.push("billing".into());
        assert_eq!(serde_json::to_value(&two).unwrap()["aud"], json!(["api", "billing"]));
        let mut none = sample();
        none.aud.clear();
        assert!(serde_json::to_value(&none).unwrap().get("aud").is_none());
        for c in [sample(), two, none] {
            let back: AccessClaims = serde_json::from_value(serde_json::to_value(&c).unwrap()).unwrap();
            assert_eq!(back, c);
        }
    }

    #[test]
    fn deserializing_is_as_strict_as_verifying() {
        let dup = r#"{"iss":"i","sub":"a","sub":"b","exp":1,"iat":0,"jti":"j"}"#;
        assert!(serde_json::from_str::<AccessClaims>(dup).unwrap_err().to_string().contains("appears twice"));
        assert!(serde_json::from_str::<AccessClaims>("[]").is_err());
        let bad = r#"{"iss":"i","sub":"a","exp":"soon","iat":0,"jti":"j"}"#;
        assert!(serde_json::from_str::<AccessClaims>(bad).unwrap_err().to_string().contains("`exp`"));
    }

    #[test]
    fn extra_claims_round_trip_but_never_override_registered_ones() {
        let mut c = sample();
        c.extra.insert("tenant".into(), json!("t1"));
        c.extra.insert("sub".into(), json!("admin"));
        let m = c.to_object(Dates::Numeric);
        assert_eq!(m["sub"], json!("user_1"));
        let back = AccessClaims::from_object(m, Dates::Numeric).unwrap();
        assert_eq!(back.extra.get("tenant"), Some(&json!("t1")));
        assert_eq!(back.extra.get("sub"), None);
        assert_eq!(back.scopes().collect::<Vec<_>>(), ["read", "write"]);
    }

    #[test]
    fn wrong_types_are_malformed_and_named() {
        let cases = [
            ("exp", json!("soon")),
            ("exp", json!(null)),
            ("iat", json!(true)),
            ("nbf", json!([1])),
            ("aud", json!(5)),
            ("aud", json!(["api", 5])),
            ("sub", json!(1)),
            ("iss", json!({"x": 1})),
            ("jti", json!("")),
            ("scope", json!(["read"])),
            ("scope", json!(null)),
            ("client_id", json!(7)),
        ];
        for (claim, bad) in cases {
            let mut m = sample().to_object(Dates::Numeric);
            m.insert(claim.into(), bad.clone());
            let v = AccessClaims::from_object(m, Dates::Numeric).unwrap_err();
            assert_eq!(v.reason, Reason::Malformed, "{claim} = {bad}");
            assert!(v.detail.as_deref().unwrap().contains(&format!("`{claim}`")), "{claim}: {v:?}");
        }
    }

    #[test]
    fn required_claims_must_be_present() {
        for claim in ["exp", "iat", "sub", "iss", "jti"] {
            let mut m = sample().to_object(Dates::Numeric);
            m.remove(claim);
            let v = AccessClaims::from_object(m, Dates::Numeric).unwrap_err();
            assert_eq!(v.reason, Reason::Malformed);
            assert_eq!(v.detail.unwrap(), format!("the required claim `{claim}` is missing"));
        }
    }

    #[test]
    fn fractional_times_round_towards_the_stricter_reading() {
        let mut m = sample().to_object(Dates::Numeric);
        m.insert("exp".into(), json!(100.5));
        m.insert("nbf".into(), json!(50.25));
        m.insert("iat".into(), json!(50.25));
        let c = AccessClaims::from_object(m, Dates::Numeric).unwrap();
        assert_eq!((c.exp, c.nbf, c.iat), (100, Some(51), 51));
        let mut m = sample().to_object(Dates::Numeric);
        m.insert("exp".into(), json!(1e300));
        assert_eq!(AccessClaims::from_object(m, Dates::Numeric).unwrap_err().reason, Reason::Malformed);
    }

    #[test]
    fn paseto_times_are_rfc_3339_strings() {
        let m = sample().to_object(Dates::Rfc3339);
        assert_eq!(m["exp"], json!("2023-11-14T22:23:20Z"));
        assert_eq!(AccessClaims::from_object(m, Dates::Rfc3339).unwrap(), sample());
        let mut m = sample().to_object(Dates::Rfc3339);
        m.insert("exp".into(), json!(1_700_000_600));
        let v = AccessClaims::from_object(m, Dates::Rfc3339).unwrap_err();
        assert!(v.detail.unwrap().contains("RFC 3339"));
        let mut m = sample().to_object(Dates::Rfc3339);
        m.insert("exp".into(), json!("tomorrow"));
        assert_eq!(AccessClaims::from_object(m, Dates::Rfc3339).unwrap_err().reason, Reason::Malformed);
        let mut m = sample().to_object(Dates::Rfc3339);
        m.insert("nbf".into(), json!("2023-11-14T22:13:20.5+00:00"));
        assert_eq!(AccessClaims::from_object(m, Dates::Rfc3339).unwrap().nbf, Some(1_700_000_001));
    }
}
