//! Exit codes of the `fleetid` binary (documented in docs/cli.md).

/// Success; for `status`: healthy.
pub const OK: u8 = 0;
/// A runtime failure: AWS unreachable, the cache unreadable, an I/O error.
pub const FAILURE: u8 = 1;
/// The command line is wrong (clap's own code).
pub const USAGE: u8 = 2;
/// config.toml is invalid, or the caller's account is not the one the environment expects.
pub const CONFIG: u8 = 3;
/// `status`: certificates expire inside the critical window, or a CA that is not active still
/// has active device certificates.
pub const CRITICAL: u8 = 4;
/// What was asked for does not exist (`certs show` of an unknown id, an unknown group).
pub const NOT_FOUND: u8 = 5;
/// A mutation was refused because the session is read-only.
pub const READ_ONLY: u8 = 6;
/// `audit --verify`: the audit log's hash chain is broken (an entry was changed or removed).
pub const AUDIT_BROKEN: u8 = 7;
/// A mutation was refused because `--expect-count` differs from the plan's count.
pub const COUNT_DIFFERS: u8 = 8;
/// A mutation was applied in part: some targets are done, others not (`fleetid ops resume`).
pub const PARTIAL: u8 = 9;
/// `rotate`: a campaign is halted or a stage's gate failed.
pub const HALTED: u8 = 10;
