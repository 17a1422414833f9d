//! Ward's domain: token formats, verdicts and reasons, policy and time. No I/O, no async runtime.
//!
//! ```
//! use ward_core::{token, ParsedToken, Reason, TokenKind};
//!
//! let minted = token::mint(&mut rand::rngs::OsRng, "live", TokenKind::ApiKey);
//! let parsed = ParsedToken::parse(&minted.token).unwrap();
//! assert_eq!(parsed.id, minted.id);
//!
//! // One character short: caught by the checksum before any lookup.
//! let short = &minted.token[..minted.token.len() - 1];
//! assert_eq!(ParsedToken::parse(short).unwrap_err().reason, Reason::ChecksumMismatch);
//! ```

pub mod client;
pub mod clock;
pub mod deny;
pub mod guard;
pub mod key;
pub mod keyring;
pub mod lifecycle;
pub mod onetime;
pub mod random;
pub mod reason;
pub mod refresh;
pub mod secret;
pub mod session;
pub mod token;

pub use clock::{Clock, ManualClock, SystemClock, UnixTime};
pub use key::ApiKey;
pub use lifecycle::{Revocation, RevokeReason, Supersession, Tombstone};
pub use onetime::OneTimeToken;
pub use random::{OsSecrets, SecretSource, SourceRng};
pub use reason::{Reason, ReasonInfo, TokenFormat, Verdict};
pub use secret::{MasterKey, SecretHash, SecretHasher};
pub use session::Session;
pub use token::{ParsedToken, TokenKind};
