//! The per-certificate calls of a refresh, for the certificates the listing left: a new one is
//! described (DescribeCertificate: its PEM, read once) and asked for its things
//! (ListPrincipalThings); a changed one only for its things. Policies come from the policy
//! side, or — when that could not be read — from ListAttachedPolicies per certificate. At most
//! `concurrency` certificates at a time, through the backend's shared semaphore; records go
//! out in pages with progress counts.

use std::sync::Arc;

use aws_sdk_iot::Client;
use aws_sdk_iot::operation::describe_certificate::DescribeCertificateError;
use aws_sdk_iot::primitives::DateTime;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::attachments::{self, PoliciesByCertificate};
use super::certificates::{Listed, ReadPlan};
use super::snapshot::emit;
use crate::backend::error::CallFailure;
use crate::backend::records::{CertificateRecord, PemContents};
use crate::backend::update::{BackendUpdate, Progress, SourceState};
use crate::backend::x509::parse_certificate_pem;
use crate::model::CertStatus;

/// Records per [`BackendUpdate::Certificates`] page.
const PAGE: usize = 250;
/// Progress is reported at least every this many certificates read.
const PROGRESS_EVERY: usize = 50;

/// What reading one certificate gave.
enum Read {
    /// A new certificate's record, and the failure of its attachment lookups if any.
    Record(Box<CertificateRecord>, Option<CallFailure>),
    /// A changed certificate's things, and its policies when the policy side was not read.
    Attachments {
        id: String,
        things: Result<Vec<String>, CallFailure>,
        policies: Option<Result<Vec<String>, CallFailure>>,
    },
    /// Deleted between listing and describing.
    Gone,
    /// Could not be described.
    Failed(CallFailure),
}

/// What is waiting to be sent.
#[derive(Default)]
struct Batches {
    records: Vec<CertificateRecord>,
    things: Vec<(String, Vec<String>)>,
    policies: Vec<(String, Vec<String>)>,
}

impl Batches {
    fn len(&self) -> usize {
        self.records.len() + self.things.len() + self.policies.len()
    }

    /// Sends what is waiting; `false` when the receiver is gone.
    async fn send(&mut self, updates: &mpsc::Sender<BackendUpdate>) -> bool {
        let records = std::mem::take(&mut self.records);
        let things = std::mem::take(&mut self.things);
        let policies = std::mem::take(&mut self.policies);
        (records.is_empty() || emit(updates, BackendUpdate::Certificates(records)).await)
            && (things.is_empty() || emit(updates, BackendUpdate::CertificateThings(things)).await)
            && (policies.is_empty()
                || emit(updates, BackendUpdate::CertificatePolicies(policies)).await)
    }
}

/// Reads every certificate of `work` (`true`: new, `false`: status changed).
pub(super) async fn read_all(
    plan: &ReadPlan<'_>,
    work: impl Iterator<Item = (Listed, bool)>,
    policies: Option<Arc<PoliciesByCertificate>>,
    tally: &mut Tally,
    progress: &mut Progress,
    updates: &mpsc::Sender<BackendUpdate>,
) {
    let concurrency = plan.concurrency.max(1);
    let mut batches = Batches::default();
    let mut tasks = JoinSet::new();
    let mut pending = work;
    loop {
        // Keep at most `concurrency` tasks; the shared semaphore bounds the calls in flight
        // across everything this backend runs at once.
        while tasks.len() < concurrency {
            let Some((listed, new)) = pending.next() else {
                break;
            };
            let iot = plan.iot.clone();
            let slots = Arc::clone(plan.slots);
            let policies = policies.clone();
            tasks.spawn(async move {
                // The semaphore is never closed; without a permit the call would still be right.
                let _permit = slots.acquire_owned().await.ok();
                if new {
                    describe_one(&iot, listed, policies.as_deref()).await
                } else {
                    attachments_of(&iot, listed, policies.is_none()).await
                }
            });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        progress.described += 1;
        match joined {
            Ok(Read::Record(mut record, attachment_failure)) => {
                if record.ca_certificate_id.is_none() {
                    record.ca_certificate_id = record
                        .pem
                        .parsed()
                        .and_then(|parsed| plan.cas.issuer_of(parsed, None));
                }
                tally.items += 1;
                if let Some(failure) = attachment_failure {
                    tally.note_failure(failure.to_string(), false);
                }
                batches.records.push(*record);
            }
            Ok(Read::Attachments {
                id,
                things,
                policies,
            }) => {
                tally.items += 1;
                match things {
                    Ok(things) => batches.things.push((id.clone(), things)),
                    Err(failure) => tally.note_failure(failure.to_string(), false),
                }
                match policies {
                    Some(Ok(policies)) => batches.policies.push((id, policies)),
                    Some(Err(failure)) => tally.note_failure(failure.to_string(), false),
                    None => {}
                }
            }
            Ok(Read::Gone) => {}
            Ok(Read::Failed(failure)) => tally.note_failure(failure.to_string(), true),
            Err(join_error) => {
                tally.note_failure(format!("certificate read task failed: {join_error}"), true);
            }
        }
        let due = batches.len() >= PAGE || progress.described.is_multiple_of(PROGRESS_EVERY);
        if due
            && (!batches.send(updates).await
                || !emit(updates, BackendUpdate::Progress(*progress)).await)
        {
            tasks.abort_all();
            return;
        }
    }
    batches.send(updates).await;
    emit(updates, BackendUpdate::Progress(*progress)).await;
}

/// Counts of the certificate reads.
#[derive(Default)]
pub(super) struct Tally {
    items: usize,
    failed: usize,
    first_failure: Option<String>,
}

impl Tally {
    pub(super) fn note_failure(&mut self, reason: String, lost_item: bool) {
        if lost_item {
            self.failed += 1;
        }
        self.first_failure.get_or_insert(reason);
    }

    pub(super) fn state(self) -> SourceState {
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

/// A changed certificate: its things, and its policies when the policy side was not read.
async fn attachments_of(iot: &Client, listed: Listed, ask_policies: bool) -> Read {
    let things = attachments::principal_things(iot, &listed.arn).await;
    let policies = if ask_policies {
        Some(attachments::attached_policies(iot, &listed.arn).await)
    } else {
        None
    };
    Read::Attachments {
        id: listed.id,
        things,
        policies,
    }
}

/// A new certificate: described, with its things and policies.
async fn describe_one(
    iot: &Client,
    listed: Listed,
    policies: Option<&PoliciesByCertificate>,
) -> Read {
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
                return Read::Gone;
            }
            return Read::Failed(CallFailure::from_sdk("iot:DescribeCertificate", &e));
        }
    };
    let Some(desc) = out.certificate_description() else {
        return Read::Gone;
    };
    let pem = match parse_certificate_pem(desc.certificate_pem().unwrap_or_default()) {
        Ok(parsed) => PemContents::Parsed(parsed),
        Err(e) => PemContents::Unreadable(e),
    };
    let mut failure = None;
    let things = attachments::principal_things(iot, &listed.arn)
        .await
        .unwrap_or_else(|f| {
            failure = Some(f);
            Vec::new()
        });
    let policies = match policies {
        Some(map) => map.get(&listed.id).cloned().unwrap_or_default(),
        None => attachments::attached_policies(iot, &listed.arn)
            .await
            .unwrap_or_else(|f| {
                failure.get_or_insert(f);
                Vec::new()
            }),
    };
    Read::Record(
        Box::new(CertificateRecord {
            id: listed.id,
            arn: listed.arn,
            status: CertStatus::from_aws_str(desc.status().map_or("", |s| s.as_str())),
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
        failure,
    )
}
