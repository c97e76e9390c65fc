//! Certificates and CA certificates in the registry, with the status rules of AWS IoT.

use serde_json::Value;
use time::OffsetDateTime;

use super::{Registry, RegistryError, RegistryEvent, arn, cert_arn, now, page};
use crate::cert_facts::CertFacts;

/// `CertificateStatus` as AWS IoT spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CertStatus {
    /// Usable.
    Active,
    /// Disabled, reversible.
    Inactive,
    /// Disabled for good.
    Revoked,
    /// In a transfer between accounts.
    PendingTransfer,
    /// Deprecated status, kept for completeness.
    RegisterInactive,
    /// Registered by JITR, waiting for a decision.
    PendingActivation,
}

impl CertStatus {
    /// The wire spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
            Self::Revoked => "REVOKED",
            Self::PendingTransfer => "PENDING_TRANSFER",
            Self::RegisterInactive => "REGISTER_INACTIVE",
            Self::PendingActivation => "PENDING_ACTIVATION",
        }
    }

    /// Parses the wire spelling.
    ///
    /// # Errors
    /// `InvalidRequest` for anything else.
    pub fn parse(text: &str) -> Result<Self, RegistryError> {
        Ok(match text {
            "ACTIVE" => Self::Active,
            "INACTIVE" => Self::Inactive,
            "REVOKED" => Self::Revoked,
            "PENDING_TRANSFER" => Self::PendingTransfer,
            "REGISTER_INACTIVE" => Self::RegisterInactive,
            "PENDING_ACTIVATION" => Self::PendingActivation,
            other => {
                return Err(RegistryError::InvalidRequest(format!(
                    "unknown certificate status {other:?}"
                )));
            }
        })
    }
}

/// A device certificate.
#[derive(Debug, Clone)]
pub struct CertRecord {
    /// Parsed certificate.
    pub facts: CertFacts,
    /// PEM as registered.
    pub pem: String,
    /// ARN.
    pub arn: String,
    /// The registered CA that issued it, when known.
    pub ca_id: Option<String>,
    /// Status.
    pub status: CertStatus,
    /// When it was registered.
    pub created: OffsetDateTime,
    /// Last status change.
    pub last_modified: OffsetDateTime,
    /// Bumped on every change.
    pub customer_version: i32,
}

impl CertRecord {
    /// The certificate id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.facts.id
    }
}

/// A registered CA certificate.
#[derive(Debug, Clone)]
pub struct CaRecord {
    /// Parsed certificate.
    pub facts: CertFacts,
    /// PEM as registered.
    pub pem: String,
    /// ARN.
    pub arn: String,
    /// ACTIVE or INACTIVE.
    pub active: bool,
    /// Whether JITR may register unknown certificates it issued.
    pub auto_registration: bool,
    /// `registrationConfig` as given (JITP template), echoed back.
    pub registration_config: Option<Value>,
    /// When it was registered.
    pub created: OffsetDateTime,
    /// Last change.
    pub last_modified: OffsetDateTime,
    /// Bumped on every change.
    pub customer_version: i32,
}

impl CaRecord {
    /// The CA certificate id.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.facts.id
    }
}

fn invalid_cert(e: impl std::fmt::Display) -> RegistryError {
    RegistryError::CertificateValidation(e.to_string())
}

impl Registry {
    /// `RegisterCACertificate`.
    ///
    /// # Errors
    /// Unparsable PEM, not a CA, or already registered.
    pub fn register_ca(
        &self,
        pem: &str,
        active: bool,
        auto_registration: bool,
        registration_config: Option<Value>,
    ) -> Result<CaRecord, RegistryError> {
        let facts = CertFacts::from_pem(pem).map_err(invalid_cert)?;
        if !facts.is_ca {
            return Err(RegistryError::CertificateValidation(
                "the certificate is not a CA certificate".into(),
            ));
        }
        let mut state = self.lock();
        if state.cas.iter().any(|c| c.id() == facts.id) {
            return Err(RegistryError::AlreadyExists {
                kind: "CA certificate",
                id: facts.id,
            });
        }
        let at = now();
        let record = CaRecord {
            arn: arn(&format!("cacert/{}", facts.id)),
            facts,
            pem: pem.to_owned(),
            active,
            auto_registration,
            registration_config,
            created: at,
            last_modified: at,
            customer_version: 1,
        };
        state.cas.push(record.clone());
        Ok(record)
    }

    /// `DescribeCACertificate`.
    ///
    /// # Errors
    /// `NotFound`.
    pub fn ca(&self, id: &str) -> Result<CaRecord, RegistryError> {
        self.lock()
            .cas
            .iter()
            .find(|c| c.id() == id)
            .cloned()
            .ok_or_else(|| RegistryError::NotFound {
                kind: "CA certificate",
                id: id.to_owned(),
            })
    }

    /// All CAs, in registration order.
    #[must_use]
    pub fn cas(&self) -> Vec<CaRecord> {
        self.lock().cas.clone()
    }

