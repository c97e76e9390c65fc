//! [`FleetState`]: the whole fleet in compact form, its indexes and its aggregates.
//!
//! Updates arrive through [`FleetState::apply`] (see `apply.rs`); everything here reads.

use std::collections::BTreeMap;

use super::aggregates::{ExpiryHistogram, StatusCounts};
use super::changes::Changes;
use super::expiries::ActiveExpiries;
use super::ids::{CertId, CertIdMap, Day, UnixTime};
use super::indexes::{LazyIndexes, SecondaryIndexes};
use super::intern::Interner;
use super::lookup::Lookup;
use super::records::{CaRecord, CertificateRecord, GroupRecord, PolicyRecord};
use super::slot_list::SlotList;
use super::status::CertStatus;
use super::summary::StatusByCa;
use super::touched::Touched;
use super::update::{AnomalyRecord, Source, SourceState};

/// A certificate slot. A slot without a record is a placeholder: a thing named the
/// certificate before the certificate itself was loaded (or after it was removed).
#[derive(Debug, Clone)]
pub(crate) struct CertSlot {
    pub(crate) id: CertId,
    pub(crate) record: Option<CertificateRecord>,
    /// Thing slots this certificate is attached to.
    pub(crate) things: SlotList,
}

/// A thing slot. `present` is false for things only heard of through live status.
#[derive(Debug, Clone)]
pub(crate) struct ThingSlot {
    pub(crate) name: Box<str>,
    pub(crate) present: bool,
    pub(crate) certs: SlotList,
    pub(crate) groups: SlotList,
    pub(crate) firmware: Option<u32>,
    pub(crate) connected: Option<bool>,
    pub(crate) last_seen: Option<UnixTime>,
}

/// What the model knows about one source's freshness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    /// Its state as last reported.
    pub state: SourceState,
    /// When it last delivered a complete picture.
    pub fresh_at: Option<UnixTime>,
    /// When its state was last reported.
    pub reported_at: UnixTime,
}

impl SourceInfo {
    /// Seconds since the last complete picture, `None` if there never was one.
    #[must_use]
    pub fn age(&self, now: UnixTime) -> Option<i64> {
        self.fresh_at.map(|t| (now.0 - t.0).max(0))
    }
}

/// The fleet: records, indexes by certificate id, thing, CA, status and expiry day, and
/// incrementally maintained aggregates.
#[derive(Debug, Default, Clone)]
pub struct FleetState {
    pub(crate) certs: Vec<CertSlot>,
    pub(crate) things: Vec<ThingSlot>,
    pub(crate) lookup: Lookup,
    pub(crate) names: Interner,
    pub(crate) indexes: LazyIndexes,
    pub(crate) status_counts: StatusCounts,
    pub(crate) histogram: ExpiryHistogram,
    /// Device certificates per issuing CA and status (only CAs with at least one).
    pub(crate) per_ca: CertIdMap<StatusByCa>,
    pub(crate) active_expiries: ActiveExpiries,
    pub(crate) unreadable_pems: u64,
    pub(crate) cas: BTreeMap<CertId, CaRecord>,
    pub(crate) policies: BTreeMap<Box<str>, PolicyRecord>,
    pub(crate) groups: BTreeMap<Box<str>, GroupRecord>,
    pub(crate) anomalies: BTreeMap<Box<str>, AnomalyRecord>,
    pub(crate) sources: BTreeMap<Source, SourceInfo>,
    pub(crate) changes: Changes,
    pub(crate) touched: Option<Touched>,
}

/// A certificate with what the model joined to it: things, groups, firmware.
#[derive(Debug, Clone, Copy)]
pub struct CertView<'a> {
    state: &'a FleetState,
    slot: u32,
    /// The certificate record.
    pub record: &'a CertificateRecord,
}

impl<'a> CertView<'a> {
    /// Names of the things it is attached to.
    pub fn things(&self) -> impl Iterator<Item = &'a str> + 'a {
        let state = self.state;
        state.certs[self.slot as usize]
            .things
            .iter()
            .map(move |&t| &*state.things[t as usize].name)
    }

    /// Groups of its things, sorted, without duplicates.
    #[must_use]
    pub fn groups(&self) -> Vec<&'a str> {
        let state = self.state;
        let mut out: Vec<&str> = state.certs[self.slot as usize]
            .things
            .iter()
            .flat_map(|&t| state.things[t as usize].groups.iter())
            .map(|&g| state.names.text(g))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Firmware of its (first) thing, when known.
    #[must_use]
    pub fn firmware(&self) -> Option<&'a str> {
        let state = self.state;
        state.certs[self.slot as usize]
            .things
            .iter()
            .find_map(|&t| state.things[t as usize].firmware)
            .map(|f| state.names.text(f))
    }

    /// Expiry from the PEM, when it could be read.
    #[must_use]
    pub fn not_after(&self) -> Option<UnixTime> {
        self.record.parsed.as_ref().ok().map(|f| f.not_after)
    }
}

/// A thing with its joined fields.
#[derive(Debug, Clone)]
pub struct ThingView<'a> {
    /// The thing name.
    pub name: &'a str,
    /// Attached certificate ids.
    pub certificates: Vec<CertId>,
    /// Group names.
    pub groups: Vec<&'a str>,
    /// Firmware version.
    pub firmware: Option<&'a str>,
    /// Connected, when known.
    pub connected: Option<bool>,
    /// Last live status or presence event.
    pub last_seen: Option<UnixTime>,
}

