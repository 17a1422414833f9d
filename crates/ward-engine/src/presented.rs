//! A presented token, classified once from its text at the boundary: every later step (verify,
//! redeem, refresh, introspection, revocation) takes the typed value instead of parsing again.

use ward_core::{ParsedToken, TokenFormat, Verdict};

/// A presented token, classified once from its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presented<'a> {
    /// A Ward opaque token (`ward_<env>_<kind>_…`) whose shape and checksum are right.
    Opaque(ParsedToken<'a>),
    /// Something shaped like a JWT or a PASETO token; nothing about it is verified yet.
    Signed(&'a str),
}

impl<'a> Presented<'a> {
    /// Classifies `token`, or says why it is neither kind — in the words of the format it
    /// resembles: a JWE, a token with `Bearer ` in front or a JWT with a bad part is explained
    /// as a signed token, a damaged Ward key as an opaque one.
    pub fn classify(token: &'a str) -> Result<Self, Verdict> {
        if token.starts_with("ward_") {
            return ParsedToken::parse(token).map(Presented::Opaque);
        }
        if ward_signed::detect(token).is_some() {
            return Ok(Presented::Signed(token));
        }
        let resembles_signed = token.contains('.') || token.bytes().any(|b| b.is_ascii_whitespace());
        if resembles_signed {
            ward_signed::peek(token)?;
        }
        ParsedToken::parse(token).map(Presented::Opaque)
    }

    /// The format `token` has or most resembles, for wording its explanation
    /// ([`ward_core::Reason::info_for`]): a Ward token (or text like none) is opaque; a
    /// `v<n>.`/`k<n>.` prefix is PASETO; anything else with a dot (a JWS, a JWE, a JWT with a bad
    /// part) is a JWT. A `Bearer ` prefix is looked past. Text only: nothing is decoded.
    pub fn format_of(token: &str) -> TokenFormat {
        let token = token.trim();
        let token = match token.get(..7) {
            Some(p) if p.eq_ignore_ascii_case("bearer ") => token.get(7..).unwrap_or_default().trim_start(),
            _ => token,
        };
        if token.starts_with("ward_") {
            return TokenFormat::Opaque;
        }
        let b = token.as_bytes();
        let paseto_like = matches!(b, [b'v' | b'k', d, b'.', ..] if d.is_ascii_digit());
        if paseto_like {
            TokenFormat::Paseto
        } else if token.contains('.') {
            TokenFormat::Jwt
        } else {
            TokenFormat::Opaque
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_is_explained_in_its_own_words() {
        let jwe = "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d";
        let d = Presented::classify(jwe).unwrap_err().detail.unwrap_or_default();
        assert!(d.contains("JWE"), "{d}");
        let bearer = "Bearer eyJhbGciOiJFZERTQSJ9.e30.sig";
        let d = Presented::classify(bearer).unwrap_err().detail.unwrap_or_default();
        assert!(d.contains("Bearer"), "{d}");
        let junk = "hello";
        let d = Presented::classify(junk).unwrap_err().detail.unwrap_or_default();
        assert!(d.contains("ward_"), "{d}");
        assert!(matches!(Presented::classify("eyJhbGciOiJFZERTQSJ9.e30.sig"), Ok(Presented::Signed(_))));
    }

    #[test]
    fn formats_are_told_apart_from_the_text() {
        for (token, format) in [
            ("ward_live_ak_abc", TokenFormat::Opaque),
            ("hello", TokenFormat::Opaque),
            ("", TokenFormat::Opaque),
            ("eyJhbGciOiJFZERTQSJ9.e30.sig", TokenFormat::Jwt),
            ("eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d", TokenFormat::Jwt),
            ("Bearer eyJhbGciOiJFZERTQSJ9.e30.sig", TokenFormat::Jwt),
            ("BEARER eyJhbGciOiJFZERTQSJ9.e30.sig=", TokenFormat::Jwt),
            ("v4.public.abc", TokenFormat::Paseto),
            ("v2.local.abc", TokenFormat::Paseto),
            ("Bearer v4.local.abc.def", TokenFormat::Paseto),
        ] {
            assert_eq!(Presented::format_of(token), format, "{token:?}");
        }
    }
}
