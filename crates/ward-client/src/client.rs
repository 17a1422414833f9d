//! `WardClient`: sends an [`Endpoint`] to a Ward server and decodes the answer.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use hyper::{Request, Uri};
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::endpoint::{Auth, Endpoint, Method};
use crate::error::{Error, Problem};
use crate::secret::Secret;
use crate::transport::{Failure, Transport, Trust};

/// How long a call may take, connect to last byte, unless [`WardClient::with_timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

const USER_AGENT_VALUE: &str = concat!("ward-client/", env!("CARGO_PKG_VERSION"));

/// An async client for one Ward server.
///
/// Cheap to clone (clones share the connection pool and the credential), and usable from any
/// tokio runtime with its timer enabled. `Debug` shows the server and whether a credential is
/// held, never the credential.
#[derive(Clone)]
pub struct WardClient {
    /// The server's URL without a trailing `/`; paths are appended to it.
    base: Arc<str>,
    credential: Option<Arc<Secret>>,
    timeout: Duration,
    transport: Transport,
}

impl WardClient {
    /// A client for the server at `base_url` (`http://host:port`, optionally with a path prefix
    /// such as a reverse proxy adds), sending `credential` (a Ward key) as `Authorization: Bearer`.
    ///
    /// `https://` servers must present a certificate that leads to one of Mozilla's root
    /// certificates (built in); [`WardClient::with_ca_pem`] trusts a private CA instead.
    /// Nothing is sent until the first call.
    pub fn new(base_url: &str, credential: Option<Secret>) -> Result<Self, Error> {
        let base = check_base(base_url)?;
        Ok(WardClient {
            base: base.into(),
            credential: credential.map(Arc::new),
            timeout: DEFAULT_TIMEOUT,
            transport: Transport::new(&Trust::WebPki).map_err(|reason| Error::TlsSetup { reason })?,
        })
    }

    /// The same client trusting only the certificates in `pem` (PEM text: a private CA, or the
    /// server's own self-signed certificate) for `https://`, like `curl --cacert`.
    ///
    /// The built-in roots are then not used. Fails if `pem` holds no usable certificate.
    pub fn with_ca_pem(mut self, pem: &[u8]) -> Result<Self, Error> {
        let trust = Trust::from_pem(pem).map_err(|reason| Error::TlsSetup { reason })?;
        self.transport = Transport::new(&trust).map_err(|reason| Error::TlsSetup { reason })?;
        Ok(self)
    }

    /// The same client with another overall timeout per call.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The server's base URL, as calls use it.
    pub fn server(&self) -> &str {
        &self.base
    }

    /// Whether the client holds a credential.
    pub fn has_credential(&self) -> bool {
        self.credential.is_some()
    }

    /// Makes the call and decodes a 2xx answer as the endpoint's response type.
    ///
    /// Any other status is [`Error::Http`], with the server's problem document.
    pub async fn send<E: Endpoint>(&self, call: &E) -> Result<E::Response, Error> {
        self.send_as(call).await
    }

