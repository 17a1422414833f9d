//! How a failed command is reported: one block of text on stderr, or with `--json` one JSON
//! object on stderr, with the server's reason, detail and hint when it gave them. No secret
//! appears in either: the credential is masked wherever it might be echoed.

use serde_json::{json, Map, Value};
use ward_client::Error;

/// What to do when the server cannot be reached.
const CONNECT_HINT: &str =
    "is `ward serve` running there? Name the server with --server URL, WARD_SERVER or `server` in ward.toml";

/// What to do when TLS fails.
const TLS_HINT: &str = "if the server's certificate comes from a private CA, trust that CA with \
                        --cacert FILE, WARD_CACERT or `cacert` in ward.toml; check that the URL's host \
                        is one the certificate names; a server speaking plain HTTP needs http://";

/// One failure, as shown to a person or a script.
#[derive(Debug, Default, PartialEq)]
struct Shown {
    /// The first line.
    error: String,
    /// The HTTP status, for a server's answer.
    status: Option<u16>,
    /// The server's stable reason code.
    reason: Option<String>,
    /// The problem's detail, or the underlying cause.
    detail: Option<String>,
    /// What to do.
    hint: Option<String>,
}

/// Prints `e` on stderr: as text, or as `{"error": …, "status"?, "reason"?, "detail"?, "hint"?}`.
pub fn report(e: &anyhow::Error, json: bool) {
    let shown = mask(shown(e), credential().as_deref().map(String::as_str));
    if json {
        let mut o = Map::new();
        o.insert("error".into(), json!(shown.error));
        if let Some(s) = shown.status {
            o.insert("status".into(), json!(s));
        }
        for (k, v) in [("reason", &shown.reason), ("detail", &shown.detail), ("hint", &shown.hint)] {
            if let Some(v) = v {
                o.insert(k.into(), json!(v));
            }
        }
        eprintln!("{}", Value::Object(o));
    } else {
        eprintln!("ward: {}", shown.error);
        for (k, v) in [("detail", &shown.detail), ("hint", &shown.hint)] {
            if let Some(v) = v {
                eprintln!("  {k}: {v}");
            }
        }
    }
}

fn shown(e: &anyhow::Error) -> Shown {
    let Some(client) = e.downcast_ref::<Error>() else {
        return Shown { error: chain(e), ..Shown::default() };
    };
    match client {
        Error::Http { status, problem } => {
            let p = problem.as_deref();
            let title = p.and_then(|p| p.title.clone());
            let error = match title {
                Some(t) => format!("server answered {status}: {t}"),
                None => format!("server answered {status}"),
            };
            Shown {
                error,
                status: Some(*status),
                reason: p.and_then(|p| p.reason.clone()),
                detail: p.and_then(|p| p.detail.clone()),
                hint: p.and_then(|p| p.hint.clone()),
            }
        }
        Error::Connect { url, source } => Shown {
            error: format!("could not connect to {url}: {source}"),
            hint: Some(CONNECT_HINT.into()),
            ..Shown::default()
        },
        Error::Tls { url, source } => Shown {
            error: format!("TLS with {url} failed: {source}"),
            hint: Some(TLS_HINT.into()),
            ..Shown::default()
        },
        Error::MissingCredential { method, path } => Shown {
            error: format!("{method} {path} needs a Ward key"),
            hint: Some("set WARD_ADMIN_KEY to a Ward key with the ward:admin scope".into()),
            ..Shown::default()
        },
        _ => Shown { error: chain(e), ..Shown::default() },
    }
}

/// The error and its causes on one line, each cause once: a cause whose text the line already
/// holds ("Connection refused: Connection refused") is not repeated.
fn chain(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// `WARD_ADMIN_KEY` as set, for masking.
fn credential() -> Option<zeroize::Zeroizing<String>> {
    std::env::var("WARD_ADMIN_KEY").ok().filter(|k| k.len() >= 8).map(zeroize::Zeroizing::new)
}

/// `shown` with every copy of the credential replaced by `<WARD_ADMIN_KEY>`.
fn mask(mut shown: Shown, credential: Option<&str>) -> Shown {
    let Some(secret) = credential else { return shown };
    let hide = |s: &mut String| {
        if s.contains(secret) {
            *s = s.replace(secret, "<WARD_ADMIN_KEY>");
        }
    };
    hide(&mut shown.error);
    for field in [&mut shown.reason, &mut shown.detail, &mut shown.hint].into_iter().flatten() {
        hide(field);
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_cause_is_shown_once() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let e = anyhow::Error::new(io).context("Connection refused").context("calling the server");
        assert_eq!(chain(&e), "calling the server: Connection refused");
    }

    #[test]
    fn the_credential_is_masked_everywhere() {
        let key = "ward_live_ak_0123456789abcdefSECRETsecretSECRETsecretSECRET00AAAAAA";
        let shown = Shown {
            error: format!("bad {key}"),
            detail: Some(format!("the token `{key}` is unknown")),
            ..Shown::default()
        };
        let masked = mask(shown, Some(key));
        assert_eq!(masked.error, "bad <WARD_ADMIN_KEY>");
        assert!(!masked.detail.unwrap().contains("SECRET"));
    }

    #[test]
    fn a_problem_keeps_its_reason_detail_and_hint() {
        let problem: ward_client::Problem = serde_json::from_value(json!({
            "title": "The token lacks a scope.", "status": 403, "reason": "insufficient_scope",
            "detail": "needs ward:admin", "hint": "Use a key with ward:admin."
        }))
        .unwrap();
        let e = anyhow::Error::new(Error::Http { status: 403, problem: Some(Box::new(problem)) });
        let s = shown(&e);
        assert_eq!(s.error, "server answered 403: The token lacks a scope.");
        assert_eq!(
            (s.status, s.reason.as_deref(), s.detail.as_deref(), s.hint.as_deref()),
            (
                Some(403),
                Some("insufficient_scope"),
                Some("needs ward:admin"),
                Some("Use a key with ward:admin.")
            )
        );
    }
}
