//! The cache's tables. A change of columns needs new table names (or a migration): the
//! cache is only a cache, so dropping an old one and reloading from AWS is acceptable —
//! except `audit_log`, `anomaly_triage`, the operations journal (`ops`, `op_calls`) and
//! `freeze` and `campaigns`, which are records, not cache: never drop them.
//!
//! A snapshot is a base and its changes: `snapshot_blocks` holds the base (certificates and
//! things in encoded blocks, read in bulk), `snapshot_changes` one row per certificate or thing
//! written since (a save writes what changed), `snapshot_heads` the version both belong to.
//! The tables of the first layout (one row per record) are dropped.

/// Creates every table when missing.
pub const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA user_version = 2;
DROP TABLE IF EXISTS snapshots;
DROP TABLE IF EXISTS certificates;
DROP TABLE IF EXISTS cas;
DROP TABLE IF EXISTS things;
DROP TABLE IF EXISTS attachments;
DROP TABLE IF EXISTS policies;
DROP TABLE IF EXISTS thing_groups;
DROP TABLE IF EXISTS anomalies;
DROP TABLE IF EXISTS sources;
CREATE TABLE IF NOT EXISTS snapshot_heads (
    env TEXT PRIMARY KEY, saved_at INTEGER NOT NULL, version INTEGER NOT NULL,
    format INTEGER NOT NULL, base_records INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS snapshot_blocks (
    env TEXT NOT NULL, part TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (env, part, seq));
CREATE TABLE IF NOT EXISTS snapshot_changes (
    env TEXT NOT NULL, kind INTEGER NOT NULL, key BLOB NOT NULL, data BLOB,
    PRIMARY KEY (env, kind, key));
CREATE TABLE IF NOT EXISTS audit_log (
    seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, os_user TEXT NOT NULL, principal TEXT,
    account TEXT, env TEXT NOT NULL, action TEXT NOT NULL, targets TEXT NOT NULL,
    plan TEXT NOT NULL, decision TEXT NOT NULL, outcome TEXT NOT NULL, prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_log_env ON audit_log (env, seq);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS ops (
    id TEXT PRIMARY KEY, env TEXT NOT NULL, kind TEXT NOT NULL, created INTEGER NOT NULL,
    plan TEXT NOT NULL, state TEXT NOT NULL, updated INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS ops_env ON ops (env, created);
CREATE TABLE IF NOT EXISTS op_calls (
    op TEXT NOT NULL, step INTEGER NOT NULL, state TEXT NOT NULL, request_id TEXT,
    detail TEXT NOT NULL, started INTEGER NOT NULL, finished INTEGER, PRIMARY KEY (op, step));
CREATE TABLE IF NOT EXISTS freeze (
    env TEXT PRIMARY KEY, reason TEXT NOT NULL, since INTEGER NOT NULL, by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS campaigns (
    env TEXT NOT NULL, id TEXT NOT NULL, state TEXT NOT NULL, created INTEGER NOT NULL,
    updated INTEGER NOT NULL, PRIMARY KEY (env, id));
CREATE TABLE IF NOT EXISTS anomaly_triage (
    env TEXT NOT NULL, anomaly TEXT NOT NULL, state TEXT NOT NULL, until INTEGER,
    at INTEGER NOT NULL, PRIMARY KEY (env, anomaly));
CREATE TABLE IF NOT EXISTS source_outages (
    env TEXT NOT NULL, source TEXT NOT NULL, reason TEXT NOT NULL, since INTEGER NOT NULL,
    until INTEGER NOT NULL, PRIMARY KEY (env, source));
";

/// The encoding of the blocks and changes ([`super::records`]); a snapshot of another format is
/// ignored (reloaded from AWS) rather than misread.
pub const FORMAT: i64 = 1;

/// The tables that hold an environment's snapshot. The audit log, the journal and the
/// anomaly triage are kept across saves and are not listed here.
pub const TABLES: [&str; 3] = ["snapshot_heads", "snapshot_blocks", "snapshot_changes"];

/// Block parts: device certificates and things in blocks of [`BLOCK_RECORDS`], the small parts,
/// the source states and the summary in one block each.
pub mod part {
    pub const CERTIFICATES: &str = "certificates";
    pub const THINGS: &str = "things";
    pub const SMALL: &str = "small";
    pub const SOURCES: &str = "sources";
    /// The aggregates ([`super::super::summary`]), rewritten by every save.
    pub const SUMMARY: &str = "summary";
}

/// Kinds of rows in `snapshot_changes`.
pub mod change {
    pub const CERTIFICATE: i64 = 0;
    pub const THING: i64 = 1;
}

/// Records per block: large enough that SQLite's per-row cost vanishes, small enough that
/// blocks decode in parallel and memory holds a few at a time.
pub const BLOCK_RECORDS: usize = 32_768;
