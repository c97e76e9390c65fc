//! Things, static thing groups and thing principals.

use std::collections::{BTreeMap, BTreeSet};
use time::OffsetDateTime;

use super::{Registry, RegistryError, RegistryEvent, arn, new_uuid, now, page};

/// A thing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThingRecord {
    /// Name.
    pub name: String,
    /// Id (UUID).
    pub id: String,
    /// ARN.
    pub arn: String,
    /// Thing type, if any.
    pub thing_type: Option<String>,
    /// Attributes.
    pub attributes: BTreeMap<String, String>,
    /// Bumped on every change.
    pub version: i64,
    /// Attached principals (certificate ARNs).
    pub principals: BTreeSet<String>,
    /// Static groups the thing is in (names).
    pub groups: BTreeSet<String>,
}

/// `thingGroupProperties` of a static group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupProperties {
    /// `thingGroupDescription`.
    pub description: Option<String>,
    /// `attributePayload.attributes`.
    pub attributes: BTreeMap<String, String>,
}

/// A static thing group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    /// Name.
    pub name: String,
    /// Id (UUID).
    pub id: String,
    /// ARN.
    pub arn: String,
    /// Parent group name.
    pub parent: Option<String>,
    /// Description and attributes.
    pub properties: GroupProperties,
    /// When it was created.
    pub created: OffsetDateTime,
}

fn thing_not_found(name: &str) -> RegistryError {
    RegistryError::NotFound {
        kind: "thing",
        id: name.to_owned(),
    }
}

fn group_not_found(name: &str) -> RegistryError {
    RegistryError::NotFound {
        kind: "thing group",
        id: name.to_owned(),
    }
}

/// The name in a `...:thing/<name>` or `...:thinggroup/<name>` ARN, or the text itself.
fn name_of(name_or_arn: &str) -> &str {
    name_or_arn.rsplit_once('/').map_or(name_or_arn, |(_, n)| n)
}

impl Registry {
    /// `CreateThing`: creating the same thing twice with the same attributes succeeds.
    ///
    /// # Errors
    /// `AlreadyExists` when a thing of that name exists with other attributes.
    pub fn create_thing(
        &self,
        name: &str,
        thing_type: Option<String>,
        attributes: BTreeMap<String, String>,
    ) -> Result<ThingRecord, RegistryError> {
        if name.is_empty() || name.len() > 128 {
            return Err(RegistryError::InvalidRequest(format!(
                "invalid thing name {name:?}"
            )));
        }
        let mut state = self.lock();
        if let Some(existing) = state.things.get(name) {
            if existing.attributes == attributes && existing.thing_type == thing_type {
                return Ok(existing.clone());
            }
            return Err(RegistryError::AlreadyExists {
                kind: "thing",
                id: name.to_owned(),
            });
        }
        let record = ThingRecord {
            name: name.to_owned(),
            id: new_uuid(),
            arn: arn(&format!("thing/{name}")),
            thing_type,
            attributes,
            version: 1,
            principals: BTreeSet::new(),
            groups: BTreeSet::new(),
        };
        state.things.insert(name.to_owned(), record.clone());
        Ok(record)
    }

    /// `DescribeThing`.
    ///
    /// # Errors
    /// `NotFound`.
    pub fn thing(&self, name: &str) -> Result<ThingRecord, RegistryError> {
        self.lock()
            .things
            .get(name)
            .cloned()
            .ok_or_else(|| thing_not_found(name))
    }

    /// `ListThings`, optionally filtered by one attribute.
    ///
    /// # Errors
    /// A malformed token.
    pub fn list_things(
        &self,
        attribute: Option<(&str, &str)>,
        token: Option<&str>,
        max_results: Option<usize>,
    ) -> Result<(Vec<ThingRecord>, Option<String>), RegistryError> {
        let state = self.lock();
        let matching: Vec<&ThingRecord> = state
            .things
            .values()
            .filter(|t| attribute.is_none_or(|(k, v)| t.attributes.get(k).is_some_and(|a| a == v)))
            .collect();
        let (items, next) = page(&matching, token, max_results, 50)?;
        Ok((items.into_iter().cloned().collect(), next))
    }

