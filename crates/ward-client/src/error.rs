//! The client's one error type, and the RFC 9457 problem document a server sends with a 4xx or 5xx.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Any error from an error source, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a call to Ward failed.
///
/// A verify answer that says "not valid" is not an error: it is a [`Verdict`](crate::verify::Verdict).
/// No variant holds the credential or a token, so an error can be logged as it is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server URL given to [`WardClient::new`](crate::WardClient::new) cannot be used.
    #[error("the Ward server URL {url:?} is not usable: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The call needs a credential (a Ward key) and the client holds none.
    #[error("{method} {path} needs a Ward key, and the client was built without one")]
    MissingCredential {
        /// The call's method.
        method: &'static str,
        /// The call's path.
        path: String,
    },
    /// The credential cannot be sent in an HTTP header (it holds a control or non-ASCII
    /// character). The credential itself is not shown.
    #[error("the Ward key cannot be sent in an HTTP header: it holds a control or non-ASCII character")]
    InvalidCredential,
    /// No connection could be made to the server.
    #[error("could not connect to {url} (is `ward serve` running there? set --server / WARD_SERVER)")]
    Connect {
        /// The server's base URL.
        url: String,
        /// Why the connection failed (refused, no route, DNS, ...).
        source: BoxError,
    },
    /// The TLS handshake with an `https://` server failed: its certificate is not trusted (a
    /// private CA needs [`WardClient::with_ca_pem`](crate::WardClient::with_ca_pem)), has expired,
    /// or names another host; or the server does not speak TLS on that port.
    #[error("TLS with {url} failed (for a private CA, trust its certificate: --cacert / WARD_CACERT)")]
    Tls {
        /// The server's base URL.
        url: String,
        /// What rustls refused.
        source: BoxError,
    },
    /// The TLS settings cannot be used: a CA file with no certificate in it, or one rustls refuses.
    #[error("the TLS settings cannot be used: {reason}")]
    TlsSetup {
        /// What is wrong.
        reason: String,
    },
    /// The server did not answer within the client's timeout.
    #[error("{url} did not answer within {after:?}")]
    Timeout {
        /// The URL called.
        url: String,
        /// The timeout.
        after: Duration,
    },
    /// The connection failed after it was made (reset, closed early, an answer too large).
    #[error("the call to {url} failed")]
    Transport {
        /// The URL called.
        url: String,
        /// What failed.
        source: BoxError,
    },
    /// The server answered with a status other than 2xx.
    #[error("server answered {status}{}", Summary(problem.as_deref()))]
    Http {
        /// The HTTP status.
        status: u16,
        /// The server's problem document, when it sent a JSON object (boxed: it is large and
        /// errors are moved through every `?`).
        problem: Option<Box<Problem>>,
    },
    /// A 2xx answer's body is not the JSON this call expects.
    #[error("the answer to {path} is not what this client expects")]
    Decode {
        /// The call's path.
        path: String,
        /// What did not fit.
        source: serde_json::Error,
    },
    /// The request body could not be encoded as JSON.
    #[error("the request to {path} could not be encoded as JSON")]
    Encode {
        /// The call's path.
        path: String,
        /// What did not fit.
        source: serde_json::Error,
    },
}

impl Error {
    /// The HTTP status, for [`Error::Http`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The problem document, for [`Error::Http`] when the server sent one.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Error::Http { problem, .. } => problem.as_deref(),
            _ => None,
        }
    }

    /// The server's stable reason code (`invalid_request`, `insufficient_scope`, `unavailable`, ...),
    /// for [`Error::Http`] when the server gave one.
    pub fn reason(&self) -> Option<&str> {
        self.problem().and_then(|p| p.reason.as_deref())
    }
}

/// `: title (reason)`, or as much of it as the problem has.
struct Summary<'a>(Option<&'a Problem>);

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(p) = self.0 else { return Ok(()) };
        if let Some(t) = &p.title {
            write!(f, ": {t}")?;
        }
        if let Some(r) = &p.reason {
            write!(f, " ({r})")?;
        }
        Ok(())
    }
}

/// An RFC 9457 problem document, as Ward sends with `application/problem+json`.
///
/// Every field is optional so that any JSON object a server answers with an error status can be
/// kept: a verify answered 503 (`unavailable`) has no `title`, and an OAuth error body has only
/// extension members (`error`, `error_description`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:ward:reason:<code>` or `urn:ward:problem:<code>`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// A short summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The HTTP status, as the server wrote it in the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// What went wrong in this request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Ward's stable code: a token reason or a request problem (`invalid_request`, `not_found`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What to do about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Any other member of the body.
    #[serde(flatten)]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_errors_read_like_the_server_put_them() {
        let problem: Problem = serde_json::from_str(
            r#"{"type":"urn:ward:reason:insufficient_scope","title":"The token lacks a scope.",
                "status":403,"reason":"insufficient_scope","hint":"Use a key with ward:admin.","extra":1}"#,
        )
        .unwrap();
        assert_eq!(problem.extensions.get("extra"), Some(&serde_json::json!(1)));
        let e = Error::Http { status: 403, problem: Some(Box::new(problem)) };
        assert_eq!(e.to_string(), "server answered 403: The token lacks a scope. (insufficient_scope)");
        assert_eq!(e.reason(), Some("insufficient_scope"));
        assert_eq!(Error::Http { status: 502, problem: None }.to_string(), "server answered 502");
    }
}
