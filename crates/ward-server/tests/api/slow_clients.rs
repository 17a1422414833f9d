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

/// The HTTP/2 connection preface and an empty SETTINGS frame: the start of any h2c connection.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// An HTTP/2 HEADERS frame on stream 1 for `GET /` (HPACK static-table entries 2, 6 and 4),
/// with `flags` (0x1 END_STREAM, 0x4 END_HEADERS).
fn h2_get(flags: u8) -> Vec<u8> {
    vec![0, 0, 3, 0x1, flags, 0, 0, 0, 1, 0x82, 0x86, 0x84]
}

/// Reads until the connection is closed; returns how long that took from the call. Frames the
/// server sends on the way (its SETTINGS, an answer, a GOAWAY) are read and dropped. Fails if
/// the connection is still open after a day of paused time.
async fn closed_after(c: &mut TcpStream) -> Duration {
    let started = Instant::now();
    let mut buf = vec![0u8; 4096];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(86_400), c.read(&mut buf)).await;
        match read.expect("the server never closed the h2c connection") {
            Ok(0) | Err(_) => return started.elapsed(),
            Ok(_) => {}
        }
    }
}

/// hyper arms no timer on an HTTP/2 connection between requests: 150 idle h2c connections stayed
/// open past 65 s (issue 9). The idle watchdog closes one once nothing was in flight for the
/// limit.
#[tokio::test]
async fn an_idle_h2c_connection_is_closed_after_the_timeout() {
    tokio::time::pause();
    let addr = serving(Some(Duration::from_secs(30))).await;
    let mut c = send(addr, H2_PREFACE).await;
    c.write_all(&h2_get(0x5)).await.unwrap();
    // The answer comes at once (a HEADERS frame, type 0x1, among the server's first frames).
    let mut got = Vec::new();
    let mut buf = vec![0u8; 4096];
    while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(500), c.read(&mut buf)).await {
        assert!(n > 0, "closed before answering");
        got.extend_from_slice(&buf[..n]);
    }
    assert!(got.len() > 9, "the server answered over HTTP/2: {got:?}");
    let waited = closed_after(&mut c).await + Duration::from_millis(500);
    assert!(
        waited >= Duration::from_secs(30) && waited <= Duration::from_secs(32),
        "closed {waited:?} after its answer"
    );
}

/// A header block that never ends (HEADERS without END_HEADERS, no CONTINUATION) is no request
/// yet: it holds the connection only until the limit.
#[tokio::test]
async fn an_h2c_header_block_that_never_ends_is_cut_off_after_the_timeout() {
    tokio::time::pause();
    let addr = serving(Some(Duration::from_secs(30))).await;
    let mut c = send(addr, H2_PREFACE).await;
    c.write_all(&h2_get(0x1)).await.unwrap();
    let waited = closed_after(&mut c).await;
    assert!(
        waited >= Duration::from_secs(29) && waited <= Duration::from_secs(32),
        "cut off after {waited:?}"
    );
}

/// An h2c request whose handler takes longer than the limit is not cut off: it is in flight.
#[tokio::test]
async fn an_h2c_request_in_progress_is_not_cut_off() {
    tokio::time::pause();
    let addr = serving(Some(Duration::from_secs(30))).await;
    let mut c = send(addr, H2_PREFACE).await;
    // `GET /slow`: :method GET, :scheme http, then :path as a literal without indexing (0x04,
    // name index 4, 5 bytes).
    let mut block = vec![0x82, 0x86, 0x04, 5];
    block.extend_from_slice(b"/slow");
    let len = u8::try_from(block.len()).unwrap();
    let mut frame = vec![0, 0, len, 0x1, 0x5, 0, 0, 0, 1];
    frame.extend_from_slice(&block);
    c.write_all(&frame).await.unwrap();
    let started = Instant::now();
    let mut buf = vec![0u8; 4096];
    let mut got = Vec::new();
    // Read until the DATA frame with "done" arrives.
    while !got.windows(4).any(|w| w == b"done") {
        let n = tokio::time::timeout(Duration::from_secs(86_400), c.read(&mut buf)).await.unwrap().unwrap();
        assert!(n > 0, "closed after {:?} with the request in flight", started.elapsed());
        got.extend_from_slice(&buf[..n]);
    }
    assert!(started.elapsed() >= Duration::from_secs(45));
}
