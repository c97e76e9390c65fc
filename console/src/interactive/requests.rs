//! Answering the UI's requests on the model thread: detail lookups from the fleet state,
//! and every decision and triage written to the audit log through the [`Recorder`]; a signal
//! once the UI is gone and every request was answered, so quitting loses none.

use crate::safe_text::SafeText;
use std::sync::mpsc;

use super::act::Ops;
use super::recorder::{NOT_APPLIED, Recorder, as_update};
use crate::model::{FleetState, UnixTime};
use crate::store::audit::Decision;
use crate::tui;
use crate::tui::data::{Refusal, TuiRequest, TuiUpdate};

/// The UI's requests, and a signal once every one was answered and the UI is gone.
pub struct Requests {
    /// The UI's end.
    pub rx: mpsc::Receiver<TuiRequest>,
    /// Signalled once the UI is gone and every request was answered.
    pub drained: mpsc::Sender<()>,
}

impl Requests {
    /// The next request if one is waiting; signals when the UI is gone.
    pub fn try_recv(&self) -> Result<TuiRequest, mpsc::TryRecvError> {
        let next = self.rx.try_recv();
        if let Err(mpsc::TryRecvError::Disconnected) = next {
            let _ = self.drained.send(());
        }
        next
    }

    /// The next request, waiting for one; signals when the UI is gone.
    pub fn recv(&self) -> Result<TuiRequest, mpsc::RecvError> {
        let next = self.rx.recv();
        if next.is_err() {
            let _ = self.drained.send(());
        }
        next
    }
}

/// Answers pending requests; `false` when the UI is gone.
pub fn answer(
    state: &FleetState,
    recorder: &mut Option<Recorder>,
    updates: &mpsc::SyncSender<TuiUpdate>,
    requests: &Requests,
    ops: Option<&Ops>,
) -> bool {
    loop {
        match requests.try_recv() {
            Ok(request) => respond(state, recorder, updates, request, ops),
            Err(mpsc::TryRecvError::Empty) => return true,
            Err(mpsc::TryRecvError::Disconnected) => return false,
        }
    }
}

fn respond(
    state: &FleetState,
    recorder: &mut Option<Recorder>,
    updates: &mpsc::SyncSender<TuiUpdate>,
    request: TuiRequest,
    ops: Option<&Ops>,
) {
    const UNRECORDED: &str = "the audit log is unavailable (no store): this was not recorded";
    let reply = match request {
        TuiRequest::Detail(thing) => match tui::feed::device_detail(state, &thing, UnixTime::now())
        {
            Some(detail) => TuiUpdate::Detail(Box::new(detail)),
            None => TuiUpdate::Notice(SafeText::from_string(format!("no device named {thing}"))),
        },
        TuiRequest::Confirmed(request) => match ops {
            // The ops and rotation engines write the plan, the confirmation and every call
            // to the audit log themselves.
            Some(ops) => TuiUpdate::Notice(SafeText::from_string(super::act::start(
                ops, state, request, updates,
            ))),
            None => {
                if let Some(recorder) = recorder.as_mut() {
                    let _ = updates.send(as_update(recorder.decision(
                        &request,
                        Decision::Confirmed,
                        NOT_APPLIED,
                    )));
                }
                TuiUpdate::Notice(SafeText::new(
                    "offline: nothing can be changed without AWS; nothing was changed",
                ))
            }
        },
        TuiRequest::Declined { request, refusal } => match recorder.as_mut() {
            Some(recorder) => {
                let decision = match refusal {
                    Refusal::Cancelled => Decision::Cancelled,
                    Refusal::ReadOnly => Decision::RefusedReadOnly,
                };
                as_update(recorder.decision(&request, decision, "nothing was changed"))
            }
            None => TuiUpdate::Notice(SafeText::from_string(UNRECORDED.to_owned())),
        },
        TuiRequest::Triage(change) => match recorder.as_mut() {
            Some(recorder) => as_update(recorder.triage(&change, state)),
            None => TuiUpdate::Notice(SafeText::from_string(UNRECORDED.to_owned())),
        },
        TuiRequest::AuditPage { before } => match recorder.as_ref().map(|r| r.page(Some(before))) {
            Some(Ok((rows, more))) => TuiUpdate::AuditPage { rows, more },
            Some(Err(e)) => TuiUpdate::Notice(SafeText::from_string(format!("audit log: {e}"))),
            None => TuiUpdate::AuditPage {
                rows: Vec::new(),
                more: false,
            },
        },
    };
    let _ = updates.send(reply);
}

/// Answers requests from a fixed state until the UI is gone.
pub fn serve_requests(
    state: &FleetState,
    recorder: &mut Option<Recorder>,
    updates: &mpsc::SyncSender<TuiUpdate>,
    requests: &Requests,
) {
    while let Ok(request) = requests.recv() {
        respond(state, recorder, updates, request, None);
    }
}
