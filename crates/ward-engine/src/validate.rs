//! Checks of input every kind shares: labels, seconds, metadata, audiences, notes.

use ward_core::key::{valid_scope, MAX_SCOPES};

use crate::EngineError;

/// Longest subject or name.
pub const MAX_LABEL_LEN: usize = 256;
/// Largest `meta`, `claims` or `data`, as JSON text.
pub const MAX_META_BYTES: usize = 4096;
/// Longest lifetime a key may be given: ten years.
pub const MAX_LIFETIME_SECS: i64 = 10 * 365 * 86_400;
/// Longest revocation note.
pub const MAX_NOTE_CHARS: usize = 1000;

fn invalid<T>(m: String) -> Result<T, EngineError> {
    Err(EngineError::Invalid(m))
}

/// Checks a label: 1 to 256 characters, no control characters.
pub fn check_label(what: &str, s: &str) -> Result<(), EngineError> {
    if s.is_empty() || s.chars().count() > MAX_LABEL_LEN || s.chars().any(char::is_control) {
        return invalid(format!(
            "`{what}` must be 1 to {MAX_LABEL_LEN} characters without control characters"
        ));
    }
    Ok(())
}

/// Checks an optional number of seconds against `min..=MAX_LIFETIME_SECS`.
pub(crate) fn check_seconds(what: &str, v: Option<i64>, min: i64) -> Result<(), EngineError> {
    match v {
        Some(s) if !(min..=MAX_LIFETIME_SECS).contains(&s) => {
            invalid(format!("`{what}` must be between {min} and {MAX_LIFETIME_SECS} seconds"))
        }
        _ => Ok(()),
    }
}

/// Checks a JSON object of bounded size.
pub fn check_object(what: &str, c: Option<&serde_json::Value>) -> Result<(), EngineError> {
    if let Some(c) = c {
        if !c.is_object() {
            return invalid(format!("`{what}` must be a JSON object"));
        }
        if c.to_string().len() > MAX_META_BYTES {
            return invalid(format!("`{what}` must be at most {MAX_META_BYTES} bytes"));
        }
    }
    Ok(())
}

/// Checks a list of scopes.
pub(crate) fn check_scopes(scopes: &[String]) -> Result<(), EngineError> {
    if scopes.len() > MAX_SCOPES {
        return invalid(format!("at most {MAX_SCOPES} scopes"));
    }
    if let Some(bad) = scopes.iter().find(|s| !valid_scope(s)) {
        return invalid(format!(
            "scope {bad:?} is not valid: use 1 to 128 printable ASCII characters, no spaces"
        ));
    }
    Ok(())
}

/// Checks an audience: 1 to 256 printable ASCII characters, no spaces.
pub fn valid_audience(a: &str) -> bool {
    !a.is_empty() && a.len() <= 256 && a.bytes().all(|b| b.is_ascii_graphic())
}

/// Checks a revocation note.
pub(crate) fn check_note(note: Option<&str>) -> Result<(), EngineError> {
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE_CHARS || n.chars().any(char::is_control)) {
        return invalid(format!(
            "`note` must be at most {MAX_NOTE_CHARS} characters without control characters"
        ));
    }
    Ok(())
}
