//! Which policies are attached to which certificates and thing groups. The backend reads the
//! attachments with each certificate it describes and each group it lists; ListPolicies
//! brings the policies themselves. The model keeps both in one [`PolicyRecord`] per policy,
//! whichever arrives first.

use std::collections::BTreeSet;

use super::ids::CertId;
use super::records::PolicyRecord;
use super::state::FleetState;

impl FleetState {
    /// Upserts policies by name; attachments they carry are added to the known ones.
    pub(crate) fn upsert_policies(&mut self, records: Vec<PolicyRecord>) {
        self.small_changed();
        for record in records {
            match self.policies.get_mut(&record.name) {
                Some(known) => {
                    known.default_version = record.default_version;
                    known.allows_everything = record.allows_everything;
                    for id in record.certificates {
                        if known.certificates.insert(id) {
                            self.changes.certs.insert(id);
                        }
                    }
                    known.groups.extend(record.groups);
                }
                None => {
                    self.changes
                        .certs
                        .extend(record.certificates.iter().copied());
                    self.policies.insert(record.name.clone(), record);
                }
            }
        }
    }

    /// Replaces the policies attached to each certificate.
    pub(crate) fn set_certificate_policies(&mut self, links: Vec<(CertId, Vec<Box<str>>)>) {
        let ids: Vec<CertId> = links.iter().map(|(id, _)| *id).collect();
        self.forget_certificate_policies(&ids);
        self.changes.certs.extend(ids.iter().copied());
        for (id, names) in links {
            for name in names {
                self.policy_entry(name).certificates.insert(id);
            }
        }
    }

    /// Replaces the policies attached to each thing group.
    pub(crate) fn set_group_policies(&mut self, links: Vec<(Box<str>, Vec<Box<str>>)>) {
        self.small_changed();
        let groups: BTreeSet<&str> = links.iter().map(|(g, _)| &**g).collect();
        for policy in self.policies.values_mut() {
            policy.groups.retain(|g| !groups.contains(&**g));
        }
        for (group, names) in links {
            for name in names {
                self.policy_entry(name).groups.insert(group.clone());
            }
        }
    }

    /// Drops the certificates from every policy's attachments.
    pub(crate) fn forget_certificate_policies(&mut self, ids: &[CertId]) {
        for policy in self.policies.values_mut() {
            if policy.certificates.is_empty() {
                continue;
            }
            for id in ids {
                policy.certificates.remove(id);
            }
        }
    }

    /// The policy named `name`, made empty when only its attachments are known so far.
    fn policy_entry(&mut self, name: Box<str>) -> &mut PolicyRecord {
        self.policies
            .entry(name.clone())
            .or_insert_with(|| PolicyRecord {
                name,
                default_version: "".into(),
                certificates: BTreeSet::new(),
                groups: BTreeSet::new(),
                allows_everything: false,
            })
    }
}
