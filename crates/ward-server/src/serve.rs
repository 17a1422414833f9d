//! Serving the app on a socket, with a limit on slow clients.
//!
//! `axum::serve` arms no timer, so a client that sends a request head a byte at a time, or never
//! finishes it, holds its connection for ever (slowloris). Here a connection that has no request
//! in progress must deliver its next complete request head within `header_read_timeout` of the
//! last answer (or of connecting), or it is closed: that bounds slow heads and idle kept-alive
//! connections alike. Bodies have their own limit, `body_read_timeout`, applied where a handler
//! reads one (`extract::RawBody`). Stopping is graceful: the listener closes, requests in flight
//! finish, idle connections close.
//!
//! hyper has a header-read timeout of its own, but it arms a timer for every request, which cost
//! about 3% of verify throughput (docs/benchmarks.md). This watchdog costs a clock read and two
//! atomic operations per request, and one timer per connection per second.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::time::{Instant, MissedTickBehavior};
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
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let activity = Arc::new(Activity { in_flight: AtomicUsize::new(0), since: AtomicU64::new(now_ms()) });
        let service = Tracked {
            inner: TowerToHyperService::new(app.clone().map_request(|r: Request<Incoming>| r.map(Body::new))),
            activity: activity.clone(),
        };
        let builder = auto::Builder::new(TokioExecutor::new());
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service).into_owned());
        tokio::spawn(async move {
            let Some(limit) = header_read_timeout else {
                let _ = connection.await;
                return;
            };
            let mut connection = std::pin::pin!(connection);
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = &mut connection => return,
                    _ = tick.tick() => if activity.waited_longer_than(limit) {
                        tracing::debug!("closing a connection that sent no complete request in time");
                        return;
                    },
                }
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Milliseconds on tokio's clock (which tests can pause) since the first call.
fn now_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// One connection's requests in progress, and since when it has been waiting for the next one.
#[derive(Debug)]
struct Activity {
    in_flight: AtomicUsize,
    since: AtomicU64,
}

impl Activity {
    fn waited_longer_than(&self, limit: Duration) -> bool {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return false;
        }
        let waited = now_ms().saturating_sub(self.since.load(Ordering::Relaxed));
        u128::from(waited) > limit.as_millis()
    }
}

/// Ends one request's turn: restarts the wait for the next head. Runs when the answer is ready,
/// or when the request is dropped unanswered.
struct Turn(Arc<Activity>);

impl Drop for Turn {
    fn drop(&mut self) {
        self.0.since.store(now_ms(), Ordering::Relaxed);
        self.0.in_flight.fetch_sub(1, Ordering::Release);
    }
}

/// The app as hyper calls it, counting requests in progress.
#[derive(Clone, Debug)]
struct Tracked<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S, R> hyper::service::Service<R> for Tracked<S>
where
    S: hyper::service::Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = TrackedFuture<S::Future>;

    fn call(&self, req: R) -> Self::Future {
        self.activity.in_flight.fetch_add(1, Ordering::Acquire);
        TrackedFuture { inner: self.inner.call(req), turn: Some(Turn(self.activity.clone())) }
    }
}

pin_project_lite::pin_project! {
    /// A request's answer, ending its turn when ready.
    struct TrackedFuture<F> {
        #[pin]
        inner: F,
        turn: Option<Turn>,
    }
}

impl<F: Future> Future for TrackedFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let out = std::task::ready!(this.inner.poll(cx));
        this.turn.take();
        Poll::Ready(out)
    }
}