    /// `AttachThingPrincipal`.
    ///
    /// # Errors
    /// `NotFound` for the thing or the certificate.
    pub fn attach_thing_principal(
        &self,
        thing: &str,
        principal: &str,
    ) -> Result<(), RegistryError> {
        self.certificate(super::cert_id_of(principal))?;
        let mut state = self.lock();
        let record = state
            .things
            .get_mut(thing)
            .ok_or_else(|| thing_not_found(thing))?;
        if record.principals.insert(principal.to_owned()) {
            record.version += 1;
        }
        state
            .principal_things
            .entry(principal.to_owned())
            .or_default()
            .insert(thing.to_owned());
        Ok(())
    }

    /// `DetachThingPrincipal`.
    ///
    /// # Errors
    /// `NotFound` for the thing.
    pub fn detach_thing_principal(
        &self,
        thing: &str,
        principal: &str,
    ) -> Result<(), RegistryError> {
        let mut state = self.lock();
        let record = state
            .things
            .get_mut(thing)
            .ok_or_else(|| thing_not_found(thing))?;
        record.principals.remove(principal);
        if let Some(things) = state.principal_things.get_mut(principal) {
            things.remove(thing);
            if things.is_empty() {
                state.principal_things.remove(principal);
            }
        }
        Ok(())
    }

