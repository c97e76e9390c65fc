//! Who the console's live-status connections are: the client ids of its connection pool
//! (`{client_id}`, then `{client_id}-1`, `{client_id}-2`, ...) and, over mTLS, the operator
//! certificate they all connect with. AWS IoT Device Defender Audit sees one certificate used by
//! several clients at once and reports `DEVICE_CERTIFICATE_SHARED_CHECK`; knowing the pool's
//! identity lets the console tell that finding about itself from one about someone else.

use super::connection::{LiveAuth, LiveOptions};
use crate::backend::x509::parse_certificate_pem;

/// The client id of the pool's `n`th additional connection (the first uses `base` itself).
#[must_use]
pub fn member_client_id(base: &str, n: usize) -> String {
    format!("{base}-{n}")
}

/// The console's live-status connections as AWS IoT sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolIdentity {
    /// The id (lower-case hex SHA-256 of the DER) of the operator certificate every connection
    /// of the pool presents.
    pub certificate_id: String,
    /// The client id of the pool's first connection; the others add `-<n>`.
    pub client_id: String,
}

impl PoolIdentity {
    /// The pool's identity under `options`: `None` unless it connects over mTLS with an
    /// operator certificate that can be read (SigV4 connections present no certificate; an
    /// unreadable one is reported by the live connection itself).
    pub async fn of(options: &LiveOptions) -> Option<Self> {
        let LiveAuth::Mtls { cert_pem, .. } = &options.auth else {
            return None;
        };
        let pem = tokio::fs::read_to_string(cert_pem).await.ok()?;
        let certificate = parse_certificate_pem(&pem).ok()?;
        Some(Self {
            certificate_id: certificate.sha256_fingerprint,
            client_id: options.client_id.clone(),
        })
    }

    /// Whether `client_id` is one the pool connects with: its first client id, or
    /// [`member_client_id`] of it for some `n` of 1 or more.
    #[must_use]
    pub fn is_member(&self, client_id: &str) -> bool {
        let Some(rest) = client_id.strip_prefix(self.client_id.as_str()) else {
            return false;
        };
        match rest.strip_prefix('-') {
            None => rest.is_empty(),
            // Spelled exactly as the pool spells it: no sign, no leading zeros.
            Some(n) => n
                .parse::<usize>()
                .is_ok_and(|n| n >= 1 && member_client_id(&self.client_id, n) == client_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool() -> PoolIdentity {
        PoolIdentity {
            certificate_id: "ab".repeat(32),
            client_id: "fleetid-operator".into(),
        }
    }

    #[test]
    fn the_pool_s_client_ids_are_its_own_and_lookalikes_are_not() {
        let pool = pool();
        for own in [
            "fleetid-operator",
            "fleetid-operator-1",
            "fleetid-operator-63",
        ] {
            assert!(pool.is_member(own), "{own}");
        }
        assert!(pool.is_member(&member_client_id("fleetid-operator", 200)));
        for other in [
            "fleetid-operator-0",
            "fleetid-operator-01",
            "fleetid-operator-+1",
            "fleetid-operator-",
            "fleetid-operator-x",
            "fleetid-operator-1-1",
            "fleetid-operatorX",
            "fleetid-operator1",
            "fleetid",
            "dev-1",
            "",
        ] {
            assert!(!pool.is_member(other), "{other}");
        }
    }

    #[tokio::test]
    async fn the_identity_is_the_operator_certificate_s_id_and_the_client_id() {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["operator".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cert_pem = dir.path().join("operator.pem");
        std::fs::write(&cert_pem, cert.pem()).unwrap();
        let mut options = LiveOptions {
            endpoint: None,
            ca_pem: None,
            auth: LiveAuth::Mtls {
                cert_pem,
                key_pem: dir.path().join("operator.key"),
            },
            client_id: "fleetid-operator".into(),
            presence: true,
        };
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, cert.der());
        assert_eq!(
            PoolIdentity::of(&options).await,
            Some(PoolIdentity {
                certificate_id: hex::encode(digest.as_ref()),
                client_id: "fleetid-operator".into(),
            })
        );
        options.auth = LiveAuth::PlainTcp;
        assert_eq!(PoolIdentity::of(&options).await, None, "no certificate");
    }
}
