//! Test support for Ward: the real HTTP app in process over a fresh store, with a clock tests
//! move by hand, and a throwaway PostgreSQL cluster so every store test runs on both backends.
//!
//! ```
//! use serde_json::json;
//! use ward_testkit::TestApp;
//!
//! # #[tokio::main] async fn main() {
//! let app = TestApp::sqlite().await;
//! let created = app.create_key(json!({ "subject": "svc_billing", "expires_in": 60 })).await;
//! let key = created["key"].as_str().unwrap();
//! assert_eq!(app.verify(key, &[]).await["reason"], "valid");
//! app.clock.advance(60);
//! assert_eq!(app.verify(key, &[]).await["reason"], "expired");
//! # }
//! ```
//!
//! [`store_tests!`] turns a list of `async fn name(app: TestApp)` into one `#[tokio::test]` per
//! backend: `sqlite::name` and `postgres::name`.

// Test support code fails loudly: a harness that cannot start its database, or a request that
// cannot be built, must stop the test at once with a message, not return an error to unwrap.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod app;
pub mod postgres;

pub use app::{assert_answered_sanely, assert_problem, secret_part, Backend, TestApp, START};
pub use axum::http::{HeaderMap, Method, StatusCode};

/// Runs each listed `async fn name(app: TestApp)` on SQLite and on PostgreSQL.
///
/// Expands to `mod sqlite` and `mod postgres`, each with one `#[tokio::test]` (multi-threaded)
/// per function; the functions must be visible from those modules as `super::name`. The calling
/// crate must depend on `tokio`. When PostgreSQL is missing outside CI the `postgres::` tests
/// print a `SKIPPED` line (past the harness's capture) and return; see [`postgres`].
#[macro_export]
macro_rules! store_tests {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::TestApp::sqlite().await).await;
                }
            )+
        }

        mod postgres {
            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    match $crate::TestApp::postgres().await {
                        Some(app) => super::$name(app).await,
                        None => $crate::postgres::note_skipped(stringify!($name)),
                    }
                }
            )+
        }
    };
}
