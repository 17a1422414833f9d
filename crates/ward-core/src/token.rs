//! The opaque token format of every kind Ward issues itself: API keys, sessions, one-time tokens,
//! refresh tokens and OAuth client secrets.
//!
//! ```text
//! ward_live_ak_3kTMd9sPq2LrXw8Z  h7GmQ2...32 chars...  0aZ91k
//! └─prefix───┘ └─id (16)───────┘ └─secret (32)────────┘ └crc┘
//! ```
//!
//! * The prefix names the product, the environment and the kind, so secret scanners can match it
//!   and a key shown to the wrong deployment or endpoint is recognised as `wrong_type`.
//! * The id (16 base62 characters, ~95 bits) finds the record in O(1).
//! * The secret (32 base62 characters, ~190 bits) comes from the OS CSPRNG.
//! * The checksum is CRC32 of everything before it, in 6 base62 characters, so a typo or a
//!   truncation is caught before any lookup (`checksum_mismatch`).

use rand::distributions::{Alphanumeric, Distribution};
use rand::{CryptoRng, RngCore};
use zeroize::Zeroizing;

use crate::reason::{Reason, Verdict};

/// The product name that every Ward token starts with.
pub const PRODUCT: &str = "ward";
/// Characters in a token id.
pub const ID_LEN: usize = 16;
/// Characters in a token secret.
pub const SECRET_LEN: usize = 32;
/// Characters in the checksum.
pub const CHECKSUM_LEN: usize = 6;
/// Characters after the prefix.
pub const BODY_LEN: usize = ID_LEN + SECRET_LEN + CHECKSUM_LEN;
/// Longest input the parser looks at; anything longer is malformed without further work.
pub const MAX_TOKEN_LEN: usize = 128;
/// Longest environment name.
pub const MAX_ENV_LEN: usize = 16;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The kinds of opaque token, each with its two-letter code in the prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenKind {
    /// A long-lived API key (`ak`).
    ApiKey,
    /// A user's session (`ss`).
    Session,
    /// A one-time token: password reset, magic link, email verification, invitation (`ot`).
    OneTime,
    /// A rotating OAuth refresh token (`rt`).
    Refresh,
    /// An OAuth client's secret (`cs`).
    ClientSecret,
    /// A signed access token (JWT or PASETO). Not an opaque token: it has no prefix code and
    /// never parses as one; it names the kind in `expect` lists.
    AccessToken,
}

impl TokenKind {
    /// Every kind.
    pub const ALL: &'static [TokenKind] = &[
        TokenKind::ApiKey,
        TokenKind::Session,
        TokenKind::OneTime,
        TokenKind::Refresh,
        TokenKind::ClientSecret,
    ];

    /// The code in the token prefix.
    pub const fn code(self) -> &'static str {
        match self {
            TokenKind::ApiKey => "ak",
            TokenKind::Session => "ss",
            TokenKind::OneTime => "ot",
            TokenKind::Refresh => "rt",
            TokenKind::ClientSecret => "cs",
            TokenKind::AccessToken => "at",
        }
    }

    /// What a person calls this kind.
    pub const fn noun(self) -> &'static str {
        match self {
            TokenKind::ApiKey => "API key",
            TokenKind::Session => "session",
            TokenKind::OneTime => "one-time token",
            TokenKind::Refresh => "refresh token",
            TokenKind::ClientSecret => "client secret",
            TokenKind::AccessToken => "access token",
        }
    }

    /// Looks a kind up by its prefix code.
    pub fn from_code(code: &str) -> Option<TokenKind> {
        TokenKind::ALL.iter().copied().find(|k| k.code() == code)
    }
}

/// Checks an environment name: 1 to 16 lowercase ASCII letters or digits.
pub fn valid_env(env: &str) -> bool {
    !env.is_empty()
        && env.len() <= MAX_ENV_LEN
        && env.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// A syntactically valid token whose checksum matched: not yet a statement that it is genuine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedToken<'a> {
    /// The environment named in the prefix (`live`, `test`, ...).
    pub env: &'a str,
    /// The kind named in the prefix.
    pub kind: TokenKind,
    /// The id: the record's primary key.
    pub id: &'a str,
    /// Everything the keyed hash covers: the prefix, the id and the secret (no checksum).
    pub hashed_part: &'a str,
}

