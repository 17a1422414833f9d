//! The connection layer: HTTP/1.1 over plain TCP or TLS (rustls), with a pool of kept-alive
//! connections.
//!
//! This is the one place that knows about connectors and certificates. `https://` servers are
//! checked against Mozilla's root certificates (built in, so a minimal container without a CA
//! bundle works), or against the certificates a caller names instead (a private CA).

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::{Request, StatusCode};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

use crate::error::BoxError;

/// How connections are made: TCP, then TLS for `https://`.
type Connector = HttpsConnector<HttpConnector>;

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
    /// The TLS handshake failed: the server's certificate is not trusted, or names another host.
    Tls(BoxError),
    /// The connection failed after it was made, or the answer was too large.
    Other(BoxError),
}

/// Which certificates an `https://` server's chain must lead to.
#[derive(Debug, Clone)]
pub(crate) enum Trust {
    /// Mozilla's root certificates (the `webpki-roots` crate).
    WebPki,
    /// Only these (DER) certificates: a private CA, or a self-signed server certificate.
    Only(Vec<CertificateDer<'static>>),
}

impl Trust {
    /// The certificates in a PEM file's text: at least one, or why not. A private key or
    /// anything else in the file is ignored.
    pub(crate) fn from_pem(pem: &[u8]) -> Result<Trust, String> {
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("it is not PEM: {e}"))?;
        if certs.is_empty() {
            return Err("it holds no `-----BEGIN CERTIFICATE-----` block".into());
        }
        Ok(Trust::Only(certs))
    }

    fn roots(&self) -> Result<RootCertStore, String> {
        let mut roots = RootCertStore::empty();
        match self {
            Trust::WebPki => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            Trust::Only(certs) => {
                for cert in certs {
                    roots.add(cert.clone()).map_err(|e| format!("a certificate cannot be used: {e}"))?;
                }
            }
        }
        Ok(roots)
    }
}

/// A pooled HTTP client. Cheap to clone: clones share the pool.
#[derive(Clone)]
pub(crate) struct Transport {
    client: Client<Connector, Full<Bytes>>,
}

impl Transport {
    /// A transport with its own connection pool, trusting `trust` for `https://`.
    pub(crate) fn new(trust: &Trust) -> Result<Self, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(trust.roots()?)
            .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        http.enforce_http(false);
        let https = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(IDLE_TIMEOUT)
            .build(https);
        Ok(Transport { client })
    }

    /// Sends `req` and reads the whole answer.
    pub(crate) async fn exchange(&self, req: Request<Full<Bytes>>) -> Result<(StatusCode, Bytes), Failure> {
        let resp = self.client.request(req).await.map_err(|e| {
            if let Some(tls) = tls_cause(&e) {
                Failure::Tls(tls.to_string().into())
            } else if e.is_connect() {
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

/// The rustls error somewhere in `e`'s chain. It is wrapped in `io::Error`s, whose `source()`
/// skips the wrapped error itself, so each one is opened with `get_ref` too.
fn tls_cause<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut next = Some(e);
    while let Some(cause) = next {
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        next = match cause.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => cause.source(),
        };
    }
    None
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;
    use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio_rustls::TlsAcceptor;

    use crate::meta::CheckHealth;
    use crate::{Error, WardClient};

    /// A CA, and a certificate it signed for `localhost` and 127.0.0.1: the CA's PEM, the
    /// server's chain and key.
    fn test_pki() -> (String, Vec<rustls::pki_types::CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, "Ward test CA");
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        (ca.pem(), vec![leaf.der().clone()], der)
    }

    /// A TLS server answering every connection's request with a health answer; its port.
    async fn tls_health_server() -> (u16, String) {
        let (ca_pem, chain, key) = test_pki();
        let config =
            rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            loop {
                let (sock, _) = listener.accept().await.unwrap();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(sock).await else { return };
                    let mut buf = [0u8; 4096];
                    let _ = tls.read(&mut buf).await;
                    let body = r#"{"status":"ok"}"#;
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.write_all(answer.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        (port, ca_pem)
    }

    #[tokio::test]
    async fn https_works_with_the_servers_ca_and_fails_clearly_without_it() {
        let (port, ca_pem) = tls_health_server().await;
        let url = format!("https://localhost:{port}");
        let trusting = WardClient::new(&url, None).unwrap().with_ca_pem(ca_pem.as_bytes()).unwrap();
        assert_eq!(trusting.send(&CheckHealth).await.unwrap().status, "ok");

        // The built-in roots do not know the test CA: a TLS error, not "could not connect".
        let err = WardClient::new(&url, None).unwrap().send(&CheckHealth).await.unwrap_err();
        let Error::Tls { url: named, source } = &err else { panic!("{err:?}") };
        assert_eq!(named, &url);
        assert!(err.to_string().contains("--cacert"), "{err}");
        assert!(source.to_string().contains("UnknownIssuer"), "{source}");

        // Another CA is no better, and a file without a certificate is refused up front.
        let (other_ca, _, _) = test_pki();
        let other = WardClient::new(&url, None).unwrap().with_ca_pem(other_ca.as_bytes()).unwrap();
        assert!(matches!(other.send(&CheckHealth).await.unwrap_err(), Error::Tls { .. }));
        let bad = WardClient::new(&url, None).unwrap().with_ca_pem(b"not a certificate");
        assert!(matches!(bad, Err(Error::TlsSetup { .. })), "{bad:?}");

        // A plain-HTTP server at an https:// URL is a TLS error too.
        let plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let plain_port = plain.local_addr().unwrap().port();
        let plain = TcpListener::from_std({
            plain.set_nonblocking(true).unwrap();
            plain
        })
        .unwrap();
        tokio::spawn(async move {
            let (mut sock, _) = plain.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = sock.read(&mut buf).await;
            let _ = sock.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n").await;
        });
        let err = WardClient::new(&format!("https://127.0.0.1:{plain_port}"), None)
            .unwrap()
            .with_ca_pem(ca_pem.as_bytes())
            .unwrap()
            .send(&CheckHealth)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    }
}
