//! The operations journal: each operation's plan (JSON, as confirmed) and a row per call,
//! written before the call (`started`) and after it (`done` or `failed`, with the request
//! id). A killed apply leaves the rows that say where it stopped; `ops resume` reads them.
//! Also the environment's freeze. Records, not cache: a snapshot save never touches them.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::audit::{NewAuditEntry, append_in};

use super::{Store, StoreError};
use crate::model::UnixTime;

fn sql(doing: &str) -> impl FnOnce(rusqlite::Error) -> StoreError + '_ {
    move |source| StoreError::Sql {
        doing: doing.to_owned(),
        source,
    }
}

/// The state of a call in the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// Written before the call; no result yet (the apply was killed during the call).
    Started,
    /// The call succeeded.
    Done,
    /// The call failed.
    Failed,
}

impl CallState {
    fn as_str(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "done" => Self::Done,
            "failed" => Self::Failed,
            _ => Self::Started,
        }
    }
}

/// One call as journaled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRow {
    /// Index of the step in the plan.
    pub step: usize,
    /// Its state.
    pub state: CallState,
    /// The AWS request id, when known.
    pub request_id: Option<String>,
    /// The result or the error.
    pub detail: String,
    /// When it started.
    pub started: UnixTime,
    /// When it finished.
    pub finished: Option<UnixTime>,
}

/// One operation as journaled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpRow {
    /// Its id.
    pub id: String,
    /// The environment.
    pub environment: String,
    /// `revoke`, `quarantine`, ...
    pub kind: String,
    /// When it was confirmed.
    pub created: UnixTime,
    /// The plan (JSON).
    pub plan: String,
    /// `applying`, `applied`, `partial`, `verified`, `unverified`.
    pub state: String,
    /// Last change.
    pub updated: UnixTime,
}

/// An environment's freeze.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Freeze {
    /// Why.
    pub reason: String,
    /// Since when.
    pub since: UnixTime,
    /// Who froze it.
    pub by: String,
}

impl Store {
    /// Records a confirmed operation before its first call.
    ///
    /// # Errors
    /// [`StoreError::Sql`], also when the id exists.
    pub fn begin_op(
        &mut self,
        id: &str,
        environment: &str,
        kind: &str,
        plan_json: &str,
        at: UnixTime,
    ) -> Result<(), StoreError> {
        self.connection
            .execute(
                "INSERT INTO ops (id, env, kind, created, plan, state, updated) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 'applying', ?4)",
                params![id, environment, kind, at.0, plan_json],
            )
            .map(drop)
            .map_err(sql("journaling an operation"))
    }

    /// Sets an operation's state.
    ///
    /// # Errors
    /// [`StoreError::Sql`].
    pub fn set_op_state(&mut self, id: &str, state: &str, at: UnixTime) -> Result<(), StoreError> {
        self.connection
            .execute(
                "UPDATE ops SET state = ?2, updated = ?3 WHERE id = ?1",
                params![id, state, at.0],
            )
            .map(drop)
            .map_err(sql("updating an operation's state"))
    }

    /// Writes that a call is about to be made (before it is sent).
    ///
    /// # Errors
    /// [`StoreError::Sql`].
    pub fn call_started(&mut self, op: &str, step: usize, at: UnixTime) -> Result<(), StoreError> {
        self.connection
            .execute(
                "INSERT INTO op_calls (op, step, state, detail, started) VALUES (?1, ?2, 'started', '', ?3) \
                 ON CONFLICT (op, step) DO UPDATE SET state = 'started', started = ?3, finished = NULL",
                params![op, i64::try_from(step).unwrap_or(i64::MAX), at.0],
            )
            .map(drop)
            .map_err(sql("journaling a call"))
    }

    /// Writes a call's result.
    ///
    /// # Errors
    /// [`StoreError::Sql`].
    pub fn call_finished(
        &mut self,
        op: &str,
        step: usize,
        state: CallState,
        request_id: Option<&str>,
        detail: &str,
        at: UnixTime,
    ) -> Result<(), StoreError> {
        write_result(&self.connection, op, step, state, request_id, detail, at)
    }

