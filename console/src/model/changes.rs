//! What changed since the fleet was last saved, so the store writes the certificates and
//! things that changed instead of the whole fleet. `apply` marks; the store reads the marks,
//! writes, and starts a new baseline.

use std::collections::HashSet;

use super::ids::CertId;
use super::state::FleetState;

/// Changes since the snapshot version `baseline` of the store (none: never saved or loaded,
/// so the next save writes everything).
#[derive(Debug, Default, Clone)]
pub(crate) struct Changes {
    pub(crate) baseline: Option<u64>,
    pub(crate) certs: HashSet<CertId>,
    pub(crate) things: HashSet<u32>,
    /// CAs, thing groups, anomalies or policy metadata changed (small: written whole).
    pub(crate) small: bool,
}

/// The changes a save writes: certificate ids and thing names (their current state is read
/// from the model; one that is gone is written as removed).
#[derive(Debug, Clone, Copy)]
pub struct PendingChanges<'a> {
    state: &'a FleetState,
}

impl<'a> PendingChanges<'a> {
    /// Certificates that changed (added, changed, removed, attachments or policies).
    pub fn certificates(&self) -> impl Iterator<Item = &'a CertId> + 'a {
        self.state.changes.certs.iter()
    }

    /// Slots of things that changed.
    pub fn things(&self) -> impl Iterator<Item = &'a str> + 'a {
        let state = self.state;
        state
            .changes
            .things
            .iter()
            .map(move |&slot| &*state.things[slot as usize].name)
    }

    /// Whether the small parts (CAs, groups, anomalies, policies) changed.
    #[must_use]
    pub fn small_parts(&self) -> bool {
        self.state.changes.small
    }

    /// Number of changed certificates and things.
    #[must_use]
    pub fn len(&self) -> usize {
        self.state.changes.certs.len() + self.state.changes.things.len()
    }

    /// Nothing changed in certificates or things.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl FleetState {
    /// The snapshot version of the store this state matches, plus [`FleetState::changes`].
    #[must_use]
    pub fn baseline(&self) -> Option<u64> {
        self.changes.baseline
    }

    /// What changed since [`FleetState::baseline`].
    #[must_use]
    pub fn changes(&self) -> PendingChanges<'_> {
        PendingChanges { state: self }
    }

    /// The state now matches the store's snapshot `version`: no pending changes.
    pub fn mark_saved(&mut self, version: u64) {
        self.changes = Changes {
            baseline: Some(version),
            ..Changes::default()
        };
    }

    pub(crate) fn cert_changed(&mut self, id: CertId) {
        self.changes.certs.insert(id);
    }

    pub(crate) fn thing_changed(&mut self, slot: u32) {
        self.changes.things.insert(slot);
        self.touch_thing(slot);
    }

    pub(crate) fn small_changed(&mut self) {
        self.changes.small = true;
    }
}
