//! Human durations for the command line: `30s`, `90m`, `1h`, `7d`, `2w`, `1h30m`, or plain
//! seconds (`3600`), as every `--expires-in`-like flag takes them.

/// Seconds in each unit a duration may use.
const UNITS: [(char, i64); 5] = [('s', 1), ('m', 60), ('h', 3600), ('d', 86_400), ('w', 604_800)];

/// Parses a duration into seconds: plain seconds, or one or more `<number><unit>` parts with
/// units `s`, `m`, `h`, `d`, `w` (largest first, each at most once), such as `1h30m`.
///
/// Used as a clap value parser, so the message is what the user sees after
/// "invalid value … for '--expires-in <DURATION>'".
pub fn parse(text: &str) -> Result<i64, String> {
    let bad = |why: &str| format!("{why} (use e.g. 30s, 90m, 1h, 7d, 2w, 1h30m, or plain seconds)");
    let t = text.trim();
    if t.is_empty() {
        return Err(bad("a duration is needed"));
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse::<i64>().map_err(|_| bad("too large"));
    }
    let mut total: i64 = 0;
    let mut number = String::new();
    let mut last_unit: Option<usize> = None;
    for c in t.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let Some((index, &(_, secs))) =
            UNITS.iter().enumerate().find(|(_, (u, _))| *u == c.to_ascii_lowercase())
        else {
            return Err(bad(&format!("`{c}` is not a unit")));
        };
        if number.is_empty() {
            return Err(bad(&format!("`{c}` has no number before it")));
        }
        if last_unit.is_some_and(|last| index >= last) {
            return Err(bad("units must go from largest to smallest, each once"));
        }
        let n: i64 = number.parse().map_err(|_| bad("too large"))?;
        total = n.checked_mul(secs).and_then(|s| total.checked_add(s)).ok_or_else(|| bad("too large"))?;
        number.clear();
        last_unit = Some(index);
    }
    if !number.is_empty() {
        return Err(bad(&format!("`{number}` at the end has no unit")));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_plain_seconds() {
        for (text, secs) in [
            ("30s", 30),
            ("90m", 5400),
            ("1h", 3600),
            ("7d", 604_800),
            ("2w", 1_209_600),
            ("1h30m", 5400),
            ("1d12h", 129_600),
            ("3600", 3600),
            ("0", 0),
            ("0s", 0),
            (" 15m ", 900),
            ("1H", 3600),
        ] {
            assert_eq!(parse(text), Ok(secs), "{text}");
        }
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        for (text, says) in [
            ("", "needed"),
            ("h", "no number"),
            ("1x", "not a unit"),
            ("1.5h", "not a unit"),
            ("-5", "not a unit"),
            ("1h2", "no unit"),
            ("30m1h", "largest to smallest"),
            ("1h1h", "largest to smallest"),
            ("99999999999999999999", "too large"),
            ("9999999999999999w", "too large"),
            ("one hour", "not a unit"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(says) && err.contains("e.g. 30s"), "{text}: {err}");
        }
    }
}