    /// Makes the call and decodes a 2xx answer as `T`: `serde_json::Value` keeps the server's
    /// answer whole (the CLI's `--json`), a caller's own type can pick out what it needs.
    pub async fn send_as<T: DeserializeOwned, E: Endpoint>(&self, call: &E) -> Result<T, Error> {
        let path = call.path();
        let body = call.body().map_err(|source| Error::Encode { path: path.clone(), source })?;
        let url = format!("{}{path}", self.base);
        let uri: Uri = url.parse().map_err(|e: hyper::http::uri::InvalidUri| Error::InvalidUrl {
            url: url.clone(),
            reason: e.to_string(),
        })?;

        let has_body = body.is_some();
        let mut req = Request::new(Full::new(body.map(Bytes::from).unwrap_or_default()));
        *req.method_mut() = match E::METHOD {
            Method::Get => hyper::Method::GET,
            Method::Post => hyper::Method::POST,
        };
        *req.uri_mut() = uri;
        let headers = req.headers_mut();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        if has_body {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let credential = match (E::AUTH, &self.credential) {
            (Auth::Never, _) | (Auth::IfHeld, None) => None,
            (Auth::Required | Auth::IfHeld, Some(c)) => Some(c),
            (Auth::Required, None) => {
                return Err(Error::MissingCredential { method: E::METHOD.as_str(), path });
            }
        };
        if let Some(c) = credential {
            headers.insert(AUTHORIZATION, bearer(c)?);
        }

        let exchange = tokio::time::timeout(self.timeout, self.transport.exchange(req));
        let (status, bytes) = match exchange.await {
            Err(_) => return Err(Error::Timeout { url, after: self.timeout }),
            Ok(Err(Failure::Connect(source))) => {
                return Err(Error::Connect { url: self.base.to_string(), source })
            }
            Ok(Err(Failure::Tls(source))) => return Err(Error::Tls { url: self.base.to_string(), source }),
            Ok(Err(Failure::Other(source))) => return Err(Error::Transport { url, source }),
            Ok(Ok(answer)) => answer,
        };
        if !status.is_success() {
            // Any JSON object is kept: Ward's errors are problem documents, but a proxy in front
            // of it, or a 503 verify, may answer with another shape.
            let problem = serde_json::from_slice::<Problem>(&bytes).ok().map(Box::new);
            return Err(Error::Http { status: status.as_u16(), problem });
        }
        serde_json::from_slice(&bytes).map_err(|source| Error::Decode { path, source })
    }
}

impl fmt::Debug for WardClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WardClient")
            .field("server", &self.base)
            .field("credential", &self.credential.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// `Bearer <credential>`, marked sensitive so hyper never shows it (nor HPACK-indexes it, once
/// HTTP/2 is in use).
fn bearer(credential: &Secret) -> Result<HeaderValue, Error> {
    let text = Zeroizing::new(format!("Bearer {}", credential.expose()));
    let mut value = HeaderValue::from_str(&text).map_err(|_| Error::InvalidCredential)?;
    value.set_sensitive(true);
    Ok(value)
}

/// Checks a server URL and returns it without a trailing `/`.
fn check_base(url: &str) -> Result<String, Error> {
    let invalid = |reason: &str| Error::InvalidUrl { url: url.to_string(), reason: reason.to_string() };
    let trimmed = url.trim_end_matches('/');
    let uri: Uri = trimmed.parse().map_err(|e: hyper::http::uri::InvalidUri| invalid(&e.to_string()))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(invalid("it must start with http:// or https://")),
    }
    let Some(authority) = uri.authority() else { return Err(invalid("it names no host")) };
    if authority.as_str().contains('@') {
        return Err(invalid("it must not hold credentials; give the Ward key as the client's credential"));
    }
    if uri.query().is_some() {
        return Err(invalid("it must not have a query"));
    }
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{CreateKey, GetKey};
    use crate::meta::CheckHealth;
    use crate::verify::Verify;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    const CREDENTIAL: &str = "ward_live_ak_0123456789abcdefTOPSECRETtopsecretTOPSECRET0000AAAAAA";

    /// A server that answers one request with `status` and a JSON `body`, and hands back the
    /// request it got (head and body) as text.
    async fn answer_once(
        status: &'static str,
        content_type: &'static str,
        body: &'static str,
    ) -> (String, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            // Read the head, then as much body as Content-Length says.
            loop {
                let n = sock.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length: ").map(str::to_string)
                        })
                        .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                    if got.len() >= end + 4 + len {
                        break;
                    }
                }
                assert!(n > 0, "the client closed early");
            }
            let answer = format!(
                "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            sock.write_all(answer.as_bytes()).await.unwrap();
            sock.shutdown().await.unwrap();
            String::from_utf8(got).unwrap()
        });
        (url, task)
    }

    fn client(url: &str, credential: Option<&str>) -> WardClient {
        WardClient::new(url, credential.map(Secret::from)).unwrap()
    }

    #[tokio::test]
    async fn a_problem_answer_becomes_an_http_error_with_reason_and_hint() {
        let (url, server) = answer_once(
            "403 Forbidden",
            "application/problem+json",
            r#"{"type":"urn:ward:reason:insufficient_scope","title":"The token lacks a scope.","status":403,
               "detail":"this endpoint needs the `ward:admin` scope","reason":"insufficient_scope",
               "hint":"Issue a token that carries the missing scopes."}"#,
        )
        .await;
        let err = client(&url, Some(CREDENTIAL)).send(&CreateKey::new("alice")).await.unwrap_err();
        server.await.unwrap();
        let Error::Http { status, problem: Some(p) } = &err else { panic!("{err:?}") };
        assert_eq!(*status, 403);
        assert_eq!(p.reason.as_deref(), Some("insufficient_scope"));
        assert_eq!(p.hint.as_deref(), Some("Issue a token that carries the missing scopes."));
        assert_eq!(p.kind.as_deref(), Some("urn:ward:reason:insufficient_scope"));
        assert_eq!(err.to_string(), "server answered 403: The token lacks a scope. (insufficient_scope)");
    }

    #[tokio::test]
    async fn a_refused_connection_names_the_url_and_what_to_do() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let url = format!("http://127.0.0.1:{port}");
        let err = client(&url, None).send(&CheckHealth).await.unwrap_err();
        let Error::Connect { url: named, source } = &err else { panic!("{err:?}") };
        assert_eq!(named, &url);
        let text = err.to_string();
        assert!(text.contains(&url) && text.contains("WARD_SERVER"), "{text}");
        assert!(source.to_string().to_lowercase().contains("refused"), "{source}");
    }

    #[tokio::test]
    async fn verify_answers_decode_and_an_invalid_token_is_not_an_error() {
        let (url, server) = answer_once(
            "200 OK",
            "application/json",
            r#"{"valid":false,"reason":"insufficient_scope","message":"The token lacks a scope.",
               "hint":"Issue a token that carries the missing scopes.","detail":"missing scope(s): write"}"#,
        )
        .await;
        let verdict = client(&url, Some(CREDENTIAL)).send(&Verify::new("ward_live_ak_x")).await.unwrap();
        server.await.unwrap();
        assert!(!verdict.valid);
        assert_eq!(verdict.reason.as_deref(), Some("insufficient_scope"));
        assert_eq!(verdict.detail.as_deref(), Some("missing scope(s): write"));

        let (url, server) = answer_once(
            "200 OK",
            "application/json",
            r#"{"valid":true,"reason":"valid","message":"m","hint":"h","unknown_new_field":[1],
               "key":{"id":"k1","env":"live","subject":"alice","name":null,"scopes":["read"],"meta":{},
                      "status":"active","created_at":"2025-01-01T00:00:00Z","remaining_uses":4}}"#,
        )
        .await;
        let verdict = client(&url, None).send(&Verify::new("ward_live_ak_x")).await.unwrap();
        server.await.unwrap();
        let key = verdict.key.unwrap();
        assert!(verdict.valid);
        assert_eq!((key.subject.as_str(), key.remaining_uses), ("alice", Some(4)));

        let (url, server) =
            answer_once("200 OK", "application/json", r#"{"valid":false,"error":"invalid_token"}"#).await;
        let verdict = client(&url, None).send(&Verify::new("x")).await.unwrap();
        server.await.unwrap();
        assert_eq!(
            (verdict.valid, verdict.reason, verdict.error.as_deref()),
            (false, None, Some("invalid_token"))
        );
    }

    #[tokio::test]
    async fn the_credential_goes_in_a_bearer_header() {
        let (url, server) =
            answer_once("200 OK", "application/json", r#"{"id":"k/1","subject":"s","status":"active"}"#)
                .await;
        let key = client(&url, Some(CREDENTIAL)).send(&GetKey { id: "k/1".into() }).await.unwrap();
        let request = server.await.unwrap();
        assert_eq!(key.id, "k/1");
        assert!(request.starts_with("GET /v1/keys/k%2F1 HTTP/1.1\r\n"), "{request}");
        let auth = request.lines().find(|l| l.to_ascii_lowercase().starts_with("authorization:")).unwrap();
        assert_eq!(auth, format!("authorization: Bearer {CREDENTIAL}"));
    }

    #[tokio::test]
    async fn a_verify_without_a_credential_is_sent_anonymously_and_public_calls_never_carry_it() {
        let (url, server) = answer_once("200 OK", "application/json", r#"{"valid":false}"#).await;
        client(&url, None).send(&Verify::new("tok")).await.unwrap();
        let request = server.await.unwrap();
        assert!(!request.to_ascii_lowercase().contains("authorization:"), "{request}");
        assert!(request.ends_with(r#"{"token":"tok"}"#), "{request}");

        let (url, server) = answer_once("200 OK", "application/json", r#"{"status":"ok"}"#).await;
        let health = client(&url, Some(CREDENTIAL)).send(&CheckHealth).await.unwrap();
        let request = server.await.unwrap();
        assert_eq!(health.status, "ok");
        assert!(!request.contains(CREDENTIAL), "{request}");
    }

    #[tokio::test]
    async fn a_call_that_needs_a_credential_fails_before_sending_without_one() {
        let err = client("http://127.0.0.1:9", None).send(&CreateKey::new("a")).await.unwrap_err();
        assert!(matches!(err, Error::MissingCredential { method: "POST", .. }), "{err:?}");
    }

    #[tokio::test]
    async fn an_answer_of_another_shape_is_a_decode_error_and_raw_json_is_kept_whole() {
        let (url, server) = answer_once("200 OK", "application/json", r#"{"unexpected":true}"#).await;
        let err = client(&url, None).send(&CheckHealth).await.unwrap_err();
        server.await.unwrap();
        assert!(matches!(err, Error::Decode { .. }), "{err:?}");

        let (url, server) = answer_once("200 OK", "application/json", r#"{"status":"ok","b":[1]}"#).await;
        let raw: serde_json::Value = client(&url, None).send_as(&CheckHealth).await.unwrap();
        server.await.unwrap();
        assert_eq!(raw, serde_json::json!({"status": "ok", "b": [1]}));
    }

    #[tokio::test]
    async fn a_server_that_never_answers_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let hold = tokio::spawn(async move {
            let (sock, _) = listener.accept().await.unwrap();
            tokio::time::sleep(Duration::from_secs(5)).await;
            drop(sock);
        });
        let err =
            client(&url, None).with_timeout(Duration::from_millis(200)).send(&CheckHealth).await.unwrap_err();
        hold.abort();
        assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
        assert_eq!(err.to_string(), format!("{url}/healthz did not answer within 200ms"));
    }

    #[test]
    fn debug_output_never_holds_the_credential() {
        let c = client("http://127.0.0.1:7878/", Some(CREDENTIAL));
        let shown = format!("{c:?} {c:#?}");
        assert!(!shown.contains("TOPSECRET") && !shown.contains(CREDENTIAL), "{shown}");
        assert!(shown.contains("<redacted>") && shown.contains("http://127.0.0.1:7878"), "{shown}");
        assert_eq!(c.server(), "http://127.0.0.1:7878");
    }

    #[test]
    fn unusable_server_urls_are_refused_up_front() {
        for bad in
            ["127.0.0.1:7878", "https://u:p@ward.example", "http://u:p@host", "ftp://x", "http://h/?q=1", ""]
        {
            let err = WardClient::new(bad, None).unwrap_err();
            assert!(matches!(err, Error::InvalidUrl { .. }), "{bad}: {err:?}");
        }
        assert!(WardClient::new("http://proxy.local/ward/", None).is_ok());
        assert!(WardClient::new("https://ward.example:8443", None).is_ok());
    }
}
