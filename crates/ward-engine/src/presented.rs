//! A presented token, classified once from its text at the boundary: every later step (verify,
//! redeem, refresh, introspection, revocation) takes the typed value instead of parsing again.

use ward_core::{ParsedToken, Verdict};

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
}
