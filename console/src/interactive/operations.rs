//! The operations journal for the console: the newest operations of the environment with
//! their calls, read from the store every 2 s while the console is open (an apply in this
//! console, another console or a script shows as it goes) and sent to the UI when they
//! changed. Reading only: a resume goes through the ops engine ([`super::act`]).

use std::sync::mpsc;
use std::time::Duration;

use crate::safe_text::SafeText;
use crate::store::{Store, StoreError};
use crate::tui::data::{OperationRow, TuiUpdate};

/// How often the journal is read.
const EVERY: Duration = Duration::from_secs(2);
/// How many operations the view lists.
const SHOWN: usize = 50;

/// The newest operations of `environment`, newest first, with their calls.
///
/// # Errors
/// The store's.
pub fn read(store: &Store, environment: &str) -> Result<Vec<OperationRow>, StoreError> {
    store
        .ops(environment, SHOWN)?
        .iter()
        .map(|op| Ok(OperationRow::of(op, &store.op_calls(&op.id)?)))
        .collect()
}

/// Sends the journal once (an offline console).
pub fn send_stored(store: &Store, environment: &str, updates: &mpsc::SyncSender<TuiUpdate>) {
    match read(store, environment) {
        Ok(rows) if rows.is_empty() => {}
        Ok(rows) => {
            let _ = updates.send(TuiUpdate::Operations(rows));
        }
        Err(e) => notice(updates, &e),
    }
}

fn notice(updates: &mpsc::SyncSender<TuiUpdate>, e: &StoreError) {
    let _ = updates.send(TuiUpdate::Notice(SafeText::from_string(format!(
        "operations journal: {e}"
    ))));
}

/// Reads the journal every [`EVERY`] until the UI is gone; sends what changed. A full
/// channel skips a round (the next one sends it), a failed read is shown once.
pub async fn follow(store: Store, environment: String, updates: mpsc::SyncSender<TuiUpdate>) {
    let mut shown: Option<Vec<OperationRow>> = None;
    let mut failed = false;
    loop {
        match read(&store, &environment) {
            Ok(rows) if shown.as_ref() != Some(&rows) => {
                match updates.try_send(TuiUpdate::Operations(rows.clone())) {
                    Ok(()) => shown = Some(rows),
                    Err(mpsc::TrySendError::Full(_)) => {}
                    Err(mpsc::TrySendError::Disconnected(_)) => return,
                }
                failed = false;
            }
            Ok(_) => failed = false,
            Err(e) if !failed => {
                notice(&updates, &e);
                failed = true;
            }
            Err(_) => {}
        }
        tokio::time::sleep(EVERY).await;
    }
}