impl FleetState {
    /// An empty fleet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Certificates per status.
    #[must_use]
    pub fn status_counts(&self) -> &StatusCounts {
        &self.status_counts
    }

    /// Active certificates by expiry day and cohort.
    #[must_use]
    pub fn expiry_histogram(&self) -> &ExpiryHistogram {
        &self.histogram
    }

    /// Active device certificates issued directly by `ca`.
    #[must_use]
    pub fn active_certificates_under(&self, ca: &CertId) -> u64 {
        self.per_ca
            .get(ca)
            .map_or(0, |n| n[CertStatus::Active.index()])
    }

    /// CA ids that issued at least one active device certificate, registered or not.
    pub fn issuing_cas(&self) -> impl Iterator<Item = (&CertId, u64)> {
        self.per_ca
            .iter()
            .map(|(id, n)| (id, n[CertStatus::Active.index()]))
            .filter(|&(_, active)| active > 0)
    }

    /// Certificates whose PEM could not be read.
    #[must_use]
    pub fn unreadable_pems(&self) -> u64 {
        self.unreadable_pems
    }

    /// The certificate with this id.
    #[must_use]
    pub fn certificate(&self, id: &CertId) -> Option<CertView<'_>> {
        let slot = self.cert_slot_of(id)?;
        self.view(slot)
    }

    pub(crate) fn view(&self, slot: u32) -> Option<CertView<'_>> {
        let record = self.certs.get(slot as usize)?.record.as_ref()?;
        Some(CertView {
            state: self,
            slot,
            record,
        })
    }

    /// Every certificate, in no particular order.
    pub fn certificates(&self) -> impl Iterator<Item = CertView<'_>> {
        (0..self.certs.len()).filter_map(|i| self.view(u32::try_from(i).ok()?))
    }

    /// Certificates whose expiry day lies in `from..=to` (any status).
    pub fn certificates_expiring(&self, from: Day, to: Day) -> impl Iterator<Item = CertView<'_>> {
        self.indexes()
            .by_expiry
            .range(from..=to)
            .flat_map(|(_, set)| set.iter())
            .filter_map(|&slot| self.view(slot))
    }

    /// Certificates in `status`.
    pub fn certificates_with_status(
        &self,
        status: CertStatus,
    ) -> impl Iterator<Item = CertView<'_>> {
        self.indexes().by_status[status.index()]
            .iter()
            .filter_map(|&slot| self.view(slot))
    }

    /// Certificates issued by the registered CA `ca`.
    pub fn certificates_of_ca(&self, ca: CertId) -> impl Iterator<Item = CertView<'_>> {
        self.indexes()
            .by_ca
            .get(&ca)
            .into_iter()
            .flat_map(|set| set.iter())
            .filter_map(|&slot| self.view(slot))
    }

    /// The secondary indexes, built on first use.
    pub(crate) fn indexes(&self) -> &SecondaryIndexes {
        self.indexes.get(&self.certs)
    }

    /// Number of things in the registry.
    #[must_use]
    pub fn thing_count(&self) -> usize {
        self.things.iter().filter(|t| t.present).count()
    }

    /// The thing named `name`.
    #[must_use]
    pub fn thing(&self, name: &str) -> Option<ThingView<'_>> {
        let slot = &self.things[self.thing_slot_of(name)? as usize];
        slot.present.then(|| self.thing_view(slot))
    }

    fn thing_view<'a>(&'a self, slot: &'a ThingSlot) -> ThingView<'a> {
        ThingView {
            name: &slot.name,
            certificates: slot
                .certs
                .iter()
                .map(|&c| self.certs[c as usize].id)
                .collect(),
            groups: slot.groups.iter().map(|&g| self.names.text(g)).collect(),
            firmware: slot.firmware.map(|f| self.names.text(f)),
            connected: slot.connected,
            last_seen: slot.last_seen,
        }
    }

    /// Every thing in the registry.
    pub fn things(&self) -> impl Iterator<Item = ThingView<'_>> {
        self.things
            .iter()
            .filter(|t| t.present)
            .map(|t| self.thing_view(t))
    }

    /// Registered CA certificates by id.
    #[must_use]
    pub fn cas(&self) -> &BTreeMap<CertId, CaRecord> {
        &self.cas
    }

    /// Policies by name.
    #[must_use]
    pub fn policies(&self) -> &BTreeMap<Box<str>, PolicyRecord> {
        &self.policies
    }

    /// Thing groups by name.
    #[must_use]
    pub fn groups(&self) -> &BTreeMap<Box<str>, GroupRecord> {
        &self.groups
    }

    /// Anomalies by id (cleared ones included).
    #[must_use]
    pub fn anomalies(&self) -> &BTreeMap<Box<str>, AnomalyRecord> {
        &self.anomalies
    }

    /// Freshness of each source that has reported.
    #[must_use]
    pub fn sources(&self) -> &BTreeMap<Source, SourceInfo> {
        &self.sources
    }

    /// The interned id of a group name or firmware version (for [`super::Cohort`]).
    #[must_use]
    pub fn name_id(&self, text: &str) -> Option<u32> {
        self.names.get(text)
    }

    /// The text of an interned id.
    #[must_use]
    pub fn name_text(&self, id: u32) -> &str {
        self.names.text(id)
    }
}
