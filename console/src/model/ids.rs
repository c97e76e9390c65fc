//! Compact identifiers and instants used by every record of the fleet model.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::str::FromStr;

/// An AWS IoT certificate id (device or CA): 64 hex characters, stored as 32 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CertId(pub [u8; 32]);

impl CertId {
    /// The first eight bytes as one big-endian integer: ordered as the bytes are.
    fn prefix(&self) -> u64 {
        let [a, b, c, d, e, f, g, h, ..] = self.0;
        u64::from_be_bytes([a, b, c, d, e, f, g, h])
    }
}

/// The bytes' order, decided by one integer comparison of the first eight bytes unless they
/// are equal (ids are digests, so they nearly never are): sorting a million ids and searching
/// the maps keyed by them costs a fraction of comparing 32 bytes each time.
impl Ord for CertId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.prefix()
            .cmp(&other.prefix())
            .then_with(|| self.0[8..].cmp(&other.0[8..]))
    }
}

impl PartialOrd for CertId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Hashes a [`CertId`] by its first eight bytes. A certificate id is a SHA-256 digest of the
/// certificate, already spread evenly, so hashing it again (SipHash over 32 bytes) only costs
/// time at a million look-ups.
#[derive(Debug, Default, Clone, Copy)]
pub struct CertIdHasher(u64);

impl Hasher for CertIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut word = [0; 8];
        let n = bytes.len().min(8);
        word[..n].copy_from_slice(&bytes[..n]);
        self.0 = self.0.rotate_left(29) ^ u64::from_le_bytes(word);
    }
}

/// A map keyed by certificate id, hashed with [`CertIdHasher`].
pub type CertIdMap<V> = HashMap<CertId, V, BuildHasherDefault<CertIdHasher>>;

/// Hashes a slot number (a dense `u32` the model hands out itself, never chosen from outside)
/// by one multiplication: the low bits stay a permutation of the slot's, the high bits mix.
#[derive(Debug, Default, Clone, Copy)]
pub struct SlotHasher(u64);

impl Hasher for SlotHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(26) ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// A set of slot numbers (certificates of a status, a CA, an expiry day).
pub type SlotSet = std::collections::HashSet<u32, BuildHasherDefault<SlotHasher>>;

/// A string that is not a 64-character hex certificate id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("certificate id {text:?} is not 64 hex characters")]
pub struct CertIdError {
    /// The text that was offered (cut to 80 characters).
    pub text: String,
}

impl CertId {
    /// Parses 64 hex characters (either case).
    ///
    /// # Errors
    /// [`CertIdError`] for anything else.
    pub fn parse(text: &str) -> Result<Self, CertIdError> {
        let error = || CertIdError {
            text: text.chars().take(80).collect(),
        };
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return Err(error());
        }
        let mut out = [0_u8; 32];
        for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            let high = hex_value(pair[0]).ok_or_else(error)?;
            let low = hex_value(pair[1]).ok_or_else(error)?;
            *slot = (high << 4) | low;
        }
        Ok(Self(out))
    }

    /// The first `n` hex characters, for narrow table columns.
    #[must_use]
    pub fn short(&self, n: usize) -> String {
        let mut text = self.to_string();
        text.truncate(n);
        text
    }
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

impl FromStr for CertId {
    type Err = CertIdError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for CertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for CertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertId({})", self.short(12))
    }
}

/// Seconds since the Unix epoch (UTC). Eight bytes instead of a full date-time per record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct UnixTime(pub i64);

/// Seconds in one day.
pub const SECONDS_PER_DAY: i64 = 86_400;

impl UnixTime {
    /// The current wall-clock time.
    #[must_use]
    pub fn now() -> Self {
        Self(time::OffsetDateTime::now_utc().unix_timestamp())
    }

    /// The UTC day this instant falls on, counted from 1970-01-01.
    #[must_use]
    pub fn day(self) -> Day {
        // Dates of certificates lie within ±5.8 million years of 1970, so the day fits i32.
        Day(
            i32::try_from(self.0.div_euclid(SECONDS_PER_DAY)).unwrap_or(if self.0 < 0 {
                i32::MIN
            } else {
                i32::MAX
            }),
        )
    }

    /// This instant plus `seconds`.
    #[must_use]
    pub fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds))
    }

    /// As a `time` date-time, or `None` outside the range `time` supports.
    #[must_use]
    pub fn to_datetime(self) -> Option<time::OffsetDateTime> {
        time::OffsetDateTime::from_unix_timestamp(self.0).ok()
    }

    /// RFC 3339 in UTC (`2026-11-25T08:00:00Z`), or the raw seconds when out of range.
    #[must_use]
    pub fn rfc3339(self) -> String {
        self.to_datetime()
            .and_then(|dt| {
                dt.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_else(|| format!("@{}", self.0))
    }
}

/// A UTC calendar day, counted from 1970-01-01 (day 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Day(pub i32);

impl Day {
    /// The first second of this day.
    #[must_use]
    pub fn start(self) -> UnixTime {
        UnixTime(i64::from(self.0) * SECONDS_PER_DAY)
    }

    /// The date, e.g. `2026-11-25`.
    #[must_use]
    pub fn date(self) -> Option<time::Date> {
        self.start().to_datetime().map(time::OffsetDateTime::date)
    }

    /// `YYYY-MM-DD`, or the raw day number when out of range.
    #[must_use]
    pub fn iso(self) -> String {
        self.date().map_or_else(
            || format!("day{}", self.0),
            |d| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cert_ids_round_trip_through_hex() {
        let text = "ab".repeat(32);
        let id = CertId::parse(&text).unwrap();
        assert_eq!(id.to_string(), text);
        assert_eq!(CertId::parse(&text.to_uppercase()).unwrap(), id);
        assert_eq!(id.short(8), "abababab");
    }

    #[test]
    fn cert_ids_are_ordered_as_their_bytes() {
        let mut ids: Vec<CertId> = Vec::new();
        for (position, value) in [
            (0, 1),
            (0, 0xff),
            (7, 1),
            (7, 0x80),
            (8, 1),
            (31, 1),
            (31, 0xff),
        ] {
            let mut bytes = [0x11_u8; 32];
            bytes[position] = value;
            ids.push(CertId(bytes));
        }
        ids.push(CertId([0x11; 32]));
        for a in &ids {
            for b in &ids {
                assert_eq!(a.cmp(b), a.0.cmp(&b.0), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn malformed_cert_ids_are_refused() {
        assert!(CertId::parse("abc").is_err());
        assert!(CertId::parse(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn days_are_utc_calendar_days() {
        let t = UnixTime(1_764_057_600); // 2025-11-25T08:00:00Z
        assert_eq!(t.day().iso(), "2025-11-25");
        assert_eq!(UnixTime(-1).day(), Day(-1));
        assert_eq!(t.rfc3339(), "2025-11-25T08:00:00Z");
    }
}
