//! The audit log: an append-only, hash-chained table in the console's store.
//!
//! Every entry records who (OS user, AWS principal and account when known), where (the
//! environment), what (action, targets, the plan shown), the decision (confirmed, cancelled,
//! refused) and the outcome. Entries are numbered from 1 across all environments; each one's
//! `hash` links it to the previous entry's (see [`chain`]), so a changed, removed or
//! re-ordered row is found by [`Store::verify_audit`]. SQLite triggers refuse UPDATE and
//! DELETE; the chain is what catches someone who drops them. docs/audit.md has the design.

pub mod chain;

use rusqlite::{OptionalExtension, Row, TransactionBehavior, params};

use super::{Store, StoreError};
use crate::model::UnixTime;
use chain::{GENESIS, HASH_LEN};

/// What the operator decided about a planned action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Typed the confirmation (or triaged an anomaly, which needs none).
    Confirmed,
    /// Cancelled the confirmation dialog.
    Cancelled,
    /// Refused because the session is read-only.
    RefusedReadOnly,
    /// Refused because the caller's account is not the environment's.
    RefusedAccountMismatch,
    /// Planned with `--dry-run`: shown, not applied.
    DryRun,
    /// Refused because `--expect-count` differed from the plan's count.
    RefusedCountDiffers,
    /// Refused because nobody confirmed (no `--yes`, no terminal to ask on).
    RefusedNotConfirmed,
}

impl Decision {
    /// Every decision.
    pub const ALL: [Self; 7] = [
        Self::Confirmed,
        Self::Cancelled,
        Self::RefusedReadOnly,
        Self::RefusedAccountMismatch,
        Self::DryRun,
        Self::RefusedCountDiffers,
        Self::RefusedNotConfirmed,
    ];

    /// The stored (and hashed) spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Cancelled => "cancelled",
            Self::RefusedReadOnly => "refused-read-only",
            Self::RefusedAccountMismatch => "refused-account-mismatch",
            Self::DryRun => "dry-run",
            Self::RefusedCountDiffers => "refused-count-differs",
            Self::RefusedNotConfirmed => "refused-not-confirmed",
        }
    }

    /// The decision spelled `text`, if any.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == text)
    }
}

/// An entry to append: everything but its number and links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// When (UTC seconds).
    pub at: UnixTime,
    /// The operating-system user running the console.
    pub os_user: String,
    /// The AWS principal (ARN), when known.
    pub principal: Option<String>,
    /// The AWS account, when verified.
    pub account: Option<String>,
    /// The environment's name.
    pub environment: String,
    /// What (`revoke`, `quarantine`, `acknowledge`, `suppress`, `reopen`).
    pub action: String,
    /// On what (thing names, anomaly ids).
    pub targets: Vec<String>,
    /// The plan as it was shown (blast radius, expiry of a suppression).
    pub plan: String,
    /// What the operator decided.
    pub decision: Decision,
    /// What happened.
    pub outcome: String,
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Its number, from 1, without gaps.
    pub sequence: i64,
    /// Its fields.
    pub fields: NewAuditEntry,
    /// The previous entry's hash ([`chain::GENESIS`] for the first).
    pub prev_hash: [u8; HASH_LEN],
    /// SHA-256 over `prev_hash` and the canonical encoding of this entry.
    pub hash: [u8; HASH_LEN],
}

/// Which entries [`Store::list_audit`] returns: newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditPage<'a> {
    /// Only this environment's entries (`None`: all).
    pub environment: Option<&'a str>,
    /// Only entries numbered below this one (the last entry of the previous page).
    pub before: Option<i64>,
    /// At most this many.
    pub limit: usize,
}

/// Why [`Store::verify_audit`] did not vouch for the log.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The first entry that does not link to its predecessor, or was changed.
    #[error("the audit log is broken at entry {sequence}: {reason}")]
    Broken {
        /// Its number (for a gap, the number that was expected there).
        sequence: i64,
        /// What does not hold.
        reason: String,
    },
    /// The log could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
}

const COLUMNS: &str = "seq, at, os_user, principal, account, env, action, targets, plan, \
                       decision, outcome, prev_hash, hash";

fn sql(doing: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Sql {
        doing: doing.to_owned(),
        source,
    }
}

fn decode_hash(text: &str) -> Result<[u8; HASH_LEN], String> {
    let bytes = hex::decode(text).map_err(|e| format!("hash {text:?} is not hex: {e}"))?;
    bytes
        .try_into()
        .map_err(|_| format!("hash {text:?} is not {HASH_LEN} bytes"))
}

/// A row as read, before its text columns are checked.
type RawRow = (i64, Result<AuditEntry, String>);

/// The columns of a row whose contents this version must check before trusting them.
struct Encoded {
    targets: String,
    decision: String,
    prev_hash: String,
    hash: String,
}

fn read_row(row: &Row<'_>) -> rusqlite::Result<RawRow> {
    let sequence: i64 = row.get(0)?;
    let encoded = Encoded {
        targets: row.get(7)?,
        decision: row.get(9)?,
        prev_hash: row.get(11)?,
        hash: row.get(12)?,
    };
    let fields = NewAuditEntry {
        at: UnixTime(row.get(1)?),
        os_user: row.get(2)?,
        principal: row.get(3)?,
        account: row.get(4)?,
        environment: row.get(5)?,
        action: row.get(6)?,
        targets: Vec::new(),
        plan: row.get(8)?,
        decision: Decision::Confirmed,
        outcome: row.get(10)?,
    };
    Ok((sequence, decode(sequence, fields, &encoded)))
}

