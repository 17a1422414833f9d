//! The connection layer: HTTP/1.1 over plain TCP, with a pool of kept-alive connections.
//!
//! This is the one place that knows about connectors. TLS lands here: wrap the `HttpConnector`
//! in a rustls connector (hyper-rustls' `HttpsConnector`), change [`Connector`], and accept
//! `https://` in `WardClient::new`; nothing else in the crate changes.

use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::error::BoxError;

/// How connections are made.
type Connector = HttpConnector;

/// Longest a TCP connect may take, under the client's overall timeout: an address that drops
/// packets should fail as a connect error, which says what to do, rather than as a timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an unused kept-alive connection stays in the pool.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Largest answer body read: a full key listing (1000 keys) is well under 1 MiB.
const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// Why an exchange failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// No connection could be made; the root cause (refused, unreachable, DNS).
    Connect(BoxError),
    /// The connection failed after it was made, or the answer was too large.
    Other(BoxError),
}

/// A pooled HTTP client. Cheap to clone: clones share the pool.
#[derive(Clone)]
pub(crate) struct Transport {
    client: Client<Connector, Full<Bytes>>,
}

impl Transport {
    /// A transport with its own connection pool.
    pub(crate) fn new() -> Self {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(IDLE_TIMEOUT)
            .build(http);
        Transport { client }
    }

    /// Sends `req` and reads the whole answer.
    pub(crate) async fn exchange(&self, req: Request<Full<Bytes>>) -> Result<(StatusCode, Bytes), Failure> {
        let resp = self.client.request(req).await.map_err(|e| {
            if e.is_connect() {
                Failure::Connect(root_cause(&e))
            } else {
                Failure::Other(Box::new(e))
            }
        })?;
        let status = resp.status();
        let body =
            Limited::new(resp.into_body(), MAX_ANSWER_BYTES).collect().await.map_err(Failure::Other)?;
        Ok((status, body.to_bytes()))
    }
}

/// The innermost error of `e`'s chain, copied out. The layers above it ("client error
/// (Connect)", "tcp connect error") say nothing a person can act on; "Connection refused" does.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> BoxError {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    match cause.downcast_ref::<std::io::Error>() {
        Some(io) => Box::new(std::io::Error::new(io.kind(), io.to_string())),
        None => cause.to_string().into(),
    }
}