    /// Journals a call's result and appends its audit entry in one transaction, so a process
    /// killed between the two cannot leave a call done in the journal and missing from the
    /// audit log (a resume would find it done and never record it).
    ///
    /// # Errors
    /// [`StoreError::Sql`]; [`StoreError::Corrupt`] when the audit log's newest hash is
    /// unreadable. Nothing is written then.
    #[allow(clippy::too_many_arguments)] // the journal row's fields and the entry
    pub fn finish_call_recorded(
        &mut self,
        op: &str,
        step: usize,
        state: CallState,
        request_id: Option<&str>,
        detail: &str,
        at: UnixTime,
        entry: NewAuditEntry,
    ) -> Result<(), StoreError> {
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql("starting a call's result"))?;
        write_result(&tx, op, step, state, request_id, detail, at)?;
        append_in(&tx, entry)?;
        tx.commit().map_err(sql("committing a call's result"))
    }

    /// The journaled calls of an operation, by step.
    ///
    /// # Errors
    /// [`StoreError::Sql`].
    pub fn op_calls(&self, op: &str) -> Result<Vec<CallRow>, StoreError> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT step, state, request_id, detail, started, finished FROM op_calls \
                 WHERE op = ?1 ORDER BY step",
            )
            .map_err(sql("reading the journal"))?;
        let rows = statement
            .query_map(params![op], |row| {
                Ok(CallRow {
                    step: usize::try_from(row.get::<_, i64>(0)?).unwrap_or(usize::MAX),
                    state: CallState::parse(&row.get::<_, String>(1)?),
                    request_id: row.get(2)?,
                    detail: row.get(3)?,
                    started: UnixTime(row.get(4)?),
                    finished: row.get::<_, Option<i64>>(5)?.map(UnixTime),
                })
            })
            .map_err(sql("reading the journal"))?;
        rows.collect::<Result<_, _>>()
            .map_err(sql("reading the journal"))
    }

    /// An operation by id.
    ///
    /// # Errors
    /// [`StoreError::Sql`].
    pub fn op(&self, id: &str) -> Result<Option<OpRow>, StoreError> {
        self.connection
            .query_row(
                "SELECT id, env, kind, created, plan, state, updated FROM ops WHERE id = ?1",
                params![id],
                op_row,
            )
            .optional()
            .map_err(sql("reading the journal"))
    }

    /// The environment's operations, newest first.
    ///
    /// # Errors
    /// [`StoreError::Sql`].
    pub fn ops(&self, environment: &str, limit: usize) -> Result<Vec<OpRow>, StoreError> {
        let mut statement = self
            .connection
            .prepare(
                "SELECT id, env, kind, created, plan, state, updated FROM ops WHERE env = ?1 \
                 ORDER BY created DESC, id DESC LIMIT ?2",
            )
            .map_err(sql("reading the journal"))?;
        let rows = statement
            .query_map(
                params![environment, i64::try_from(limit).unwrap_or(i64::MAX)],
                op_row,
            )
            .map_err(sql("reading the journal"))?;
        rows.collect::<Result<_, _>>()
            .map_err(sql("reading the journal"))
    }

    /// The environment's freeze, if it is frozen.
    ///
    /// # Errors
    /// [`StoreError::Sql`].
    pub fn freeze(&self, environment: &str) -> Result<Option<Freeze>, StoreError> {
        self.connection
            .query_row(
                "SELECT reason, since, by FROM freeze WHERE env = ?1",
                params![environment],
                |row| {
                    Ok(Freeze {
                        reason: row.get(0)?,
                        since: UnixTime(row.get(1)?),
                        by: row.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(sql("reading the freeze"))
    }

    /// Freezes the environment (`Some`) or lifts its freeze (`None`).
    ///
    /// # Errors
    /// [`StoreError::Sql`].
    pub fn set_freeze(
        &mut self,
        environment: &str,
        freeze: Option<&Freeze>,
    ) -> Result<(), StoreError> {
        let result = match freeze {
            Some(f) => self.connection.execute(
                "INSERT INTO freeze (env, reason, since, by) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (env) DO UPDATE SET reason = ?2, since = ?3, by = ?4",
                params![environment, f.reason, f.since.0, f.by],
            ),
            None => self
                .connection
                .execute("DELETE FROM freeze WHERE env = ?1", params![environment]),
        };
        result.map(drop).map_err(sql("writing the freeze"))
    }
}

fn op_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<OpRow> {
    Ok(OpRow {
        id: row.get(0)?,
        environment: row.get(1)?,
        kind: row.get(2)?,
        created: UnixTime(row.get(3)?),
        plan: row.get(4)?,
        state: row.get(5)?,
        updated: UnixTime(row.get(6)?),
    })
}

/// Writes a call's result into its journal row, on `db` (the store's connection or a
/// transaction on it).
fn write_result(
    db: &Connection,
    op: &str,
    step: usize,
    state: CallState,
    request_id: Option<&str>,
    detail: &str,
    at: UnixTime,
) -> Result<(), StoreError> {
    db.execute(
        "UPDATE op_calls SET state = ?3, request_id = ?4, detail = ?5, finished = ?6 \
         WHERE op = ?1 AND step = ?2",
        params![
            op,
            i64::try_from(step).unwrap_or(i64::MAX),
            state.as_str(),
            request_id,
            detail,
            at.0
        ],
    )
    .map(drop)
    .map_err(sql("journaling a call's result"))
}
