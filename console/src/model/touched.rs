//! What `apply` touched since someone last asked, for a reader that keeps its own picture of
//! the fleet current by changes (the console's device table patches the rows of these slots).
//! Off until [`FleetState::track_touched`]: the subcommands never pay for it.

use std::collections::HashSet;

use super::state::FleetState;

/// Slots that `apply` touched since the last [`FleetState::take_touched`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Touched {
    /// Certificate slots whose record, status, things or cohorts changed.
    pub(crate) certs: HashSet<u32>,
    /// Thing slots that changed (groups, firmware, connectivity, presence).
    pub(crate) things: HashSet<u32>,
    /// A certificate came or went, or its things changed: what identifies a row changed.
    pub(crate) reshaped: bool,
}

impl Touched {
    /// Whether nothing was touched.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty() && self.things.is_empty() && !self.reshaped
    }
}

impl FleetState {
    /// Starts keeping what `apply` touches (see [`FleetState::take_touched`]).
    pub fn track_touched(&mut self) {
        self.touched.get_or_insert_with(Touched::default);
    }

    /// What `apply` touched since the last call (or since tracking started), and a fresh
    /// start; empty when not tracking.
    pub fn take_touched(&mut self) -> Touched {
        self.touched
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    pub(crate) fn touch_cert(&mut self, slot: u32) {
        if let Some(touched) = self.touched.as_mut() {
            touched.certs.insert(slot);
        }
    }

    pub(crate) fn touch_thing(&mut self, slot: u32) {
        if let Some(touched) = self.touched.as_mut() {
            touched.things.insert(slot);
        }
    }

    pub(crate) fn reshaped(&mut self) {
        if let Some(touched) = self.touched.as_mut() {
            touched.reshaped = true;
        }
    }
}
