//! A typed async client for Ward's HTTP API.
//!
//! ```no_run
//! use ward_client::keys::CreateKey;
//! use ward_client::verify::Verify;
//! use ward_client::{Secret, WardClient};
//!
//! # async fn run() -> Result<(), ward_client::Error> {
//! let admin = Secret::new(std::env::var("WARD_ADMIN_KEY").unwrap_or_default());
//! let ward = WardClient::new("http://127.0.0.1:7878", Some(admin))?;
//!
//! let created = ward.send(&CreateKey { scopes: vec!["read".into()], ..CreateKey::new("alice") }).await?;
//! let verdict = ward.send(&Verify { scopes: vec!["write".into()], ..Verify::new(created.key) }).await?;
//! // A token that fails is an answer, not an error: the verdict says why.
//! assert!(!verdict.valid);
//! println!("{:?}: {:?}", verdict.reason, verdict.detail); // "insufficient_scope": "missing scope(s): write; …"
//! # Ok(())
//! # }
//! ```
//!
//! Every call is a request struct implementing [`Endpoint`], grouped by resource in the modules
//! below; [`WardClient::send`] makes it and decodes the answer into the endpoint's response type.
//! Answer types ignore fields they do not know, so a newer server stays compatible. Anything but
//! a 2xx answer is an [`Error::Http`] carrying the server's RFC 9457 [`Problem`] (its `reason`
//! and `hint` say what to do).
//!
//! Credentials, and the tokens and secrets in answers, are [`Secret`]s: wiped on drop and never
//! shown by `Debug`.

#![forbid(unsafe_code)]

pub mod access_tokens;
mod client;
mod endpoint;
mod error;
pub mod keyring;
pub mod keys;
pub mod lifecycle;
pub mod meta;
pub mod oauth_clients;
pub mod one_time;
mod secret;
pub mod sessions;
pub mod subjects;
mod transport;
pub mod verify;

pub use client::{WardClient, DEFAULT_TIMEOUT};
pub use endpoint::{Auth, Endpoint, Method};
pub use error::{BoxError, Error, Problem};
pub use secret::Secret;
