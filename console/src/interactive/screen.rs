//! The model thread's side of the screen: applies what the backend sends to the model,
//! counting every live status message, and keeps the UI's picture current by changes — the
//! overview at most every [`SNAPSHOT_EVERY`], the device table patched in place
//! ([`DeviceFeed`]) and sent again only when it was built again.

use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use crate::backend::BackendUpdate;
use crate::backend::live::LiveEvent;
use crate::feed;
use crate::model::{FleetState, FleetUpdate, UnixTime};
use crate::tui;
use crate::tui::data::{DeviceTable, FleetSnapshot, LiveCounts, TuiUpdate};
use crate::tui::feed::{DeviceFeed, TableChange};

/// Minimum time between two overviews sent to the UI.
pub const SNAPSHOT_EVERY: Duration = Duration::from_millis(500);

/// What the screen has of the model, and the live status messages counted so far.
#[derive(Debug)]
pub struct Screen {
    devices: DeviceFeed,
    live: LiveCounts,
    /// The model changed since the overview last went out.
    changed: bool,
    last_sent: Instant,
    /// A table built again is still to be delivered.
    table_unsent: bool,
}

impl Screen {
    /// Builds the device table of `state` (send it with [`Screen::table`]) and starts
    /// following what the model touches.
    #[must_use]
    pub fn new(state: &mut FleetState) -> Self {
        Self {
            devices: DeviceFeed::new(state),
            live: LiveCounts::default(),
            changed: false,
            last_sent: Instant::now(),
            table_unsent: false,
        }
    }

    /// The device table as patched so far.
    #[must_use]
    pub fn table(&self) -> &Arc<DeviceTable> {
        self.devices.table()
    }

    /// The live status messages counted so far.
    #[must_use]
    pub fn live(&self) -> LiveCounts {
        self.live
    }

    /// Applies one backend update to `state`, counting a live status message.
    pub fn apply(&mut self, state: &mut FleetState, update: BackendUpdate) {
        count_live(&mut self.live, state, &update);
        for change in feed::fleet_updates(update, UnixTime::now()) {
            state.apply(change);
        }
        self.changed = true;
    }

    /// Applies what an operation read back to `state`.
    pub fn apply_result(&mut self, state: &mut FleetState, result: FleetUpdate) {
        state.apply(result);
        self.changed = true;
    }

    /// Whether the overview is due: the model changed, or what was sent last did not get
    /// through (the UI's queue was full), and the interval has passed.
    #[must_use]
    pub fn due(&self) -> bool {
        (self.changed || self.table_unsent) && self.last_sent.elapsed() >= SNAPSHOT_EVERY
    }

    /// Patches the device table with what changed (delivering it when it was built again)
    /// and sends the overview, `dress`ed (the console adds the stored triage). What the UI's
    /// full queue refused goes again when next due. `None` when the UI is gone.
    pub fn send(
        &mut self,
        state: &mut FleetState,
        updates: &mpsc::SyncSender<TuiUpdate>,
        dress: impl FnOnce(&mut FleetSnapshot),
    ) -> Option<()> {
        if self.devices.update(state) == TableChange::Rebuilt {
            self.table_unsent = true;
        }
        if self.table_unsent {
            match updates.try_send(TuiUpdate::Devices(Arc::clone(self.devices.table()))) {
                Ok(()) => self.table_unsent = false,
                // Delivered with the next overview.
                Err(mpsc::TrySendError::Full(_)) => {}
                Err(mpsc::TrySendError::Disconnected(_)) => return None,
            }
        }
        let mut snapshot = Box::new(tui::feed::overview(&state.summary(), UnixTime::now()));
        snapshot.live = self.live;
        dress(&mut snapshot);
        self.changed = match updates.try_send(TuiUpdate::Snapshot(snapshot)) {
            Ok(()) => false,
            // Sent again when due.
            Err(mpsc::TrySendError::Full(_)) => true,
            Err(mpsc::TrySendError::Disconnected(_)) => return None,
        };
        self.last_sent = Instant::now();
        Some(())
    }
}

/// Counts a live status message: received, and applied to a known thing, about an unknown
/// one, or unreadable.
fn count_live(live: &mut LiveCounts, state: &FleetState, update: &BackendUpdate) {
    match update {
        BackendUpdate::Live(LiveEvent::Status { thing, .. }) => {
            live.received += 1;
            if state.thing(thing).is_some() {
                live.applied += 1;
            } else {
                live.unknown_thing += 1;
            }
        }
        BackendUpdate::Live(LiveEvent::Malformed { .. }) => {
            live.received += 1;
            live.unreadable += 1;
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::synthetic;

    const NOW: UnixTime = UnixTime(1_795_600_000);

    #[test]
    fn what_a_full_queue_refused_goes_again_when_due() {
        let mut state = FleetState::new();
        state.apply_all(synthetic::fleet_updates(20, NOW, 10));
        let mut screen = Screen::new(&mut state);
        let (updates, screen_side) = mpsc::sync_channel::<TuiUpdate>(1);
        // The UI has not taken what it was sent.
        updates
            .try_send(TuiUpdate::Notice(crate::safe_text::SafeText::from_string(
                "busy".to_owned(),
            )))
            .unwrap_or_else(|e| panic!("{e}"));
        // A new certificate: the table is built again, and the queue refuses it.
        state.apply(FleetUpdate::Certificates(vec![synthetic::certificate(
            20, NOW,
        )]));
        assert!(screen.send(&mut state, &updates, |_| {}).is_some());
        assert!(matches!(screen_side.try_recv(), Ok(TuiUpdate::Notice(_))));
        assert!(screen_side.try_recv().is_err(), "nothing else got through");
        // Nothing changed since, and still the refused table and overview are due.
        std::thread::sleep(SNAPSHOT_EVERY);
        assert!(screen.due());
        assert!(screen.send(&mut state, &updates, |_| {}).is_some());
        match screen_side.try_recv() {
            Ok(TuiUpdate::Devices(table)) => assert_eq!(table.len(), 21),
            other => panic!("the table first, got {other:?}"),
        }
        // Its overview did not fit behind it: due again, then delivered.
        std::thread::sleep(SNAPSHOT_EVERY);
        assert!(screen.due());
        assert!(screen.send(&mut state, &updates, |_| {}).is_some());
        assert!(matches!(screen_side.try_recv(), Ok(TuiUpdate::Snapshot(_))));
        std::thread::sleep(SNAPSHOT_EVERY);
        assert!(!screen.due(), "everything delivered");
    }
}
