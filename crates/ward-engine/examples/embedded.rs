//! Ward embedded in a Rust program, with no HTTP server: open a SQLite store in a temporary
//! directory, issue an API key, a session and a JWT, verify each, revoke one, and print every
//! verdict with its reason.
//!
//! Run: `cargo run -p ward-engine --example embedded`.

use std::error::Error;

use ward_core::{MasterKey, RevokeReason};
use ward_engine::{Call, Checked, Context, Engine, Format, Grant, NewKey, NewSession, VerifyOptions};

fn show(what: &str, checked: &Checked) {
    match checked {
        Checked::Valid(v) => println!("{what:<28} valid (subject {})", v.subject()),
        Checked::Invalid(v) => {
            let info = v.reason.info();
            println!("{what:<28} {} — {}", info.code, v.detail.as_deref().unwrap_or(info.message));
            println!("{:<28} hint: {}", "", info.hint);
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let dir = tempfile::tempdir()?;
    let store = ward_store::open(&format!("sqlite://{}", dir.path().join("ward.db").display())).await?;
    let master = MasterKey::generate(&mut rand::rngs::OsRng);
    let engine = Engine::builder(store, &master).default_issuer("https://auth.example").build().await?;
    let admin = Call::by("example");
    let ctx = Context::default();
    let any = VerifyOptions::default();

    let (key, api_key) = engine
        .issue_key(
            NewKey {
                subject: "svc_billing".into(),
                scopes: vec!["invoices:read".into()],
                ..NewKey::default()
            },
            &admin,
        )
        .await?;
    let (_, session) =
        engine.issue_session(NewSession { subject: "alice".into(), ..NewSession::default() }, &admin).await?;
    let grant = Grant {
        subject: "alice".into(),
        audience: vec!["api".into()],
        scopes: vec!["read".into()],
        expires_in: None,
        format: Format::Jwt,
        client_id: None,
        jkt: None,
    };
    let jwt = engine.issue_access(&grant, false, &admin).await?.access_token;

    show("API key", &engine.verify(&api_key.token, &any, &ctx).await);
    show("session", &engine.verify(&session.token, &any, &ctx).await);
    show("JWT", &engine.verify(&jwt, &any, &ctx).await);

    let write = vec!["invoices:write".to_string()];
    let needs_write = VerifyOptions { scopes: &write, ..VerifyOptions::default() };
    show("API key, needing a scope", &engine.verify(&api_key.token, &needs_write, &ctx).await);
    let wrong_aud = VerifyOptions { audience: Some("billing"), ..VerifyOptions::default() };
    show("JWT for another audience", &engine.verify(&jwt, &wrong_aud, &ctx).await);

    engine.revoke_key(&key.id, RevokeReason::Compromised, Some("leaked in a CI log".into()), &admin).await?;
    show("API key after revocation", &engine.verify(&api_key.token, &any, &ctx).await);
    let truncated = &api_key.token[..api_key.token.len() - 1];
    show("API key, one char short", &engine.verify(truncated, &any, &ctx).await);

    engine.shutdown().await;
    Ok(())
}
