//! Device certificates: ListCertificates in pages of 250 — the only way to see new, changed
//! and removed certificates. A certificate's PEM never changes, so only a new certificate is
//! described (DescribeCertificate, and ListPrincipalThings for its things); one whose listed
//! status changed is sent as a status change and asked for its things only; an unchanged one
//! costs nothing beyond its line in the listing. Policies come from the policy side
//! ([`super::attachments`]). At most `describe_concurrency` certificates are read at a time;
//! records go out in pages, with progress counts.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use aws_sdk_iot::Client;
use tokio::sync::{Semaphore, mpsc};

use super::attachments::{self, PoliciesByCertificate};
use super::budget::ListingFailure;
use super::cas::CaIndex;
use super::describe::{Tally, read_all};
use super::snapshot::emit;
use crate::backend::error::CallFailure;
use crate::backend::update::{BackendUpdate, KnownCertificate, Progress, SourceState};
use crate::model::CertStatus;

/// One certificate as listed.
pub(super) struct Listed {
    pub(super) id: String,
    pub(super) arn: String,
}

/// What the listing found.
pub(super) struct Listing {
    /// Not known before: to be described.
    new: Vec<Listed>,
    /// Known, with another status now: their things are read again.
    changed: Vec<Listed>,
    /// Known and still listed (changed or not).
    listed_known: Vec<String>,
}

/// Lists every certificate. Sends progress, the known certificates no longer listed and the
/// status changes; returns what is left to read, or why the source is unavailable. `first`
/// makes the first call (the small retry budget), `iot` the others.
///
/// # Errors
/// [`ListingFailure`] when a page could not be read.
pub(super) async fn list(
    first: &Client,
    iot: &Client,
    known: &HashMap<String, KnownCertificate>,
    progress: &mut Progress,
    updates: &mpsc::Sender<BackendUpdate>,
) -> Result<Listing, ListingFailure> {
    let mut listing = Listing {
        new: Vec::new(),
        changed: Vec::new(),
        listed_known: Vec::new(),
    };
    let mut status_changes = Vec::new();
    let mut seen = HashSet::new();
    let mut marker: Option<String> = None;
    loop {
        let first_call = seen.is_empty() && marker.is_none();
        let client = if first_call { first } else { iot };
        let page = client
            .list_certificates()
            .page_size(250)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| ListingFailure {
                call: CallFailure::from_sdk("iot:ListCertificates", &e),
                first_call,
            })?;
        for cert in page.certificates() {
            let (Some(id), Some(arn)) = (cert.certificate_id(), cert.certificate_arn()) else {
                continue;
            };
            progress.listed += 1;
            seen.insert(id.to_owned());
            let status = CertStatus::from_aws_str(cert.status().map_or("", |s| s.as_str()));
            let listed = Listed {
                id: id.to_owned(),
                arn: arn.to_owned(),
            };
            match known.get(id) {
                None => listing.new.push(listed),
                Some(k) => {
                    listing.listed_known.push(listed.id.clone());
                    if k.status == status {
                        progress.unchanged += 1;
                    } else {
                        status_changes.push((listed.id.clone(), status));
                        listing.changed.push(listed);
                    }
                }
            }
        }
        progress.to_describe = listing.new.len() + listing.changed.len();
        if !emit(updates, BackendUpdate::Progress(*progress)).await {
            break;
        }
        match page.next_marker() {
            Some(next) if !next.is_empty() => marker = Some(next.to_owned()),
            _ => break,
        }
    }
    progress.listing_done = true;

    let removed: Vec<String> = known
        .keys()
        .filter(|id| !seen.contains(*id))
        .cloned()
        .collect();
    if !removed.is_empty() {
        emit(updates, BackendUpdate::CertificatesRemoved(removed)).await;
    }
    if !status_changes.is_empty() {
        emit(updates, BackendUpdate::StatusChanged(status_changes)).await;
    }
    Ok(listing)
}

/// Where the certificate reads go and what they may use.
pub(super) struct ReadPlan<'a> {
    pub(super) iot: &'a Client,
    pub(super) slots: &'a Arc<Semaphore>,
    pub(super) concurrency: usize,
    pub(super) cas: &'a CaIndex,
    /// Policy name -> certificate ids, as the cache holds them.
    pub(super) known_policy_targets: &'a HashMap<String, HashSet<String>>,
}

/// Reads what the listing left: sends the policy changes of known certificates (from
/// `policies`, every certificate's policies from the policy side, or why they could not be
/// read), describes new certificates and reads the things of changed ones. Returns the
/// source state.
pub(super) async fn read(
    plan: ReadPlan<'_>,
    listing: Listing,
    policies: Result<PoliciesByCertificate, CallFailure>,
    progress: &mut Progress,
    updates: &mpsc::Sender<BackendUpdate>,
) -> SourceState {
    let mut tally = Tally::default();
    let policies = match policies {
        Ok(map) => {
            let changed = attachments::changed_policies(
                plan.known_policy_targets,
                &map,
                listing.listed_known.into_iter(),
            );
            if !changed.is_empty()
                && !emit(updates, BackendUpdate::CertificatePolicies(changed)).await
            {
                return tally.state();
            }
            Some(Arc::new(map))
        }
        Err(failure) => {
            // Policies of new and changed certificates are asked one by one instead; those
            // of unchanged ones stay as cached.
            tally.note_failure(failure.to_string(), false);
            None
        }
    };
    let work = listing
        .new
        .into_iter()
        .map(|l| (l, true))
        .chain(listing.changed.into_iter().map(|l| (l, false)));
    read_all(&plan, work, policies, &mut tally, progress, updates).await;
    tally.state()
}