impl<'a> ParsedToken<'a> {
    /// Parses a presented token strictly, without touching any storage.
    ///
    /// Fails with `missing`, `malformed` or `checksum_mismatch`. It does not judge whether the
    /// environment or kind are the ones wanted: see [`ParsedToken::expect`].
    pub fn parse(token: &'a str) -> Result<Self, Verdict> {
        if token.is_empty() {
            return Err(Verdict::of(Reason::Missing));
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(Verdict::with(
                Reason::Malformed,
                format!("the token is {} bytes long; Ward tokens are much shorter", token.len()),
            ));
        }
        // Folds instead of `any`, so the scans compile to a branch-free (vectorised) loop: every
        // verify runs them.
        if token.bytes().fold(false, |seen, b| seen | b.is_ascii_whitespace()) {
            return Err(Verdict::with(
                Reason::Malformed,
                "the token contains whitespace (a line break or space picked up when copying?)",
            ));
        }
        // A closure, not the char pattern `'_'`: that one searches with memchr, which costs more
        // than the whole rest of the parse on a string this short (measured: 66 ns against 36).
        #[allow(clippy::manual_pattern_char_comparison)]
        let mut parts = token.splitn(4, |c| c == '_');
        let (Some(product), Some(env), Some(kind), Some(body)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Verdict::with(Reason::Malformed, "expected `ward_<environment>_<kind>_<body>`"));
        };
        if product != PRODUCT {
            return Err(Verdict::with(
                Reason::Malformed,
                "the token does not start with `ward_`; it was not issued by Ward",
            ));
        }
        if !valid_env(env) || kind.len() != 2 || !kind.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(Verdict::with(
                Reason::Malformed,
                "the prefix must be `ward_<environment>_<kind>_` in lowercase letters",
            ));
        }
        if body.len() <= CHECKSUM_LEN || !body.bytes().fold(true, |ok, b| ok & b.is_ascii_alphanumeric()) {
            return Err(Verdict::with(
                Reason::Malformed,
                "the part after the prefix must be letters and digits only",
            ));
        }
        // The body is ASCII, so byte offsets are character boundaries.
        let split = token.len() - CHECKSUM_LEN;
        let (hashed_part, checksum) = token.split_at(split);
        if checksum_of(hashed_part) != checksum.as_bytes() {
            let detail = if body.len() < BODY_LEN {
                let n = BODY_LEN - body.len();
                format!(
                    "the token is {n} character{} short: it looks truncated",
                    if n == 1 { "" } else { "s" }
                )
            } else {
                "a character was changed, added or dropped".to_string()
            };
            return Err(Verdict::with(Reason::ChecksumMismatch, detail));
        }
        if body.len() != BODY_LEN {
            return Err(Verdict::with(
                Reason::Malformed,
                format!("the body has {} characters; Ward tokens have {BODY_LEN}", body.len()),
            ));
        }
        let Some(kind) = TokenKind::from_code(kind) else {
            return Err(Verdict::with(
                Reason::WrongType,
                format!("`{kind}` is not a kind of token this Ward version issues"),
            ));
        };
        let id_start = PRODUCT.len() + env.len() + kind.code().len() + 3;
        let id = token.get(id_start..id_start + ID_LEN).ok_or_else(|| Verdict::of(Reason::Malformed))?;
        Ok(ParsedToken { env, kind, id, hashed_part })
    }

    /// Checks that the token is of the wanted kind and for this deployment's environment.
    pub fn expect(&self, env: &str, kinds: &[TokenKind]) -> Result<(), Verdict> {
        if self.env != env {
            return Err(Verdict::with(
                Reason::WrongType,
                format!("this is a `{}` token; this deployment accepts `{env}` tokens", self.env),
            ));
        }
        if !kinds.contains(&self.kind) {
            let wanted: Vec<&str> = kinds.iter().map(|k| k.noun()).collect();
            return Err(Verdict::with(
                Reason::WrongType,
                format!(
                    "this is a token of kind `{}` ({}); expected: {}",
                    self.kind.code(),
                    self.kind.noun(),
                    wanted.join(", ")
                ),
            ));
        }
        Ok(())
    }
}

/// A freshly minted token: the raw string, shown once, and its parts.
pub struct NewToken {
    /// The whole token. Zeroized on drop.
    pub token: Zeroizing<String>,
    /// The id.
    pub id: String,
}

impl NewToken {
    /// The prefix, id and secret: what the keyed hash covers.
    pub fn hashed_part(&self) -> &str {
        self.token.get(..self.token.len() - CHECKSUM_LEN).unwrap_or_default()
    }
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken").field("id", &self.id).field("token", &"<redacted>").finish()
    }
}

/// Mints a new token of `kind` for environment `env` from a cryptographically secure RNG.
///
/// `env` must satisfy [`valid_env`]; the configuration layer validates it once at start-up.
pub fn mint<R: RngCore + CryptoRng>(rng: &mut R, env: &str, kind: TokenKind) -> NewToken {
    let id: String = Alphanumeric.sample_iter(&mut *rng).take(ID_LEN).map(char::from).collect();
    let mut token = Zeroizing::new(String::with_capacity(MAX_TOKEN_LEN));
    token.push_str(PRODUCT);
    token.push('_');
    token.push_str(env);
    token.push('_');
    token.push_str(kind.code());
    token.push('_');
    token.push_str(&id);
    for c in Alphanumeric.sample_iter(&mut *rng).take(SECRET_LEN) {
        token.push(char::from(c));
    }
    let checksum = checksum_of(&token);
    token.push_str(checksum_str(&checksum));
    NewToken { token, id }
}

