//! Serving the app on a socket, with limits on slow clients.
//!
//! `axum::serve` arms no timer, so a client that sends a request head a byte at a time, or never
//! finishes it, holds its connection for ever (slowloris). Here every connection gets hyper's
//! header-read timeout: the head of each request, and the wait for the next one on a kept-alive
//! connection, must complete within `header_read_timeout` or the connection is closed. A new
//! connection's first request must arrive within it too, whatever the protocol turns out to be
//! (hyper's timer only starts once the protocol is known, so a client that sends nothing would
//! otherwise be waited for). HTTP/2 without TLS (h2c) has no such timer in hyper at all, so every
//! connection also has an idle watchdog: with no request in flight for `header_read_timeout`
//! (after its last answer, or inside a header block that never ends) it is closed. Bodies have
//! their own limit, `body_read_timeout`, applied where a handler reads one (`extract::RawBody`).
//! Stopping is graceful: the listener closes, requests in flight finish, idle connections close.
//!
//! hyper arms a timer for each request head, which costs about 3–4% of verify throughput
//! (docs/benchmarks.md); a per-connection watchdog task was tried instead and measured no cheaper.
//! The load test's baseline is served by this same function, so the ratio compares like with like.

use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::time::Instant;
use tower::ServiceExt as _;

/// Serves `app` on `listener` until `shutdown` completes, then waits for requests in flight.
/// `header_read_timeout` of `None` turns the slow-client limit off (behind a proxy that has one).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_read_timeout: Option<Duration>,
    shutdown: impl Future<Output = ()>,
) {
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Every connection with a limit has an idle watchdog: it knows the requests in flight and
        // when the last one ended.
        let watch = header_read_timeout.map(|limit| (limit, Arc::new(Activity::new())));
        let seen = watch.as_ref().map(|(_, a)| a.clone());
        let service =
            // The peer's address, for the failure throttle and sender binding (`address::stamp`).
            app.clone().map_request(move |r: Request<Incoming>| {
                let mut r = r.map(Body::new);
                r.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                r
            }).map_future(move |answer| {
                let busy = seen.as_ref().map(|a| Busy::enter(a.clone()));
                async move {
                    let answered = answer.await;
                    drop(busy);
                    answered
                }
            });
        let service = TowerToHyperService::new(service);
        let mut builder = auto::Builder::new(TokioExecutor::new());
        if let Some(limit) = header_read_timeout {
            builder.http1().timer(TokioTimer::new()).header_read_timeout(limit);
            builder.http2().timer(TokioTimer::new());
        }
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service).into_owned());
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            let Some((limit, activity)) = watch else {
                return log_end(connection.await);
            };
            // hyper's header timer starts once it knows the protocol, and HTTP/2 (h2c) has none
            // between requests at all: a client that sends nothing, a few bytes that could still
            // begin the HTTP/2 preface, a header block it never ends (HEADERS without
            // END_HEADERS), or an HTTP/2 connection it keeps open after its last answer would be
            // waited for forever. So a connection with no request in flight for `limit` is
            // dropped (closed), whatever its protocol (issue 9). HTTP/1 has hyper's own timer too.
            loop {
                let deadline = activity.idle_deadline(limit);
                tokio::select! {
                    ended = &mut connection => return log_end(ended),
                    () = tokio::time::sleep_until(deadline) => {
                        if activity.is_idle_for(limit) {
                            return;
                        }
                    }
                }
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// What the idle watchdog knows of one connection: its requests in flight, and when the last one
/// ended (or the connection began). Two atomic operations and a clock read per request.
#[derive(Debug)]
struct Activity {
    born: Instant,
    in_flight: AtomicUsize,
    /// Milliseconds from `born` to the end of the latest request.
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Activity { born: Instant::now(), in_flight: AtomicUsize::new(0), last_ms: AtomicU64::new(0) }
    }

    fn last(&self) -> Instant {
        self.born + Duration::from_millis(self.last_ms.load(Ordering::Acquire))
    }

    /// When the connection will have been idle for `limit`, if nothing happens before: a
    /// connection with a request in flight is looked at again `limit` from now.
    fn idle_deadline(&self, limit: Duration) -> Instant {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            Instant::now() + limit
        } else {
            self.last() + limit
        }
    }

    fn is_idle_for(&self, limit: Duration) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0 && self.last().elapsed() >= limit
    }
}

/// A request in flight on a connection, from the moment its head arrived until its answer is
/// ready (or it is cancelled: the guard is dropped either way).
struct Busy(Arc<Activity>);

impl Busy {
    fn enter(activity: Arc<Activity>) -> Self {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        Busy(activity)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let a = &self.0;
        let ms = u64::try_from(a.born.elapsed().as_millis()).unwrap_or(u64::MAX);
        a.last_ms.fetch_max(ms, Ordering::AcqRel);
        a.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

fn log_end<E: std::fmt::Display>(ended: Result<(), E>) {
    if let Err(e) = ended {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