    /// Names of the things a principal (certificate ARN) is attached to.
    #[must_use]
    pub fn principal_things(&self, principal: &str) -> Vec<String> {
        self.lock()
            .principal_things
            .get(principal)
            .map(|things| things.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// `CreateThingGroup` without properties.
    ///
    /// # Errors
    /// As [`Registry::create_group_with`].
    pub fn create_group(
        &self,
        name: &str,
        parent: Option<&str>,
    ) -> Result<GroupRecord, RegistryError> {
        self.create_group_with(name, parent, GroupProperties::default())
    }

    /// `CreateThingGroup`: creating a group that exists with the same parent and properties
    /// answers the existing group, as AWS IoT does.
    ///
    /// # Errors
    /// `InvalidRequest` for a name outside `[a-zA-Z0-9:_-]{1,128}`; `AlreadyExists` when a
    /// group of that name exists with another parent or other properties; `NotFound` for an
    /// unknown parent.
    pub fn create_group_with(
        &self,
        name: &str,
        parent: Option<&str>,
        properties: GroupProperties,
    ) -> Result<GroupRecord, RegistryError> {
        let valid = (1..=128).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-'));
        if !valid {
            return Err(RegistryError::InvalidRequest(format!(
                "invalid thing group name {name:?}: 1 to 128 of a-z, A-Z, 0-9, ':', '_', '-'"
            )));
        }
        let mut state = self.lock();
        if let Some(p) = parent
            && !state.groups.contains_key(p)
        {
            return Err(group_not_found(p));
        }
        if let Some(existing) = state.groups.get(name) {
            if existing.parent.as_deref() == parent && existing.properties == properties {
                return Ok(existing.clone());
            }
            return Err(RegistryError::AlreadyExists {
                kind: "thing group",
                id: name.to_owned(),
            });
        }
        let record = GroupRecord {
            name: name.to_owned(),
            id: new_uuid(),
            arn: arn(&format!("thinggroup/{name}")),
            parent: parent.map(str::to_owned),
            properties,
            created: now(),
        };
        state.groups.insert(name.to_owned(), record.clone());
        Ok(record)
    }

    /// `DescribeThingGroup`.
    ///
    /// # Errors
    /// `NotFound`.
    pub fn group(&self, name_or_arn: &str) -> Result<GroupRecord, RegistryError> {
        let name = name_of(name_or_arn);
        self.lock()
            .groups
            .get(name)
            .cloned()
            .ok_or_else(|| group_not_found(name))
    }

    /// `ListThingGroups`.
    #[must_use]
    pub fn groups(&self, parent: Option<&str>, prefix: Option<&str>) -> Vec<GroupRecord> {
        self.lock()
            .groups
            .values()
            .filter(|g| parent.is_none_or(|p| g.parent.as_deref() == Some(p)))
            .filter(|g| prefix.is_none_or(|p| g.name.starts_with(p)))
            .cloned()
            .collect()
    }

    /// `AddThingToThingGroup` / `RemoveThingFromThingGroup` (names or ARNs). A change in
    /// membership changes the effective policies of the thing's certificates (a group's
    /// policies apply to its members): it goes out as `PoliciesChanged` for each of them.
    ///
    /// # Errors
    /// `NotFound` for the thing or the group.
    pub fn set_group_membership(
        &self,
        group: &str,
        thing: &str,
        member: bool,
    ) -> Result<(), RegistryError> {
        let principals = self.change_group_membership(name_of(group), name_of(thing), member)?;
        for target in principals {
            self.emit(RegistryEvent::PoliciesChanged { target });
        }
        Ok(())
    }

    /// The membership change itself; returns the thing's principals when it changed.
    fn change_group_membership(
        &self,
        group: &str,
        thing: &str,
        member: bool,
    ) -> Result<BTreeSet<String>, RegistryError> {
        let mut state = self.lock();
        if !state.groups.contains_key(group) {
            return Err(group_not_found(group));
        }
        let record = state
            .things
            .get_mut(thing)
            .ok_or_else(|| thing_not_found(thing))?;
        let changed = if member {
            if !record.groups.contains(group) && record.groups.len() >= 10 {
                return Err(RegistryError::InvalidRequest(format!(
                    "thing {thing} is already in 10 thing groups"
                )));
            }
            record.groups.insert(group.to_owned())
        } else {
            record.groups.remove(group)
        };
        if !changed {
            return Ok(BTreeSet::new());
        }
        record.version += 1;
        Ok(record.principals.clone())
    }

    /// The groups a thing is in, with all their ancestors.
    #[must_use]
    pub fn groups_with_ancestors(&self, thing: &str) -> Vec<GroupRecord> {
        let state = self.lock();
        let Some(record) = state.things.get(thing) else {
            return Vec::new();
        };
        let mut out: Vec<GroupRecord> = Vec::new();
        for name in &record.groups {
            let mut next = Some(name.clone());
            // Bounded: a group chain is at most as long as the number of groups.
            for _ in 0..=state.groups.len() {
                let Some(current) = next.take() else { break };
                let Some(group) = state.groups.get(&current) else {
                    break;
                };
                if !out.iter().any(|g| g.name == group.name) {
                    out.push(group.clone());
                }
                next.clone_from(&group.parent);
            }
        }
        out
    }

    /// The groups under `group` (children only, or all descendants when `recursive`).
    ///
    /// # Errors
    /// `NotFound` for the group.
    pub fn group_descendants(
        &self,
        group: &str,
        recursive: bool,
    ) -> Result<Vec<String>, RegistryError> {
        let group = name_of(group);
        let state = self.lock();
        if !state.groups.contains_key(group) {
            return Err(group_not_found(group));
        }
        let mut found: BTreeSet<String> = BTreeSet::new();
        let mut frontier: BTreeSet<String> = BTreeSet::from([group.to_owned()]);
        // Bounded: each round goes one level deeper, and there are at most `len` levels.
        for _ in 0..state.groups.len() {
            let next: BTreeSet<String> = state
                .groups
                .values()
                .filter(|g| g.parent.as_ref().is_some_and(|p| frontier.contains(p)))
                .map(|g| g.name.clone())
                .filter(|n| !found.contains(n))
                .collect();
            if next.is_empty() {
                break;
            }
            found.extend(next.iter().cloned());
            frontier = next;
            if !recursive {
                break;
            }
        }
        Ok(found.into_iter().collect())
    }

    /// Things directly in a group (or in it and its descendants when `recursive`).
    ///
    /// # Errors
    /// `NotFound` for the group.
    pub fn things_in_group(
        &self,
        group: &str,
        recursive: bool,
    ) -> Result<Vec<String>, RegistryError> {
        let group = name_of(group);
        let mut wanted: BTreeSet<String> = BTreeSet::from([group.to_owned()]);
        if recursive {
            wanted.extend(self.group_descendants(group, true)?);
        } else {
            self.group(group)?;
        }
        let state = self.lock();
        Ok(state
            .things
            .values()
            .filter(|t| t.groups.iter().any(|g| wanted.contains(g)))
            .map(|t| t.name.clone())
            .collect())
    }
}