/// Appends the checksum to `hashed_part` (prefix, id and secret), giving a whole token.
///
/// For tools and tests that must build a token which passes the checksum but is otherwise wrong
/// (a forged secret, an unknown kind); minting real tokens is [`mint`]'s job.
pub fn with_checksum(hashed_part: &str) -> String {
    format!("{hashed_part}{}", checksum_str(&checksum_of(hashed_part)))
}

/// CRC32 of `s` in fixed-width base62.
///
/// An array, not a `String`: the verify path computes it for every token it sees.
fn checksum_of(s: &str) -> [u8; CHECKSUM_LEN] {
    let mut n = crc32fast::hash(s.as_bytes());
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        let digit = (n % 62) as usize;
        *slot = BASE62.get(digit).copied().unwrap_or(b'0');
        n /= 62;
    }
    out
}

/// The checksum as text: base62 digits are ASCII.
fn checksum_str(checksum: &[u8; CHECKSUM_LEN]) -> &str {
    std::str::from_utf8(checksum).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::rngs::OsRng;

    fn fresh() -> String {
        mint(&mut OsRng, "live", TokenKind::ApiKey).token.to_string()
    }

    #[test]
    fn minted_tokens_parse_back() {
        let t = mint(&mut OsRng, "live", TokenKind::ApiKey);
        let p = ParsedToken::parse(&t.token).expect("parses");
        assert_eq!(p.env, "live");
        assert_eq!(p.kind, TokenKind::ApiKey);
        assert_eq!(p.id, t.id);
        assert_eq!(p.hashed_part, t.hashed_part());
        assert!(t.token.starts_with("ward_live_ak_"));
        assert_eq!(t.token.len(), "ward_live_ak_".len() + BODY_LEN);
    }

    #[test]
    fn every_single_character_flip_is_caught() {
        let t = fresh();
        for i in 0..t.len() {
            let mut bytes = t.clone().into_bytes();
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            let flipped = String::from_utf8(bytes).expect("ascii");
            let r = ParsedToken::parse(&flipped).expect_err("flip must fail").reason;
            assert!(matches!(r, Reason::ChecksumMismatch | Reason::Malformed), "flip at {i} gave {r}");
        }
    }

    #[test]
    fn truncation_is_a_checksum_mismatch() {
        let t = fresh();
        for cut in 1..=10 {
            let v = ParsedToken::parse(&t[..t.len() - cut]).expect_err("truncated");
            assert_eq!(v.reason, Reason::ChecksumMismatch, "cut {cut}");
        }
    }

    #[test]
    fn shapes_that_are_not_tokens_are_malformed() {
        for s in ["x", "ward", "ward_live_ak_", "Bearer abc", "wrd_live_ak_abcdefgh", "ward_LIVE_ak_abcdefg"]
        {
            assert_eq!(ParsedToken::parse(s).expect_err(s).reason, Reason::Malformed, "{s}");
        }
        assert_eq!(ParsedToken::parse("").expect_err("empty").reason, Reason::Missing);
        let long = "a".repeat(MAX_TOKEN_LEN + 1);
        assert_eq!(ParsedToken::parse(&long).expect_err("long").reason, Reason::Malformed);
        let spaced = format!("{}\n", fresh());
        assert_eq!(ParsedToken::parse(&spaced).expect_err("nl").reason, Reason::Malformed);
    }

    #[test]
    fn another_environment_or_kind_is_wrong_type() {
        let t = mint(&mut OsRng, "test", TokenKind::ApiKey);
        let p = ParsedToken::parse(&t.token).expect("parses");
        assert_eq!(p.expect("live", &[TokenKind::ApiKey]).expect_err("env").reason, Reason::WrongType);
        assert!(p.expect("test", &[TokenKind::ApiKey]).is_ok());
        assert_eq!(p.expect("test", &[]).expect_err("kind").reason, Reason::WrongType);
    }

    #[test]
    fn unknown_kind_with_good_checksum_is_wrong_type() {
        let body = "ward_live_zz_0123456789abcdef0123456789abcdef0123456789abcdef";
        let token = format!("{body}{}", checksum_str(&checksum_of(body)));
        assert_eq!(ParsedToken::parse(&token).expect_err("zz").reason, Reason::WrongType);
    }

    #[test]
    fn with_checksum_completes_a_minted_token() {
        let t = mint(&mut OsRng, "live", TokenKind::ApiKey);
        assert_eq!(with_checksum(t.hashed_part()), *t.token);
        let forged = with_checksum(&format!("ward_live_ak_{}", "A".repeat(ID_LEN + SECRET_LEN)));
        assert!(ParsedToken::parse(&forged).is_ok(), "a recomputed checksum passes the parser");
    }

    #[test]
    fn secrets_differ() {
        assert_ne!(fresh(), fresh());
    }

    proptest! {
        #[test]
        fn parser_never_panics(s in "\\PC{0,140}") {
            let _ = ParsedToken::parse(&s);
        }

        #[test]
        fn parser_never_panics_near_valid(prefix in "ward_[a-z]{0,5}_[a-z]{0,3}_", body in "[A-Za-z0-9]{0,60}") {
            let s = format!("{prefix}{body}");
            let _ = ParsedToken::parse(&s);
        }
    }
}
