//! Time, injected: every expiry decision asks a [`Clock`], so tests move time instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, UTC. Ward decides validity at one-second resolution.
pub type UnixTime = i64;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time in seconds since the Unix epoch.
    fn now(&self) -> UnixTime;

    /// The current time in milliseconds since the Unix epoch, for rate limits that refill
    /// faster than once a second. A clock that only knows seconds gives whole seconds.
    fn now_millis(&self) -> i64 {
        self.now().saturating_mul(1000)
    }
}

/// The operating system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            // A clock set before 1970 is a broken host; report the epoch rather than panic.
            Err(_) => 0,
        }
    }

    fn now_millis(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            Err(_) => 0,
        }
    }
}

/// A clock that only moves when told to: for tests and simulations.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock stopped at `t`.
    pub fn new(t: UnixTime) -> Self {
        ManualClock(AtomicI64::new(t))
    }

    /// Moves the clock by `secs` (which may be negative).
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }

    /// Sets the clock to `t`.
    pub fn set(&self, t: UnixTime) {
        self.0.store(t, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        self.0.load(Ordering::SeqCst)
    }
}

/// Formats a Unix time as RFC 3339 (`2026-11-26T23:00:00Z`).
pub fn rfc3339(t: UnixTime) -> String {
    Rfc3339(t).to_string()
}

/// A Unix time shown as RFC 3339 (`2026-11-26T23:00:00Z`): as text with `Display`, as a JSON
/// string with `Serialize`.
///
/// Every verify answer carries a few of these, so years 1970–9999 take a direct path that
/// formats into a stack buffer without allocating (the civil-from-days conversion of Howard
/// Hinnant's date algorithms, checked against the `time` crate by a test); anything else goes
/// through `time`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rfc3339(pub UnixTime);

/// Length of `YYYY-MM-DDTHH:MM:SSZ`.
const RFC3339_LEN: usize = 20;

impl Rfc3339 {
    /// The text for years 1970–9999, or `None` for the `time` crate to handle.
    fn fast(self) -> Option<[u8; RFC3339_LEN]> {
        let t = self.0;
        if !(0..253_402_300_800).contains(&t) {
            return None;
        }
        let secs = t.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(t.div_euclid(86_400));
        let mut out = *b"0000-00-00T00:00:00Z";
        for (at, width, n) in [
            (0, 4, y),
            (5, 2, m),
            (8, 2, d),
            (11, 2, secs / 3600),
            (14, 2, secs % 3600 / 60),
            (17, 2, secs % 60),
        ] {
            put_digits(out.get_mut(at..at + width)?, n);
        }
        Some(out)
    }
}

impl std::fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(text) = self.fast() {
            // Only ASCII digits and separators were written.
            return f.write_str(std::str::from_utf8(&text).unwrap_or_default());
        }
        match time::OffsetDateTime::from_unix_timestamp(self.0)
            .ok()
            .and_then(|dt| dt.format(&time::format_description::well_known::Rfc3339).ok())
        {
            Some(text) => f.write_str(&text),
            None => write!(f, "{}", self.0),
        }
    }
}

impl serde::Serialize for Rfc3339 {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.fast() {
            Some(text) => serializer.serialize_str(std::str::from_utf8(&text).unwrap_or_default()),
            None => serializer.collect_str(self),
        }
    }
}

/// Year, month and day of the `days`-th day after 1970-01-01 (proleptic Gregorian).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Writes `n` as decimal digits filling `out`, zero-padded on the left.
fn put_digits(out: &mut [u8], mut n: i64) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + u8::try_from(n % 10).unwrap_or(0);
        n /= 10;
    }
}

/// Describes a span of seconds for a person: `3 minutes`, `2 days`.
pub fn human_span(secs: i64) -> String {
    let s = secs.unsigned_abs();
    let (n, unit) = match s {
        0..=119 => (s, "second"),
        120..=7_199 => (s / 60, "minute"),
        7_200..=172_799 => (s / 3_600, "hour"),
        _ => (s / 86_400, "day"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(1_000);
        assert_eq!(c.now(), 1_000);
        c.advance(61);
        assert_eq!(c.now(), 1_061);
        c.set(5);
        assert_eq!(c.now(), 5);
    }

    #[test]
    fn the_fast_rfc3339_path_agrees_with_the_time_crate() {
        let slow = |t: i64| {
            time::OffsetDateTime::from_unix_timestamp(t)
                .unwrap()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap()
        };
        let mut t: i64 = 0;
        while t < 253_402_300_800 {
            assert_eq!(rfc3339(t), slow(t), "{t}");
            t += 86_399 * 7 + 12_345; // every weekday, time of day and leap year in turn
        }
        for t in [951_782_400, 951_868_800, 4_107_542_400, 253_402_300_799] {
            assert_eq!(rfc3339(t), slow(t), "{t}");
        }
        assert_eq!(rfc3339(-1), slow(-1), "before 1970 goes the slow way");
    }

    #[test]
    fn serialises_as_the_json_string_of_its_text() {
        for t in [0, 1_800_000_000, 253_402_300_799, 253_402_300_800, -86_400] {
            let json = serde_json::to_string(&Rfc3339(t)).unwrap();
            assert_eq!(json, format!("\"{}\"", rfc3339(t)), "{t}");
        }
        assert_eq!(serde_json::to_string(&Rfc3339(1_800_000_000)).unwrap(), "\"2027-01-15T08:00:00Z\"");
    }

    #[test]
    fn formats() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(human_span(1), "1 second");
        assert_eq!(human_span(-180), "3 minutes");
        assert_eq!(human_span(3 * 86_400), "3 days");
    }
}
