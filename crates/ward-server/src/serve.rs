//! Serving the app on a socket, with limits on slow clients.
//!
//! `axum::serve` arms no timer, so a client that sends a request head a byte at a time, or never
//! finishes it, holds its connection for ever (slowloris). Here every connection gets hyper's
//! header-read timeout: the head of each request, and the wait for the next one on a kept-alive
//! connection, must complete within `header_read_timeout` or the connection is closed. A new
//! connection's first request must arrive within it too, whatever the protocol turns out to be
//! (hyper's timer only starts once the protocol is known, so a client that sends nothing would
//! otherwise be waited for). Bodies have their own limit, `body_read_timeout`, applied where a
//! handler reads one (`extract::RawBody`).
//! Stopping is graceful: the listener closes, requests in flight finish, idle connections close.
//!
//! hyper arms a timer for each request head, which costs about 3–4% of verify throughput
//! (docs/benchmarks.md); a per-connection watchdog task was tried instead and measured no cheaper.
//! The load test's baseline is served by this same function, so the ratio compares like with like.

use std::future::Future;
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
use tokio::sync::Notify;
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
        // Told of every request on this connection (only the first is waited for); no limit, no
        // telling.
        let arrived = header_read_timeout.map(|limit| (limit, Arc::new(Notify::new())));
        let told = arrived.as_ref().map(|(_, n)| n.clone());
        let service = TowerToHyperService::new(app.clone().map_request(move |r: Request<Incoming>| {
            if let Some(n) = &told {
                n.notify_one();
            }
            r.map(Body::new)
        }));
        let mut builder = auto::Builder::new(TokioExecutor::new());
        if let Some(limit) = header_read_timeout {
            builder.http1().timer(TokioTimer::new()).header_read_timeout(limit);
            builder.http2().timer(TokioTimer::new());
        }
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service).into_owned());
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            // hyper's header timer starts once it knows the protocol; a client that sends nothing,
            // or a few bytes that could still begin the HTTP/2 preface, would be waited for
            // forever. So the first request must arrive within the limit too, or the connection is
            // dropped (closed). Later waits are hyper's own timer (HTTP/1).
            if let Some((limit, arrived)) = arrived {
                tokio::select! {
                    ended = &mut connection => return log_end(ended),
                    () = arrived.notified() => {}
                    () = tokio::time::sleep(limit) => return,
                }
            }
            log_end(connection.await);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

fn log_end<E: std::fmt::Display>(ended: Result<(), E>) {
    if let Err(e) = ended {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}
