//! IoT policies and their attachments to certificates and thing groups.

use time::OffsetDateTime;

use super::{Registry, RegistryError, RegistryEvent, arn, cert_arn, now, page};
use crate::policy::PolicyDocument;

/// An IoT policy (one version: the lab keeps only the default version).
#[derive(Debug, Clone)]
pub struct PolicyRecord {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
    /// The document as given.
    pub document: String,
    /// Parsed document.
    pub parsed: PolicyDocument,
    /// Default version id.
    pub version_id: String,
    /// When it was created.
    pub created: OffsetDateTime,
    /// Last change.
    pub last_modified: OffsetDateTime,
    /// Changes with every update.
    pub generation_id: String,
}

fn policy_not_found(name: &str) -> RegistryError {
    RegistryError::NotFound {
        kind: "policy",
        id: name.to_owned(),
    }
}

impl Registry {
    /// `CreatePolicy`.
    ///
    /// # Errors
    /// `MalformedPolicy` for a document the lab cannot evaluate, `AlreadyExists`.
    pub fn create_policy(&self, name: &str, document: &str) -> Result<PolicyRecord, RegistryError> {
        let parsed = PolicyDocument::parse(document)
            .map_err(|e| RegistryError::MalformedPolicy(format!("policy {name}: {e}")))?;
        let mut state = self.lock();
        if state.policies.contains_key(name) {
            return Err(RegistryError::AlreadyExists {
                kind: "policy",
                id: name.to_owned(),
            });
        }
        let at = now();
        let record = PolicyRecord {
            name: name.to_owned(),
            arn: arn(&format!("policy/{name}")),
            document: document.to_owned(),
            parsed,
            version_id: "1".to_owned(),
            created: at,
            last_modified: at,
            generation_id: super::new_uuid(),
        };
        state.policies.insert(name.to_owned(), record.clone());
        Ok(record)
    }

    /// `GetPolicy`.
    ///
    /// # Errors
    /// `NotFound`.
    pub fn policy(&self, name: &str) -> Result<PolicyRecord, RegistryError> {
        self.lock()
            .policies
            .get(name)
            .cloned()
            .ok_or_else(|| policy_not_found(name))
    }

    /// `ListPolicies`: by name, ascending unless `ascending` is false.
    ///
    /// # Errors
    /// A malformed marker.
    pub fn list_policies(
        &self,
        marker: Option<&str>,
        page_size: Option<usize>,
        ascending: bool,
    ) -> Result<(Vec<PolicyRecord>, Option<String>), RegistryError> {
        let state = self.lock();
        let mut all: Vec<&PolicyRecord> = state.policies.values().collect();
        if !ascending {
            all.reverse();
        }
        let (items, next) = page(&all, marker, page_size, 25)?;
        Ok((items.into_iter().cloned().collect(), next))
    }

    /// `AttachPolicy` (idempotent).
    ///
    /// # Errors
    /// `NotFound` for the policy, or for a certificate or thing group ARN that names nothing.
    pub fn attach_policy(&self, name: &str, target: &str) -> Result<(), RegistryError> {
        if target.contains(":cert/") {
            self.certificate(super::cert_id_of(target))?;
        } else if target.contains(":thinggroup/") {
            self.group(target)?;
        }
        {
            let mut state = self.lock();
            if !state.policies.contains_key(name) {
                return Err(policy_not_found(name));
            }
            state
                .attachments
                .entry(target.to_owned())
                .or_default()
                .insert(name.to_owned());
        }
        self.emit(RegistryEvent::PoliciesChanged {
            target: target.to_owned(),
        });
        Ok(())
    }

    /// `DetachPolicy`.
    ///
    /// # Errors
    /// `NotFound` for the policy.
    pub fn detach_policy(&self, name: &str, target: &str) -> Result<(), RegistryError> {
        {
            let mut state = self.lock();
            if !state.policies.contains_key(name) {
                return Err(policy_not_found(name));
            }
            if let Some(set) = state.attachments.get_mut(target) {
                set.remove(name);
            }
        }
        self.emit(RegistryEvent::PoliciesChanged {
            target: target.to_owned(),
        });
        Ok(())
    }

    /// `ListAttachedPolicies` (non-recursive): the policies attached to one target.
    #[must_use]
    pub fn attached_policies(&self, target: &str) -> Vec<PolicyRecord> {
        let state = self.lock();
        state
            .attachments
            .get(target)
            .into_iter()
            .flatten()
            .filter_map(|name| state.policies.get(name).cloned())
            .collect()
    }

    /// `ListTargetsForPolicy`.
    #[must_use]
    pub fn policy_targets(&self, name: &str) -> Vec<String> {
        self.lock()
            .attachments
            .iter()
            .filter(|(_, set)| set.contains(name))
            .map(|(target, _)| target.clone())
            .collect()
    }

    /// Every policy in force for a certificate: attached to it, or to a static group (or an
    /// ancestor group) of a thing it is attached to.
    #[must_use]
    pub fn effective_policies(&self, certificate_id: &str) -> Vec<PolicyRecord> {
        let cert = cert_arn(certificate_id);
        let mut targets = vec![cert.clone()];
        for thing in self.principal_things(&cert) {
            targets.extend(
                self.groups_with_ancestors(&thing)
                    .into_iter()
                    .map(|g| g.arn),
            );
        }
        let mut out: Vec<PolicyRecord> = Vec::new();
        for target in targets {
            for p in self.attached_policies(&target) {
                if !out.iter().any(|q| q.name == p.name) {
                    out.push(p);
                }
            }
        }
        out
    }
}
