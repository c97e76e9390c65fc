//! Device certificates: ListCertificates in pages of 250, then — only for certificates that
//! are new or whose listed status changed — DescribeCertificate, ListPrincipalThings and
//! ListAttachedPolicies, at most `describe_concurrency` certificates at a time. Records go out
//! in pages, with progress counts.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use aws_sdk_iot::Client;
use aws_sdk_iot::operation::describe_certificate::DescribeCertificateError;
use aws_sdk_iot::primitives::DateTime;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use super::cas::CaIndex;
use super::snapshot::emit;
use crate::backend::error::CallFailure;
use crate::backend::records::{CertificateRecord, CertificateStatus, PemContents};
use crate::backend::update::{BackendUpdate, KnownCertificate, Progress, SourceState};
use crate::backend::x509::parse_certificate_pem;

/// Records per [`BackendUpdate::Certificates`] page.
const PAGE: usize = 250;
/// Progress is reported at least every this many described certificates.
const PROGRESS_EVERY: usize = 50;

/// One certificate as listed.
struct Listed {
    id: String,
    arn: String,
}

/// What describing one certificate gave.
enum Described {
    /// The record, and the failure of its attachment lookups if any.
    Record(Box<CertificateRecord>, Option<CallFailure>),
    /// Deleted between listing and describing.
    Gone,
    /// Could not be described.
    Failed(CallFailure),
}

/// Loads certificates into `updates`; returns the source state and the final progress.
pub(super) async fn load_certificates(
    iot: &Client,
    slots: &Arc<Semaphore>,
    concurrency: usize,
    cas: &CaIndex,
    known: &HashMap<String, KnownCertificate>,
    updates: &mpsc::Sender<BackendUpdate>,
) -> (SourceState, Progress) {
    let mut progress = Progress::default();
    let mut to_describe = Vec::new();
    let mut seen = HashSet::new();

    let mut pages = iot
        .list_certificates()
        .page_size(250)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(page) => page,
            Err(e) => {
                let reason = CallFailure::from_sdk("iot:ListCertificates", &e).to_string();
                return (SourceState::Unavailable { reason }, progress);
            }
        };
        for cert in page.certificates() {
            let (Some(id), Some(arn)) = (cert.certificate_id(), cert.certificate_arn()) else {
                continue;
            };
            progress.listed += 1;
            seen.insert(id.to_owned());
            let status = CertificateStatus::from_aws(cert.status().map_or("", |s| s.as_str()));
            match known.get(id) {
                Some(k) if k.status == status => progress.unchanged += 1,
                _ => to_describe.push(Listed {
                    id: id.to_owned(),
                    arn: arn.to_owned(),
                }),
            }
        }
        progress.to_describe = to_describe.len();
        if !emit(updates, BackendUpdate::Progress(progress)).await {
            return (SourceState::Loaded { items: 0 }, progress);
        }
    }
    progress.listing_done = true;

    let removed: Vec<String> = known
        .keys()
        .filter(|id| !seen.contains(*id))
        .cloned()
        .collect();
    if !removed.is_empty() && !emit(updates, BackendUpdate::CertificatesRemoved(removed)).await {
        return (SourceState::Loaded { items: 0 }, progress);
    }

    let outcome = describe_all(
        iot,
        slots,
        concurrency.max(1),
        cas,
        to_describe,
        &mut progress,
        updates,
    )
    .await;
    (outcome, progress)
}

