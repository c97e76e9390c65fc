//! The audit log's hash chain: a canonical byte encoding of an entry and the SHA-256 link
//! `hash = SHA-256(DOMAIN || prev_hash || encoding(entry))` (aws-lc-rs).
//!
//! The encoding is unambiguous: every field in a fixed order, integers as 8 big-endian bytes,
//! strings as an 8-byte big-endian length and their UTF-8 bytes, optional strings with a
//! presence byte, lists with their length first. It never depends on SQLite's text forms, so
//! the chain survives a change of storage.

use aws_lc_rs::digest;

use super::{AuditEntry, NewAuditEntry};

/// Length of a link in bytes (SHA-256).
pub const HASH_LEN: usize = 32;

/// The `prev_hash` of the first entry.
pub const GENESIS: [u8; HASH_LEN] = [0; HASH_LEN];

/// Separates this use of SHA-256 from any other (and versions the encoding).
const DOMAIN: &[u8] = b"fleetid audit log v1\n";

/// Appends the canonical encoding of one field after another.
#[derive(Debug, Default)]
struct Encoder(Vec<u8>);

impl Encoder {
    fn integer(&mut self, value: i64) -> &mut Self {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    fn text(&mut self, value: &str) -> &mut Self {
        let len = u64::try_from(value.len()).unwrap_or(u64::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(value.as_bytes());
        self
    }

    fn optional(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            None => self.0.push(0),
            Some(text) => {
                self.0.push(1);
                self.text(text);
            }
        }
        self
    }

    fn list(&mut self, values: &[String]) -> &mut Self {
        let len = u64::try_from(values.len()).unwrap_or(u64::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        for value in values {
            self.text(value);
        }
        self
    }
}

/// The canonical encoding of entry `sequence` with the fields of `entry`.
#[must_use]
pub fn encode(sequence: i64, entry: &NewAuditEntry) -> Vec<u8> {
    let mut encoder = Encoder::default();
    encoder
        .integer(sequence)
        .integer(entry.at.0)
        .text(&entry.os_user)
        .optional(entry.principal.as_deref())
        .optional(entry.account.as_deref())
        .text(&entry.environment)
        .text(&entry.action)
        .list(&entry.targets)
        .text(&entry.plan)
        .text(entry.decision.as_str())
        .text(&entry.outcome);
    encoder.0
}

/// The link of entry `sequence` after `prev_hash`.
#[must_use]
pub fn link(prev_hash: &[u8; HASH_LEN], sequence: i64, entry: &NewAuditEntry) -> [u8; HASH_LEN] {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(DOMAIN);
    context.update(prev_hash);
    context.update(&encode(sequence, entry));
    let mut hash = [0; HASH_LEN];
    hash.copy_from_slice(context.finish().as_ref());
    hash
}

/// Whether a stored entry's hash is the link after its own `prev_hash`.
#[must_use]
pub fn holds(entry: &AuditEntry) -> bool {
    link(&entry.prev_hash, entry.sequence, &entry.fields) == entry.hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::UnixTime;
    use crate::store::audit::Decision;

    fn entry(targets: &[&str]) -> NewAuditEntry {
        NewAuditEntry {
            at: UnixTime(1_795_593_600),
            os_user: "oncall".into(),
            principal: None,
            account: Some("123456789012".into()),
            environment: "prod".into(),
            action: "revoke".into(),
            targets: targets.iter().map(|t| (*t).to_owned()).collect(),
            plan: "1 certificate".into(),
            decision: Decision::Cancelled,
            outcome: "nothing changed".into(),
        }
    }

    #[test]
    fn the_encoding_separates_fields_that_concatenate_alike() {
        assert_ne!(
            encode(1, &entry(&["ab", "c"])),
            encode(1, &entry(&["a", "bc"]))
        );
        assert_ne!(encode(1, &entry(&["abc"])), encode(1, &entry(&["ab", "c"])));
        let mut absent = entry(&[]);
        absent.principal = None;
        let mut empty = entry(&[]);
        empty.principal = Some(String::new());
        assert_ne!(encode(1, &absent), encode(1, &empty));
    }

    #[test]
    fn the_link_depends_on_the_previous_hash_the_sequence_and_every_field() {
        let base = entry(&["dev-1"]);
        let first = link(&GENESIS, 1, &base);
        assert_ne!(first, link(&[1; HASH_LEN], 1, &base));
        assert_ne!(first, link(&GENESIS, 2, &base));
        let mut other = base.clone();
        other.decision = Decision::Confirmed;
        assert_ne!(first, link(&GENESIS, 1, &other));
        // SHA-256 of the same bytes, computed in one call: the context adds nothing else.
        let mut bytes = DOMAIN.to_vec();
        bytes.extend_from_slice(&GENESIS);
        bytes.extend_from_slice(&encode(1, &base));
        assert_eq!(
            first.as_slice(),
            digest::digest(&digest::SHA256, &bytes).as_ref()
        );
    }
}