/// Completes `fields` with the checked contents of `encoded`.
fn decode(
    sequence: i64,
    mut fields: NewAuditEntry,
    encoded: &Encoded,
) -> Result<AuditEntry, String> {
    let Encoded {
        targets,
        decision,
        prev_hash,
        hash,
    } = encoded;
    fields.targets = serde_json::from_str(targets)
        .map_err(|e| format!("targets {targets:?} are not a JSON list: {e}"))?;
    fields.decision =
        Decision::parse(decision).ok_or_else(|| format!("unknown decision {decision:?}"))?;
    Ok(AuditEntry {
        sequence,
        fields,
        prev_hash: decode_hash(prev_hash)?,
        hash: decode_hash(hash)?,
    })
}

impl Store {
    /// Appends `entry` after the newest one, in one immediate transaction (two consoles
    /// appending at once are serialised by SQLite). Returns the stored entry.
    ///
    /// # Errors
    /// [`StoreError::Sql`]; [`StoreError::Corrupt`] when the newest entry's hash is unreadable.
    pub fn append_audit(&mut self, entry: NewAuditEntry) -> Result<AuditEntry, StoreError> {
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql("starting an audit log transaction"))?;
        let appended = append_in(&tx, entry)?;
        tx.commit().map_err(sql("committing the audit log entry"))?;
        Ok(appended)
    }

    /// Entries newest first, one page at a time.
    ///
    /// # Errors
    /// [`StoreError::Sql`]; [`StoreError::Corrupt`] for a row this version cannot read.
    pub fn list_audit(&self, page: &AuditPage<'_>) -> Result<Vec<AuditEntry>, StoreError> {
        let mut statement = self
            .connection
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM audit_log WHERE (?1 IS NULL OR env = ?1) \
                 AND (?2 IS NULL OR seq < ?2) ORDER BY seq DESC LIMIT ?3"
            ))
            .map_err(sql("reading the audit log"))?;
        let limit = i64::try_from(page.limit).unwrap_or(i64::MAX);
        let rows = statement
            .query_map(params![page.environment, page.before, limit], read_row)
            .map_err(sql("reading the audit log"))?;
        let mut entries = Vec::new();
        for row in rows {
            let (sequence, entry) = row.map_err(sql("reading the audit log"))?;
            entries.push(entry.map_err(|detail| StoreError::Corrupt {
                table: "audit_log",
                environment: page.environment.unwrap_or("any environment").to_owned(),
                detail: format!("entry {sequence}: {detail}"),
            })?);
        }
        Ok(entries)
    }

    /// Checks the whole chain, oldest first: numbers run from 1 without gaps, every
    /// `prev_hash` is the previous entry's hash, every hash is recomputed. Returns how many
    /// entries were checked.
    ///
    /// # Errors
    /// [`VerifyError::Broken`] naming the first entry that fails; [`VerifyError::Store`] when
    /// the table cannot be read.
    pub fn verify_audit(&self) -> Result<u64, VerifyError> {
        let mut statement = self
            .connection
            .prepare(&format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq"))
            .map_err(sql("reading the audit log"))?;
        let rows = statement
            .query_map([], read_row)
            .map_err(sql("reading the audit log"))?;
        let mut expected = 1;
        let mut prev_hash = GENESIS;
        for row in rows {
            let (sequence, entry) = row.map_err(sql("reading the audit log"))?;
            let broken = |reason: String| VerifyError::Broken {
                sequence: sequence.min(expected),
                reason,
            };
            if sequence != expected {
                return Err(broken(format!(
                    "entry {expected} is missing (the next one is {sequence})"
                )));
            }
            let entry = entry.map_err(broken)?;
            if entry.prev_hash != prev_hash {
                return Err(broken(
                    "its prev_hash is not the previous entry's hash".to_owned(),
                ));
            }
            if !chain::holds(&entry) {
                return Err(broken(
                    "its hash does not match its contents (the entry was changed)".to_owned(),
                ));
            }
            prev_hash = entry.hash;
            expected += 1;
        }
        Ok(u64::try_from(expected - 1).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests;

/// Appends `entry` after the newest one inside the caller's transaction (an immediate one, so
/// appenders are serialised): the audit log's half of a change that must be written whole.
///
/// # Errors
/// [`StoreError::Sql`]; [`StoreError::Corrupt`] when the newest entry's hash is unreadable.
pub(crate) fn append_in(
    tx: &rusqlite::Transaction<'_>,
    entry: NewAuditEntry,
) -> Result<AuditEntry, StoreError> {
    let last: Option<(i64, String)> = tx
        .query_row(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(sql("reading the newest audit log entry"))?;
    let (sequence, prev_hash) = match last {
        None => (1, GENESIS),
        Some((seq, hash)) => (
            seq + 1,
            decode_hash(&hash).map_err(|detail| StoreError::Corrupt {
                table: "audit_log",
                environment: entry.environment.clone(),
                detail: format!("entry {seq}: {detail}"),
            })?,
        ),
    };
    let hash = chain::link(&prev_hash, sequence, &entry);
    let targets = serde_json::Value::from(entry.targets.clone()).to_string();
    tx.execute(
            &format!("INSERT INTO audit_log ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
            params![
                sequence,
                entry.at.0,
                entry.os_user,
                entry.principal,
                entry.account,
                entry.environment,
                entry.action,
                targets,
                entry.plan,
                entry.decision.as_str(),
                entry.outcome,
                hex::encode(prev_hash),
                hex::encode(hash),
            ],
        )
        .map_err(sql("appending to the audit log"))?;
    Ok(AuditEntry {
        sequence,
        fields: entry,
        prev_hash,
        hash,
    })
}