async fn describe_all(
    iot: &Client,
    slots: &Arc<Semaphore>,
    concurrency: usize,
    cas: &CaIndex,
    to_describe: Vec<Listed>,
    progress: &mut Progress,
    updates: &mpsc::Sender<BackendUpdate>,
) -> SourceState {
    let mut batch = Vec::with_capacity(PAGE);
    let mut tally = Tally::default();
    let mut tasks = JoinSet::new();
    let mut pending = to_describe.into_iter();

    loop {
        // Keep at most `concurrency` tasks; the shared semaphore bounds the calls in flight
        // across everything this backend runs at once.
        while tasks.len() < concurrency {
            let Some(listed) = pending.next() else { break };
            let iot = iot.clone();
            let slots = Arc::clone(slots);
            tasks.spawn(async move {
                // The semaphore is never closed; without a permit the call would still be right.
                let _permit = slots.acquire_owned().await.ok();
                describe_one(&iot, listed).await
            });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        progress.described += 1;
        match joined {
            Ok(Described::Record(mut record, attachment_failure)) => {
                if record.ca_certificate_id.is_none() {
                    record.ca_certificate_id = record
                        .pem
                        .parsed()
                        .and_then(|parsed| cas.issuer_of(parsed, None));
                }
                tally.items += 1;
                if let Some(failure) = attachment_failure {
                    tally.note_failure(failure.to_string(), false);
                }
                batch.push(*record);
            }
            Ok(Described::Gone) => {}
            Ok(Described::Failed(failure)) => tally.note_failure(failure.to_string(), true),
            Err(join_error) => {
                tally.note_failure(format!("describe task failed: {join_error}"), true);
            }
        }
        if batch.len() >= PAGE || progress.described.is_multiple_of(PROGRESS_EVERY) {
            let page = std::mem::take(&mut batch);
            if (!page.is_empty() && !emit(updates, BackendUpdate::Certificates(page)).await)
                || !emit(updates, BackendUpdate::Progress(*progress)).await
            {
                tasks.abort_all();
                return tally.state();
            }
        }
    }
    if !batch.is_empty() {
        emit(updates, BackendUpdate::Certificates(batch)).await;
    }
    emit(updates, BackendUpdate::Progress(*progress)).await;
    tally.state()
}

/// Counts of a describe run.
#[derive(Default)]
struct Tally {
    items: usize,
    failed: usize,
    first_failure: Option<String>,
}

impl Tally {
    fn note_failure(&mut self, reason: String, lost_item: bool) {
        if lost_item {
            self.failed += 1;
        }
        self.first_failure.get_or_insert(reason);
    }

    fn state(self) -> SourceState {
        match self.first_failure {
            None => SourceState::Loaded { items: self.items },
            Some(reason) if self.items == 0 && self.failed > 0 => {
                SourceState::Unavailable { reason }
            }
            Some(reason) => SourceState::Partial {
                items: self.items,
                failed: self.failed,
                reason,
            },
        }
    }
}

async fn describe_one(iot: &Client, listed: Listed) -> Described {
    let out = match iot
        .describe_certificate()
        .certificate_id(&listed.id)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            if matches!(
                e.as_service_error(),
                Some(DescribeCertificateError::ResourceNotFoundException(_))
            ) {
                return Described::Gone;
            }
            return Described::Failed(CallFailure::from_sdk("iot:DescribeCertificate", &e));
        }
    };
    let Some(desc) = out.certificate_description() else {
        return Described::Gone;
    };
    let pem = match parse_certificate_pem(desc.certificate_pem().unwrap_or_default()) {
        Ok(parsed) => PemContents::Parsed(parsed),
        Err(e) => PemContents::Unreadable(e),
    };
    let (things, policies, attachment_failure) = attachments(iot, &listed.arn).await;
    Described::Record(
        Box::new(CertificateRecord {
            id: listed.id,
            arn: listed.arn,
            status: CertificateStatus::from_aws(desc.status().map_or("", |s| s.as_str())),
            ca_certificate_id: desc
                .ca_certificate_id()
                .filter(|id| !id.is_empty())
                .map(str::to_owned),
            created: desc.creation_date().map(DateTime::secs),
            last_modified: desc.last_modified_date().map(DateTime::secs),
            generation_id: desc.generation_id().map(str::to_owned),
            pem,
            things,
            policies,
        }),
        attachment_failure,
    )
}

/// Things and policies attached to a certificate; the first failure, if any, is returned.
async fn attachments(iot: &Client, arn: &str) -> (Vec<String>, Vec<String>, Option<CallFailure>) {
    let mut failure = None;
    let things = match iot
        .list_principal_things()
        .principal(arn)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
    {
        Ok(things) => things,
        Err(e) => {
            failure = Some(CallFailure::from_sdk("iot:ListPrincipalThings", &e));
            Vec::new()
        }
    };
    let policies = match iot
        .list_attached_policies()
        .target(arn)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
    {
        Ok(policies) => policies.into_iter().filter_map(|p| p.policy_name).collect(),
        Err(e) => {
            failure.get_or_insert(CallFailure::from_sdk("iot:ListAttachedPolicies", &e));
            Vec::new()
        }
    };
    (things, policies, failure)
}
