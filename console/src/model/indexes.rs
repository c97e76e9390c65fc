//! The secondary indexes — certificates by status, by issuing CA and by expiry day — built on
//! first use rather than at load: `status`, the dashboard and the device table never need
//! them, and building three million set entries is a good part of loading a million devices.
//! Once built, every update keeps them exact.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use super::ids::{CertId, CertIdMap, Day, SlotSet};
use super::records::CertificateRecord;
use super::state::CertSlot;
use super::status::CertStatus;

/// Certificate slots by status, issuing CA and expiry day.
#[derive(Debug, Default, Clone)]
pub(crate) struct SecondaryIndexes {
    pub(crate) by_ca: CertIdMap<SlotSet>,
    pub(crate) by_status: [SlotSet; CertStatus::ALL.len()],
    pub(crate) by_expiry: BTreeMap<Day, SlotSet>,
}

/// [`SecondaryIndexes`], built when first read.
#[derive(Debug, Default, Clone)]
pub(crate) struct LazyIndexes(OnceLock<SecondaryIndexes>);

impl LazyIndexes {
    /// The indexes of `certs`, built now if they were not yet.
    pub(crate) fn get(&self, certs: &[CertSlot]) -> &SecondaryIndexes {
        self.0.get_or_init(|| SecondaryIndexes::build(certs))
    }

    /// The indexes if they were built (an update then keeps them exact); `None` otherwise
    /// (they will be built from the records as they are then).
    pub(crate) fn built_mut(&mut self) -> Option<&mut SecondaryIndexes> {
        self.0.get_mut()
    }
}

impl SecondaryIndexes {
    fn build(certs: &[CertSlot]) -> Self {
        let mut out = Self::default();
        for (slot, cert) in certs.iter().enumerate() {
            if let Some(record) = &cert.record {
                out.set(u32::try_from(slot).unwrap_or(u32::MAX), record, true);
            }
        }
        out
    }

    /// Adds `slot` (holding `record`) to its sets, or takes it out of them.
    pub(crate) fn set(&mut self, slot: u32, record: &CertificateRecord, present: bool) {
        set_member(&mut self.by_status[record.status.index()], slot, present);
        if let Some(ca) = record.ca {
            set_member(self.by_ca.entry(ca).or_default(), slot, present);
        }
        if let Ok(fields) = &record.parsed {
            let day = fields.not_after.day();
            set_member(self.by_expiry.entry(day).or_default(), slot, present);
            if !present && self.by_expiry.get(&day).is_some_and(SlotSet::is_empty) {
                self.by_expiry.remove(&day);
            }
        }
    }

    /// CAs that issued at least one certificate in the model.
    pub(crate) fn issuing_cas(&self) -> impl Iterator<Item = CertId> + '_ {
        self.by_ca
            .iter()
            .filter(|(_, set)| !set.is_empty())
            .map(|(id, _)| *id)
    }
}

fn set_member(set: &mut SlotSet, slot: u32, present: bool) {
    if present {
        set.insert(slot);
    } else {
        set.remove(&slot);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use crate::model::{CertStatus, Day, FleetState, FleetUpdate, UnixTime, synthetic};

    const NOW: UnixTime = UnixTime(1_795_000_000);

    /// Every certificate's id by status, by CA and by expiry day, read through the indexes.
    fn indexed(state: &FleetState) -> Vec<BTreeSet<String>> {
        let ids = |it: &mut dyn Iterator<Item = crate::model::CertView<'_>>| {
            it.map(|c| c.record.id.to_string()).collect::<BTreeSet<_>>()
        };
        let mut out: Vec<BTreeSet<String>> = CertStatus::ALL
            .into_iter()
            .map(|s| ids(&mut state.certificates_with_status(s)))
            .collect();
        for ca in 0..3 {
            out.push(ids(&mut state.certificates_of_ca(synthetic::ca_id(ca))));
        }
        out.push(ids(
            &mut state.certificates_expiring(Day(i32::MIN), NOW.day())
        ));
        out.push(ids(
            &mut state.certificates_expiring(NOW.day(), Day(NOW.day().0 + 30))
        ));
        out
    }

    /// The same sets computed by scanning every record.
    fn scanned(state: &FleetState) -> Vec<BTreeSet<String>> {
        let ids = |keep: &dyn Fn(&crate::model::CertView<'_>) -> bool| {
            state
                .certificates()
                .filter(|c| keep(c))
                .map(|c| c.record.id.to_string())
                .collect::<BTreeSet<_>>()
        };
        let day = |c: &crate::model::CertView<'_>| c.not_after().map(UnixTime::day);
        let mut out: Vec<BTreeSet<String>> = CertStatus::ALL
            .into_iter()
            .map(|s| ids(&|c| c.record.status == s))
            .collect();
        for ca in 0..3 {
            out.push(ids(&|c| c.record.ca == Some(synthetic::ca_id(ca))));
        }
        out.push(ids(&|c| day(c).is_some_and(|d| d <= NOW.day())));
        out.push(ids(&|c| {
            day(c).is_some_and(|d| d >= NOW.day() && d.0 <= NOW.day().0 + 30)
        }));
        out
    }

    fn changes() -> Vec<FleetUpdate> {
        vec![
            FleetUpdate::StatusChanged(
                (0..40)
                    .map(|i| (synthetic::cert_id(i * 3), CertStatus::Revoked))
                    .collect(),
            ),
            FleetUpdate::CertificatesRemoved((100..120).map(synthetic::cert_id).collect()),
            FleetUpdate::Certificates(
                (400..430)
                    .map(|i| synthetic::certificate(i, UnixTime(NOW.0 + 90 * 86_400)))
                    .collect(),
            ),
        ]
    }

    #[test]
    fn indexes_built_before_updates_are_kept_exact_and_equal_ones_built_after() {
        let fleet = || {
            let mut state = FleetState::new();
            state.apply_all(synthetic::fleet_updates(400, NOW, 100));
            state
        };
        let mut kept = fleet();
        assert_eq!(indexed(&kept), scanned(&kept), "built from the records");
        // Indexes never read: they are built after the updates.
        let mut late = fleet();
        kept.apply_all(changes());
        late.apply_all(changes());
        assert!(kept.indexes.built_mut().is_some());
        assert!(late.indexes.built_mut().is_none(), "nothing read them yet");
        let expected = scanned(&kept);
        assert!(expected[CertStatus::Revoked.index()].len() > 40);
        assert_eq!(indexed(&kept), expected, "kept up to date by the updates");
        assert_eq!(indexed(&late), expected, "built after the updates");
    }
}
