//! The cache's tables. A change of columns needs new table names (or a migration): the
//! cache is only a cache, so dropping an old one and reloading from AWS is acceptable —
//! except `audit_log`, `anomaly_triage`, the operations journal (`ops`, `op_calls`) and
//! `freeze`, which are records, not cache: never drop them.

/// Creates every table when missing.
pub const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA user_version = 1;
CREATE TABLE IF NOT EXISTS snapshots (
    env TEXT PRIMARY KEY, saved_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS certificates (
    env TEXT NOT NULL, id BLOB NOT NULL, status TEXT NOT NULL, ca BLOB,
    created INTEGER NOT NULL, last_modified INTEGER NOT NULL, generation TEXT NOT NULL,
    not_before INTEGER, not_after INTEGER, subject TEXT, issuer TEXT, serial TEXT, key TEXT,
    pem_problem TEXT, PRIMARY KEY (env, id));
CREATE TABLE IF NOT EXISTS cas (
    env TEXT NOT NULL, id BLOB NOT NULL, status TEXT NOT NULL, auto_registration INTEGER NOT NULL,
    parent BLOB, not_before INTEGER, not_after INTEGER, subject TEXT, issuer TEXT, serial TEXT,
    key TEXT, pem_problem TEXT, PRIMARY KEY (env, id));
CREATE TABLE IF NOT EXISTS things (
    env TEXT NOT NULL, name TEXT NOT NULL, groups TEXT NOT NULL, firmware TEXT, connected INTEGER,
    PRIMARY KEY (env, name));
CREATE TABLE IF NOT EXISTS attachments (
    env TEXT NOT NULL, certificate BLOB NOT NULL, thing TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS attachments_env ON attachments (env, certificate);
CREATE TABLE IF NOT EXISTS policies (
    env TEXT NOT NULL, name TEXT NOT NULL, default_version TEXT NOT NULL, certificates TEXT NOT NULL,
    groups TEXT NOT NULL, allows_everything INTEGER NOT NULL, PRIMARY KEY (env, name));
CREATE TABLE IF NOT EXISTS thing_groups (
    env TEXT NOT NULL, name TEXT NOT NULL, parent TEXT, dynamic INTEGER NOT NULL,
    PRIMARY KEY (env, name));
CREATE TABLE IF NOT EXISTS anomalies (
    env TEXT NOT NULL, id TEXT NOT NULL, source TEXT NOT NULL, kind TEXT NOT NULL,
    severity TEXT NOT NULL, thing TEXT, certificate BLOB, summary TEXT NOT NULL, at INTEGER NOT NULL,
    cleared INTEGER NOT NULL, PRIMARY KEY (env, id));
CREATE TABLE IF NOT EXISTS sources (
    env TEXT NOT NULL, source TEXT NOT NULL, state TEXT NOT NULL, reason TEXT, fresh_at INTEGER,
    reported_at INTEGER NOT NULL, PRIMARY KEY (env, source));
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
CREATE TABLE IF NOT EXISTS anomaly_triage (
    env TEXT NOT NULL, anomaly TEXT NOT NULL, state TEXT NOT NULL, until INTEGER,
    at INTEGER NOT NULL, PRIMARY KEY (env, anomaly));
";

/// Every table that holds an environment's snapshot (replaced on each save). The audit log
/// and the anomaly triage are kept across saves and are not listed here.
pub const TABLES: [&str; 9] = [
    "snapshots",
    "certificates",
    "cas",
    "things",
    "attachments",
    "policies",
    "thing_groups",
    "anomalies",
    "sources",
];
