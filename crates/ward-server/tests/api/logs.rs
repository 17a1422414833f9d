//! Log injection (issue 9): text a caller supplied reaches the log escaped, so a newline cannot
//! forge a line and an escape code cannot write to an operator's terminal.

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde_json::json;
use ward_testkit::{Method, StatusCode, TestApp};

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A forged log line: a newline, a plausible line of its own, and an ANSI colour code.
const FORGED: &str = "evil\n2026-01-01T00:00:00Z  INFO ward: admin logged in\u{1b}[31m";

// One thread: the subscriber set below is this thread's, and every task here runs on it.
#[tokio::test]
async fn caller_supplied_text_is_escaped_in_the_log() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = TestApp::sqlite().await;
    let events = tokio::spawn(ward_engine::events::log_events(app.engine.subscribe()));

    // A Basic-auth client_id is percent-decoded (RFC 6749 §2.3.1) before it is logged.
    let encoded: String =
        serde_urlencoded::to_string([("x", FORGED)]).unwrap().trim_start_matches("x=").to_string();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{encoded}:ward_live_cs_nope"));
    let req = axum::http::Request::post("/oauth2/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", format!("Basic {basic}"))
        .body(axum::body::Body::from("grant_type=client_credentials"))
        .unwrap();
    let (s, _, _) = app.send(req).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // The end user's User-Agent in a verify body goes into the refusal's event.
    let body = json!({"token": "ward_live_ak_nope", "context": {"user_agent": FORGED}});
    let (s, _, _) = app.call(Method::POST, "/v1/verify", Some(app.admin_token()), Some(body)).await;
    assert_eq!(s, StatusCode::OK);
    for _ in 0..100 {
        tokio::task::yield_now().await;
    }
    events.abort();

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("oauth client authentication failed"), "{log}");
    assert!(log.contains("verify_failed"), "the event was logged: {log}");
    assert!(!log.contains('\u{1b}'), "no raw escape code: {log}");
    for line in log.lines() {
        assert!(!line.starts_with("2026-01-01T00:00:00Z"), "a forged line: {line:?}\n{log}");
        assert!(!line.trim_start().starts_with("INFO ward: admin"), "a forged line: {line:?}");
    }
    assert_eq!(log.matches(r"evil\n2026").count(), 2, "both arrive escaped, in their own lines: {log}");
}
