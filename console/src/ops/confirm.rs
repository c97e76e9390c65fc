//! Confirmation: a [`ConfirmedPlan`] can only be made from a [`Plan`] and an answer that
//! matches it — on the command line `--yes --expect-count N` (or the count typed at a
//! prompt); in the TUI the dialog's typed answer, whose shown count the plan must still
//! have. A permanent revoke also needs the word REVOKE.

use std::io::{BufRead, IsTerminal, Write};

use super::plan::{OpKind, Plan};

/// A plan a person (or a script that stated the count) agreed to. Only this module makes one.
#[derive(Debug, Clone)]
pub struct ConfirmedPlan {
    plan: Plan,
    how: String,
}

impl ConfirmedPlan {
    /// The plan.
    #[must_use]
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// How it was confirmed (`--yes --expect-count 3`, `typed "3"`), for the audit log.
    #[must_use]
    pub fn how(&self) -> &str {
        &self.how
    }

    /// A plan confirmed earlier and read back from the journal (`ops resume`): the
    /// confirmation was recorded when it was given.
    pub(super) fn resumed(plan: Plan) -> Self {
        Self {
            plan,
            how: "resumed from the journal".into(),
        }
    }
}

/// Why a plan was not confirmed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// `--expect-count` differs from the plan's count.
    #[error(
        "refused: the plan has {actual} certificate(s) but --expect-count says {expected}; \
         nothing was changed (check the selection with --dry-run)"
    )]
    CountDiffers {
        /// What the caller expected.
        expected: usize,
        /// What the plan has.
        actual: usize,
    },
    /// No `--yes` and no terminal to ask on.
    #[error(
        "refused: not confirmed; pass --yes --expect-count {count} (stdin is not a terminal to \
         ask on); nothing was changed"
    )]
    NotConfirmed {
        /// The plan's count.
        count: usize,
    },
    /// The answer typed did not match.
    #[error("cancelled: the answer did not match; nothing was changed")]
    Cancelled,
    /// A typed confirmation was needed and stdin is no terminal.
    #[error(
        "refused: not confirmed; pass --yes (stdin is not a terminal to ask on); nothing was \
         changed"
    )]
    NotConfirmedTyped,
    /// `--yes` without `--expect-count`.
    #[error("--yes needs --expect-count N (the number of certificates the plan must have)")]
    CountMissing,
}

/// What the command line said.
#[derive(Debug, Clone, Copy, Default)]
pub struct CliAnswer {
    /// `--yes`.
    pub yes: bool,
    /// `--expect-count N`.
    pub expect_count: Option<usize>,
}

/// Confirms `plan` from the command line: `--yes` with a matching `--expect-count`; without
/// `--yes`, asks on the terminal (the count, and REVOKE for a permanent revoke); refuses on a
/// non-terminal. `--expect-count` alone is checked too.
///
/// # Errors
/// [`Refusal`].
pub fn confirm_cli(plan: Plan, answer: CliAnswer) -> Result<ConfirmedPlan, Refusal> {
    if let Some(expected) = answer.expect_count
        && expected != plan.count()
    {
        return Err(Refusal::CountDiffers {
            expected,
            actual: plan.count(),
        });
    }
    if answer.yes {
        let Some(expected) = answer.expect_count else {
            return Err(Refusal::CountMissing);
        };
        return Ok(ConfirmedPlan {
            how: format!("--yes --expect-count {expected}"),
            plan,
        });
    }
    if !std::io::stdin().is_terminal() {
        return Err(Refusal::NotConfirmed {
            count: plan.count(),
        });
    }
    let mut stderr = std::io::stderr();
    let _ = writeln!(stderr, "{}", plan.summary());
    for warning in &plan.warnings {
        let _ = writeln!(stderr, "warning: {warning}");
    }
    let _ = write!(
        stderr,
        "type the number of certificates ({}) to go on: ",
        plan.count()
    );
    let _ = stderr.flush();
    let typed = read_line();
    let mut how = format!("typed {:?}", typed.trim());
    if typed.trim() != plan.count().to_string() {
        return Err(Refusal::Cancelled);
    }
    if plan.kind == OpKind::RevokePermanent {
        let _ = write!(
            stderr,
            "REVOKED can never be undone; type REVOKE to go on: "
        );
        let _ = stderr.flush();
        let word = read_line();
        if word.trim() != "REVOKE" {
            return Err(Refusal::Cancelled);
        }
        how.push_str(" and REVOKE");
    }
    Ok(ConfirmedPlan { plan, how })
}

/// Confirms a step that is not a certificate count — a campaign's start (its id typed), a
/// stage's promotion (its number typed): `--yes`, or `expected` typed on the terminal after
/// `question`. Returns how it was confirmed, for the audit log.
///
/// # Errors
/// [`Refusal::NotConfirmedTyped`] without a terminal, [`Refusal::Cancelled`] on a mismatch.
pub fn confirm_typed(yes: bool, question: &str, expected: &str) -> Result<String, Refusal> {
    if yes {
        return Ok("--yes".to_owned());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Refusal::NotConfirmedTyped);
    }
    let mut stderr = std::io::stderr();
    let _ = write!(stderr, "{question}; type {expected} to go on: ");
    let _ = stderr.flush();
    let typed = read_line();
    if typed.trim() == expected {
        Ok(format!("typed {:?}", typed.trim()))
    } else {
        Err(Refusal::Cancelled)
    }
}

fn read_line() -> String {
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    line
}

/// Confirms `plan` from the TUI's dialog, where the operator typed the count (or the name)
/// of what the dialog showed: `shown` certificates. The plan, made afterwards from the
/// model, must still have that many (the fleet may have changed in between).
///
/// # Errors
/// [`Refusal::CountDiffers`] when it does not; [`Refusal::Cancelled`] for a permanent revoke,
/// which the dialog does not offer.
pub fn confirm_dialog(plan: Plan, shown: u64) -> Result<ConfirmedPlan, Refusal> {
    let actual = plan.count();
    if u64::try_from(actual).ok() != Some(shown) {
        return Err(Refusal::CountDiffers {
            expected: usize::try_from(shown).unwrap_or(usize::MAX),
            actual,
        });
    }
    if plan.kind == OpKind::RevokePermanent {
        return Err(Refusal::Cancelled);
    }
    Ok(ConfirmedPlan {
        how: format!("typed in the console's dialog ({shown} certificate(s) shown)"),
        plan,
    })
}
