//! CA certificates: ListCACertificates + DescribeCACertificate, and the index that links a
//! certificate to the registered CA that issued it (by key identifier, else by issuer name).

use std::collections::HashMap;

use aws_sdk_iot::Client;
use aws_sdk_iot::operation::describe_ca_certificate::DescribeCACertificateError;
use aws_sdk_iot::primitives::DateTime;
use aws_sdk_iot::types::AutoRegistrationStatus;

use super::budget::ListingFailure;
use crate::backend::error::CallFailure;
use crate::backend::records::{CaRecord, PemContents};
use crate::backend::x509::{ParsedCertificate, parse_certificate_pem};
use crate::model::CaStatus;

/// Finds the registered CA that issued a certificate.
#[derive(Debug, Default)]
pub(super) struct CaIndex {
    by_key_id: HashMap<String, String>,
    by_subject: HashMap<String, String>,
}

impl CaIndex {
    pub(super) fn new(cas: &[CaRecord]) -> Self {
        let mut index = Self::default();
        for ca in cas {
            if let Some(parsed) = ca.pem.parsed() {
                if let Some(ski) = &parsed.subject_key_id {
                    index.by_key_id.insert(ski.clone(), ca.id.clone());
                }
                index
                    .by_subject
                    .insert(parsed.subject.clone(), ca.id.clone());
            }
        }
        index
    }

    /// The id of the CA whose key signed `cert`, if it is registered. A self-signed
    /// certificate has no issuing CA other than itself: `own_id` excludes that.
    pub(super) fn issuer_of(
        &self,
        cert: &ParsedCertificate,
        own_id: Option<&str>,
    ) -> Option<String> {
        let found = match &cert.authority_key_id {
            Some(aki) => self.by_key_id.get(aki),
            None => self.by_subject.get(&cert.issuer),
        };
        found.filter(|id| Some(id.as_str()) != own_id).cloned()
    }
}

/// The registered CAs, and what went wrong reading them.
pub(super) struct LoadedCas {
    pub(super) cas: Vec<CaRecord>,
    /// Why ListCACertificates failed or was not asked; only `known_ids` were described.
    pub(super) listing_failure: Option<String>,
    /// CAs that could not be described.
    pub(super) describe_failures: Vec<CallFailure>,
}

/// Lists and describes every registered CA, plus the `known_ids` (which are all that is
/// described when the listing fails or is `skipped`, with the reason). The listing is the
/// source's first call: `first` makes it (the small retry budget), `iot` the rest.
pub(super) async fn load_cas(
    first: &Client,
    iot: &Client,
    known_ids: &[String],
    skipped: Option<String>,
) -> (LoadedCas, Option<ListingFailure>) {
    let (mut ids, listing_failure, failed_listing) = match skipped {
        Some(reason) => (Vec::new(), Some(reason), None),
        None => match list_ids(first, iot).await {
            Ok(ids) => (ids, None, None),
            Err(failure) => (Vec::new(), Some(failure.call.to_string()), Some(failure)),
        },
    };
    for id in known_ids {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }

    let mut cas = Vec::with_capacity(ids.len());
    let mut describe_failures = Vec::new();
    // CAs are few (AWS allows 10 per subject): described one after another.
    for id in ids {
        match iot
            .describe_ca_certificate()
            .certificate_id(&id)
            .send()
            .await
        {
            Ok(out) => {
                if let Some(desc) = out.certificate_description() {
                    let pem =
                        match parse_certificate_pem(desc.certificate_pem().unwrap_or_default()) {
                            Ok(parsed) => PemContents::Parsed(parsed),
                            Err(e) => PemContents::Unreadable(e),
                        };
                    cas.push(CaRecord {
                        arn: desc.certificate_arn().unwrap_or_default().to_owned(),
                        id,
                        status: CaStatus::from_aws_str(desc.status().map_or("", |s| s.as_str())),
                        auto_registration: desc.auto_registration_status()
                            == Some(&AutoRegistrationStatus::Enable),
                        created: desc.creation_date().map(DateTime::secs),
                        last_modified: desc.last_modified_date().map(DateTime::secs),
                        pem,
                        parent_ca_id: None,
                    });
                }
            }
            // A CA known from an earlier snapshot may have been deleted since.
            Err(e)
                if e.as_service_error()
                    .is_some_and(DescribeCACertificateError::is_resource_not_found_exception) => {}
            Err(e) => {
                describe_failures.push(CallFailure::from_sdk("iot:DescribeCACertificate", &e));
            }
        }
    }

    let index = CaIndex::new(&cas);
    for ca in &mut cas {
        ca.parent_ca_id = ca
            .pem
            .parsed()
            .and_then(|parsed| index.issuer_of(parsed, Some(&ca.id)));
    }
    (
        LoadedCas {
            cas,
            listing_failure,
            describe_failures,
        },
        failed_listing,
    )
}

/// The ids of every registered CA (ListCACertificates, pages of 250).
async fn list_ids(first: &Client, iot: &Client) -> Result<Vec<String>, ListingFailure> {
    let mut ids = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let first_call = marker.is_none();
        let client = if first_call { first } else { iot };
        let page = client
            .list_ca_certificates()
            .page_size(250)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| ListingFailure {
                call: CallFailure::from_sdk("iot:ListCACertificates", &e),
                first_call,
            })?;
        ids.extend(
            page.certificates()
                .iter()
                .filter_map(|ca| ca.certificate_id().map(str::to_owned)),
        );
        match page.next_marker() {
            Some(next) if !next.is_empty() => marker = Some(next.to_owned()),
            _ => return Ok(ids),
        }
    }
}
