//! The `Endpoint` trait: one call of Ward's API, its method, path, body and answer type.
//!
//! Each request struct in this crate implements it, so [`WardClient::send`](crate::WardClient::send)
//! is the whole API: `client.send(&CreateKey::new("alice")).await` returns a
//! [`CreatedKey`](crate::keys::CreatedKey). Path parameters are fields marked `#[serde(skip)]`,
//! so the body is the struct itself, minus them.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The HTTP methods Ward's API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`: reads.
    Get,
    /// `POST`: everything that changes state, and verify.
    Post,
}

impl Method {
    /// The method's name on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// Whether a call carries the client's credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// The call needs a Ward key; without one it fails before anything is sent.
    Required,
    /// Sent when the client holds one: verify answers anyone, but in full only to `ward:verify`.
    IfHeld,
    /// Never sent: public endpoints (`/healthz`, `/v1/reasons`) have no use for it.
    Never,
}

/// One call of Ward's API.
pub trait Endpoint {
    /// What a 2xx answer decodes to.
    type Response: DeserializeOwned;
    /// The call's method.
    const METHOD: Method;
    /// Whether the call carries the credential.
    const AUTH: Auth = Auth::Required;

    /// The path and query, percent-encoded, starting with `/`.
    fn path(&self) -> String;

    /// The JSON body, if the call has one.
    fn body(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        Ok(None)
    }
}

/// `value` as a JSON body: for endpoints whose request struct is the body.
pub(crate) fn json<T: Serialize>(value: &T) -> Result<Option<Vec<u8>>, serde_json::Error> {
    serde_json::to_vec(value).map(Some)
}

/// Percent-encodes `s` for a path segment or a query value (RFC 3986 unreserved characters stay).
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Appends `?k=v&…` for the pairs that have a value, in order.
pub(crate) fn with_query(path: &str, pairs: &[(&str, Option<String>)]) -> String {
    let query: Vec<String> =
        pairs.iter().filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", encode(v)))).collect();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_everything_but_unreserved_characters() {
        assert_eq!(encode("a b/c?d&é~"), "a%20b%2Fc%3Fd%26%C3%A9~");
    }

    #[test]
    fn query_keeps_order_and_skips_absent_values() {
        let q = with_query(
            "/v1/keys",
            &[("subject", Some("a&b".into())), ("x", None), ("limit", Some("5".into()))],
        );
        assert_eq!(q, "/v1/keys?subject=a%26b&limit=5");
        assert_eq!(with_query("/v1/keys", &[("subject", None)]), "/v1/keys");
    }
}