    /// `UpdateCACertificate`.
    ///
    /// # Errors
    /// `NotFound`.
    pub fn update_ca(
        &self,
        id: &str,
        active: Option<bool>,
        auto_registration: Option<bool>,
    ) -> Result<(), RegistryError> {
        let mut state = self.lock();
        let ca =
            state
                .cas
                .iter_mut()
                .find(|c| c.id() == id)
                .ok_or_else(|| RegistryError::NotFound {
                    kind: "CA certificate",
                    id: id.to_owned(),
                })?;
        if let Some(a) = active {
            ca.active = a;
        }
        if let Some(a) = auto_registration {
            ca.auto_registration = a;
        }
        ca.last_modified = now();
        ca.customer_version += 1;
        Ok(())
    }

    /// The registered CA that signed `facts`, if any.
    #[must_use]
    pub fn issuing_ca(&self, facts: &CertFacts) -> Option<CaRecord> {
        self.lock()
            .cas
            .iter()
            .find(|ca| facts.is_signed_by(&ca.facts))
            .cloned()
    }

    /// Adds a certificate with the given status (`RegisterCertificate`, JITR, create-from-csr).
    ///
    /// # Errors
    /// Unparsable PEM, or a certificate with this id exists already.
    pub fn insert_certificate(
        &self,
        pem: &str,
        status: CertStatus,
    ) -> Result<CertRecord, RegistryError> {
        let facts = CertFacts::from_pem(pem).map_err(invalid_cert)?;
        if facts.is_ca {
            return Err(RegistryError::CertificateValidation(
                "a CA certificate cannot be registered as a device certificate".into(),
            ));
        }
        let ca_id = self.issuing_ca(&facts).map(|ca| ca.id().to_owned());
        let mut state = self.lock();
        if state.cert_index.contains_key(&facts.id) {
            return Err(RegistryError::AlreadyExists {
                kind: "certificate",
                id: facts.id,
            });
        }
        let at = now();
        let record = CertRecord {
            arn: cert_arn(&facts.id),
            facts,
            pem: pem.to_owned(),
            ca_id,
            status,
            created: at,
            last_modified: at,
            customer_version: 1,
        };
        let index = state.certs.len();
        state.cert_index.insert(record.id().to_owned(), index);
        state.certs.push(record.clone());
        Ok(record)
    }

    /// `DescribeCertificate`.
    ///
    /// # Errors
    /// `NotFound`.
    pub fn certificate(&self, id: &str) -> Result<CertRecord, RegistryError> {
        let state = self.lock();
        state
            .cert_index
            .get(id)
            .map(|&i| state.certs[i].clone())
            .ok_or_else(|| RegistryError::NotFound {
                kind: "certificate",
                id: id.to_owned(),
            })
    }

    /// `ListCertificates` / `ListCertificatesByCA`: one page, newest first unless `ascending`.
    ///
    /// # Errors
    /// A malformed marker; `NotFound` for an unknown CA.
    pub fn list_certificates(
        &self,
        ca_id: Option<&str>,
        marker: Option<&str>,
        page_size: Option<usize>,
        ascending: bool,
    ) -> Result<(Vec<CertRecord>, Option<String>), RegistryError> {
        if let Some(ca) = ca_id {
            self.ca(ca)?;
        }
        let state = self.lock();
        let mut matching: Vec<&CertRecord> = state
            .certs
            .iter()
            .filter(|c| ca_id.is_none_or(|ca| c.ca_id.as_deref() == Some(ca)))
            .collect();
        if !ascending {
            matching.reverse();
        }
        let (items, next) = page(&matching, marker, page_size, 25)?;
        Ok((items.into_iter().cloned().collect(), next))
    }

    /// Number of certificates.
    #[must_use]
    pub fn certificate_count(&self) -> usize {
        self.lock().certs.len()
    }

    /// `UpdateCertificate`: ACTIVE, INACTIVE or REVOKED; REVOKED is final.
    ///
    /// # Errors
    /// `NotFound`, `InvalidRequest` for a status that cannot be set, `CertificateState` when
    /// the certificate is revoked.
    pub fn update_certificate(&self, id: &str, status: CertStatus) -> Result<(), RegistryError> {
        if !matches!(
            status,
            CertStatus::Active | CertStatus::Inactive | CertStatus::Revoked
        ) {
            return Err(RegistryError::InvalidRequest(format!(
                "the status {} cannot be set by UpdateCertificate",
                status.as_str()
            )));
        }
        {
            let mut state = self.lock();
            let index = *state
                .cert_index
                .get(id)
                .ok_or_else(|| RegistryError::NotFound {
                    kind: "certificate",
                    id: id.to_owned(),
                })?;
            let cert = &mut state.certs[index];
            if cert.status == CertStatus::Revoked && status != CertStatus::Revoked {
                return Err(RegistryError::CertificateState(format!(
                    "certificate {id} is REVOKED; its status can't be changed"
                )));
            }
            cert.status = status;
            cert.last_modified = now();
            cert.customer_version += 1;
        }
        self.emit(RegistryEvent::CertificateStatus {
            certificate_id: id.to_owned(),
            status,
        });
        Ok(())
    }
}
