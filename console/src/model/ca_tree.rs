//! The CA chain tree: registered CAs arranged by issuer, each with the number of active device
//! certificates it issued directly and in its whole subtree.

use std::collections::{BTreeMap, BTreeSet};

use super::ids::{CertId, UnixTime};
use super::records::{CaRecord, CaStatus};
use super::state::FleetState;

/// One CA in the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaNode {
    /// The CA certificate id.
    pub id: CertId,
    /// Subject DN, or `(not registered)` for a CA only device certificates name.
    pub subject: String,
    /// Registry status (`Unknown` for an unregistered CA).
    pub status: CaStatus,
    /// Whether the CA is registered in this account.
    pub registered: bool,
    /// The CA's own expiry, when its PEM could be read.
    pub not_after: Option<UnixTime>,
    /// Active device certificates issued by this CA itself.
    pub active_direct: u64,
    /// Active device certificates in this CA's whole subtree.
    pub active_total: u64,
    /// CAs it issued.
    pub children: Vec<CaNode>,
}

impl CaNode {
    /// This node and all below it, depth first, with their depth.
    #[must_use]
    pub fn flatten(&self) -> Vec<(usize, &CaNode)> {
        let mut out = Vec::new();
        let mut stack = vec![(0, self)];
        while let Some((depth, node)) = stack.pop() {
            out.push((depth, node));
            stack.extend(node.children.iter().rev().map(|c| (depth + 1, c)));
        }
        out
    }
}

impl FleetState {
    /// The CA chain tree. A CA's parent is the registered CA whose subject is its issuer;
    /// CAs without one (roots, or intermediates whose root is not registered) are roots.
    /// CAs that device certificates name but that are not registered appear as roots too.
    #[must_use]
    pub fn ca_tree(&self) -> Vec<CaNode> {
        let named = self.indexes().issuing_cas();
        build_ca_tree(&self.cas, named, |id| self.active_certificates_under(id))
    }
}

/// The CA chain tree of the registered `cas`, with the CAs device certificates `name`
/// (registered or not) and the active device certificates each CA issued directly.
pub(crate) fn build_ca_tree(
    cas: &BTreeMap<CertId, CaRecord>,
    named: impl Iterator<Item = CertId>,
    active_under: impl Fn(&CertId) -> u64,
) -> Vec<CaNode> {
    let mut subjects: BTreeMap<&str, CertId> = BTreeMap::new();
    for (id, ca) in cas {
        if let Ok(fields) = &ca.parsed {
            subjects.entry(&fields.subject).or_insert(*id);
        }
    }
    let mut children: BTreeMap<CertId, Vec<CertId>> = BTreeMap::new();
    let mut roots = Vec::new();
    for (id, ca) in cas {
        let parent = ca.parent.filter(|p| cas.contains_key(p)).or_else(|| {
            ca.parsed.as_ref().ok().and_then(|f| {
                (*f.issuer != *f.subject)
                    .then(|| subjects.get(&*f.issuer).copied())
                    .flatten()
            })
        });
        match parent {
            Some(parent) if parent != *id => children.entry(parent).or_default().push(*id),
            _ => roots.push(*id),
        }
    }
    let unregistered: BTreeSet<CertId> = named.filter(|id| !cas.contains_key(id)).collect();
    let tree = Tree {
        cas,
        children: &children,
        active_under: &active_under,
    };
    let mut visited = BTreeSet::new();
    let mut out: Vec<CaNode> = roots
        .into_iter()
        .chain(unregistered)
        .filter_map(|id| tree.node(id, &mut visited))
        .collect();
    // CAs caught in an issuer cycle have no root; show them rather than lose them.
    let orphans: Vec<CertId> = cas
        .keys()
        .filter(|id| !visited.contains(*id))
        .copied()
        .collect();
    for id in orphans {
        out.extend(tree.node(id, &mut visited));
    }
    out
}

/// What building the nodes reads.
struct Tree<'a, F> {
    cas: &'a BTreeMap<CertId, CaRecord>,
    children: &'a BTreeMap<CertId, Vec<CertId>>,
    active_under: &'a F,
}

impl<F: Fn(&CertId) -> u64> Tree<'_, F> {
    fn node(&self, id: CertId, visited: &mut BTreeSet<CertId>) -> Option<CaNode> {
        if !visited.insert(id) {
            return None;
        }
        let kids: Vec<CaNode> = self
            .children
            .get(&id)
            .into_iter()
            .flatten()
            .filter_map(|&child| self.node(child, visited))
            .collect();
        let record = self.cas.get(&id);
        let fields = record.and_then(|r| r.parsed.as_ref().ok());
        let active_direct = (self.active_under)(&id);
        Some(CaNode {
            id,
            subject: fields.map_or_else(
                || {
                    if record.is_some() {
                        "(unreadable PEM)".to_owned()
                    } else {
                        "(not registered)".to_owned()
                    }
                },
                |f| f.subject.to_string(),
            ),
            status: record.map_or(CaStatus::Unknown, |r| r.status),
            registered: record.is_some(),
            not_after: fields.map(|f| f.not_after),
            active_direct,
            active_total: active_direct + kids.iter().map(|k| k.active_total).sum::<u64>(),
            children: kids,
        })
    }
}
