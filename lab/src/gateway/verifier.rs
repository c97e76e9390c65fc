//! The gateway's client-certificate check: a certificate is let through the TLS handshake
//! when the registry knows it (whatever its status: the session decides what to do) or when a
//! registered CA signed it (JITR). Everything else fails the handshake.

use std::sync::Arc;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, Error, SignatureScheme};

use crate::cert_facts::CertFacts;
use crate::registry::Registry;

/// Verifies device certificates against the lab registry.
#[derive(Debug)]
pub struct RegistryVerifier {
    registry: Registry,
    algorithms: WebPkiSupportedAlgorithms,
}

impl RegistryVerifier {
    /// A verifier over `registry`, with the signature algorithms of `provider`.
    #[must_use]
    pub fn new(registry: Registry, provider: &Arc<CryptoProvider>) -> Self {
        Self {
            registry,
            algorithms: provider.signature_verification_algorithms,
        }
    }
}

impl ClientCertVerifier for RegistryVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, Error> {
        let facts = CertFacts::from_der(end_entity)
            .map_err(|_| Error::InvalidCertificate(rustls::CertificateError::BadEncoding))?;
        let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        if facts.not_after.unix_timestamp() < now {
            return Err(Error::InvalidCertificate(rustls::CertificateError::Expired));
        }
        if facts.not_before.unix_timestamp() > now {
            return Err(Error::InvalidCertificate(
                rustls::CertificateError::NotValidYet,
            ));
        }
        if self.registry.certificate(&facts.id).is_ok()
            || self.registry.issuing_ca(&facts).is_some()
        {
            Ok(ClientCertVerified::assertion())
        } else {
            Err(Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
