//! Slow clients: a request head or body that does not arrive in time is cut off, so a client
//! cannot hold a connection or a handler for ever (slowloris). Time is tokio's paused clock: it
//! jumps to the next timer whenever every task is waiting, so no test waits for real.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::Request;
use axum::routing::get;
use axum::Router;
use hyper::body::Frame;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use ward_testkit::{assert_problem, StatusCode, TestApp};

/// Serves a trivial router through `ward_server::serve` on a free port.
async fn serving(header_read_timeout: Option<Duration>) -> SocketAddr {
    serving_until(header_read_timeout, std::future::pending()).await.0
}

/// [`serving`] until `shutdown` completes; the handle ends when `serve` returns.
async fn serving_until(
    header_read_timeout: Option<Duration>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route("/healthz", get(|| async { "ok" })).route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(45)).await;
            "done"
        }),
    );
    (addr, tokio::spawn(ward_server::serve::serve(listener, app, header_read_timeout, shutdown)))
}

/// Connects and sends `bytes` (a whole request, or the start of one).
async fn send(addr: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(bytes).await.unwrap();
    c
}

const HEALTHZ: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: ward\r\n\r\n";
const HALF_A_HEAD: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: ward\r\nX-Slow: ";
const SLOW: &[u8] = b"GET /slow HTTP/1.1\r\nHost: ward\r\n\r\n";

/// Reads until the server answers something or closes: the bytes read (empty when closed). Fails
/// if neither happens within a day (of paused time), rather than hanging the test.
async fn answer(c: &mut TcpStream) -> Vec<u8> {
    let mut buf = vec![0u8; 512];
    let read = tokio::time::timeout(Duration::from_secs(86_400), c.read(&mut buf)).await;
    let n = read.expect("the server neither answered nor closed the connection").unwrap_or(0);
    buf.truncate(n);
    buf
}

/// Waits for the server to give up on connection `c`, which sent `sent`: it must be closed (or
/// told 408) when the 30 s limit is reached, and not before.
async fn cut_off_after_30_s(mut c: TcpStream, sent: &[u8]) {
    let started = Instant::now();
    let reply = answer(&mut c).await;
    let waited = started.elapsed();
    let shown = String::from_utf8_lossy(sent);
    assert!(
        reply.is_empty() || reply.starts_with(b"HTTP/1.1 408"),
        "after {shown:?}, the connection is closed (or told 408): {}",
        String::from_utf8_lossy(&reply)
    );
    // The timer fires at the limit; the bound leaves room for scheduling.
    assert!(
        waited >= Duration::from_secs(30) && waited <= Duration::from_secs(32),
        "after {shown:?}, cut off after {waited:?}"
    );
}

#[tokio::test]
async fn a_request_head_that_stops_half_way_is_cut_off_after_the_timeout() {
    tokio::time::pause();
    let addr = serving(Some(Duration::from_secs(30))).await;

    let mut whole = send(addr, HEALTHZ).await;
    let reply = answer(&mut whole).await;
    assert!(reply.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&reply));

    cut_off_after_30_s(send(addr, HALF_A_HEAD).await, HALF_A_HEAD).await;

    // The kept-alive connection that finished its request is closed once idle that long too.
    assert!(answer(&mut whole).await.is_empty());
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_timeout() {
    tokio::time::pause();
    let addr = serving(Some(Duration::from_secs(30))).await;
    for first in [&b""[..], b"P", b"PRI * HTTP/2.0\r\n"] {
        cut_off_after_30_s(send(addr, first).await, first).await;
    }
}

#[tokio::test]
async fn a_request_in_progress_is_not_cut_off_however_long_it_takes() {
    tokio::time::pause();
    let addr = serving(Some(Duration::from_secs(30))).await;
    let mut c = send(addr, SLOW).await;
    let started = Instant::now();
    let reply = answer(&mut c).await;
    assert!(reply.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&reply));
    assert!(started.elapsed() >= Duration::from_secs(45));
}

#[tokio::test]
async fn without_a_header_timeout_a_slow_head_is_waited_for() {
    tokio::time::pause();
    let addr = serving(None).await;
    let mut slow = send(addr, HALF_A_HEAD).await;
    let mut buf = [0u8; 64];
    let still_open = tokio::time::timeout(Duration::from_secs(3600), slow.read(&mut buf)).await;
    assert!(still_open.is_err(), "nothing was answered and the connection stayed open for an hour");
    slow.write_all(b"1\r\n\r\n").await.unwrap();
    let reply = answer(&mut slow).await;
    assert!(reply.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&reply));
}

#[tokio::test]
async fn stopping_finishes_requests_in_flight_and_closes_idle_connections() {
    tokio::time::pause();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (addr, server) = serving_until(Some(Duration::from_secs(30)), async {
        let _ = stopped.await;
    })
    .await;
    let mut idle = send(addr, HEALTHZ).await;
    assert!(answer(&mut idle).await.starts_with(b"HTTP/1.1 200"));
    let mut busy = send(addr, SLOW).await;
    tokio::time::sleep(Duration::from_secs(1)).await; // the slow request is in its handler now
    stop.send(()).unwrap();

    let asked = Instant::now();
    assert!(answer(&mut idle).await.is_empty(), "the idle connection is closed");
    assert!(asked.elapsed() < Duration::from_secs(1), "at once, not by the header timeout");
    assert!(!server.is_finished(), "serve waits for the request in flight");
    let reply = String::from_utf8(answer(&mut busy).await).unwrap();
    assert!(
        reply.starts_with("HTTP/1.1 200") && reply.ends_with("done"),
        "the request in flight finished: {reply}"
    );
    tokio::time::timeout(Duration::from_secs(60), server).await.expect("serve returned").unwrap();
    assert!(TcpStream::connect(addr).await.is_err(), "the listener is closed");
}

/// A body that sends its first bytes and then nothing more, without ending.
struct Stalled(Option<Bytes>);

impl hyper::body::Body for Stalled {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.0.take() {
            Some(first) => Poll::Ready(Some(Ok(Frame::data(first)))),
            None => Poll::Pending,
        }
    }
}

#[tokio::test]
async fn a_body_that_stops_coming_is_answered_408_after_the_timeout() {
    let app = TestApp::sqlite().await;
    tokio::time::pause();
    // Anonymous, so nothing reads the store before the body: only the body's timer can end this.
    for path in ["/v1/verify", "/oauth2/introspect"] {
        let req = Request::post(path)
            .header("content-type", "application/json")
            .body(Body::new(Stalled(Some(Bytes::from_static(b"{\"token\":")))))
            .unwrap();
        let started = Instant::now();
        let answer = app.send(req).await;
        assert_problem(&answer, StatusCode::REQUEST_TIMEOUT, "request_timeout");
        let (waited, limit) = (started.elapsed(), app.state.http.body_read_timeout);
        assert!(
            waited >= limit && waited < limit + Duration::from_secs(1),
            "{path} answered after {waited:?}"
        );
    }
}
