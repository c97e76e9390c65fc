//! The lab's stand-in for an AWS IoT certificate provider (CreateCertificateProvider): one per
//! account, and while it exists every fleet provisioning `create-from-csr` of every device is
//! signed by it instead of by AWS IoT's own CA. On AWS the provider is a Lambda function that
//! signs with a CA of the customer's (AWS Private CA, their own PKI); the lab has no Lambda, so
//! the function's name picks which of the lab's own CAs signs — those whose keys it holds:
//! [`NEXT_CA_FUNCTION`] (the registered next CA, for a rotation onto it) or
//! [`ISSUING_CA_FUNCTION`].

use std::sync::{Arc, RwLock};

use time::OffsetDateTime;

use crate::pki::CertificateAuthority;

/// The Lambda function name that makes the lab's next CA sign.
pub const NEXT_CA_FUNCTION: &str = "fleetid-lab-next-ca";
/// The Lambda function name that makes the lab's issuing CA sign (as without a provider).
pub const ISSUING_CA_FUNCTION: &str = "fleetid-lab-issuing-ca";

/// The account's certificate provider, as created.
#[derive(Clone)]
pub struct Provider {
    /// `certificateProviderName`.
    pub name: String,
    /// `lambdaFunctionArn` as given.
    pub lambda_function_arn: String,
    /// When it was created.
    pub created: OffsetDateTime,
    /// The CA that signs while it exists.
    pub ca: Arc<CertificateAuthority>,
}

/// The account's certificate provider slot, shared by the HTTP API (which creates and deletes
/// it) and the gateway (whose `create-from-csr` signs with it).
#[derive(Clone)]
pub struct CertificateProvider {
    slot: Arc<RwLock<Option<Provider>>>,
    issuing: Arc<CertificateAuthority>,
    next: Arc<CertificateAuthority>,
}

/// Why a provider could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The account has a provider of another name (AWS allows one).
    #[error("the account has a certificate provider already ({0}); delete it first")]
    OneAlready(String),
    /// A provider of this name exists.
    #[error("certificate provider {0} exists")]
    Exists(String),
    /// The function is not one of the lab's CAs.
    #[error(
        "the lab signs with its own CAs only: lambdaFunctionArn must name function \
         {NEXT_CA_FUNCTION} or {ISSUING_CA_FUNCTION}, not {0:?}"
    )]
    UnknownFunction(String),
}

impl CertificateProvider {
    /// No provider yet; `issuing` and `next` are the CAs a provider may sign with.
    #[must_use]
    pub fn new(issuing: Arc<CertificateAuthority>, next: Arc<CertificateAuthority>) -> Self {
        Self {
            slot: Arc::default(),
            issuing,
            next,
        }
    }

    /// The CA a function name stands for.
    fn ca_of(&self, lambda_function_arn: &str) -> Option<Arc<CertificateAuthority>> {
        let function = lambda_function_arn
            .rsplit_once(":function:")
            .map_or(lambda_function_arn, |(_, f)| f);
        match function.split(':').next() {
            Some(NEXT_CA_FUNCTION) => Some(self.next.clone()),
            Some(ISSUING_CA_FUNCTION) => Some(self.issuing.clone()),
            _ => None,
        }
    }

    /// `CreateCertificateProvider`.
    ///
    /// # Errors
    /// [`ProviderError`].
    pub fn create(&self, name: &str, lambda_function_arn: &str) -> Result<Provider, ProviderError> {
        let ca = self
            .ca_of(lambda_function_arn)
            .ok_or_else(|| ProviderError::UnknownFunction(lambda_function_arn.to_owned()))?;
        let mut slot = self
            .slot
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match slot.as_ref() {
            Some(p) if p.name == name => Err(ProviderError::Exists(name.to_owned())),
            Some(p) => Err(ProviderError::OneAlready(p.name.clone())),
            None => {
                let provider = Provider {
                    name: name.to_owned(),
                    lambda_function_arn: lambda_function_arn.to_owned(),
                    created: crate::registry::now(),
                    ca,
                };
                *slot = Some(provider.clone());
                Ok(provider)
            }
        }
    }

    /// `DescribeCertificateProvider`.
    #[must_use]
    pub fn describe(&self, name: &str) -> Option<Provider> {
        let slot = self
            .slot
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slot.as_ref().filter(|p| p.name == name).cloned()
    }

    /// `ListCertificateProviders`: the one provider, or none.
    #[must_use]
    pub fn list(&self) -> Vec<Provider> {
        let slot = self
            .slot
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slot.iter().cloned().collect()
    }

    /// `DeleteCertificateProvider`: whether one of this name existed.
    pub fn delete(&self, name: &str) -> bool {
        let mut slot = self
            .slot
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slot.take_if(|p| p.name == name).is_some()
    }

    /// The CA that signs `create-from-csr` now: the provider's, else the issuing CA.
    #[must_use]
    pub fn signer(&self) -> Arc<CertificateAuthority> {
        let slot = self
            .slot
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slot.as_ref()
            .map_or_else(|| self.issuing.clone(), |p| p.ca.clone())
    }

    /// The ARN of a provider.
    #[must_use]
    pub fn arn(name: &str) -> String {
        crate::registry::arn(&format!("certificateprovider/{name}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cas() -> CertificateProvider {
        let root = CertificateAuthority::new_root("r").unwrap();
        CertificateProvider::new(
            Arc::new(root.new_intermediate("issuing").unwrap()),
            Arc::new(root.new_intermediate("next").unwrap()),
        )
    }

    #[test]
    fn one_provider_per_account_names_the_ca_that_signs() {
        let p = cas();
        let issuing = p.signer().certificate_pem.clone();
        let arn = format!("arn:aws:lambda:us-east-1:123456789012:function:{NEXT_CA_FUNCTION}");
        assert!(matches!(
            p.create("x", "arn:aws:lambda:us-east-1:1:function:mine"),
            Err(ProviderError::UnknownFunction(_))
        ));
        p.create("rotate", &arn).unwrap();
        assert_eq!(p.signer().certificate_pem, p.next.certificate_pem);
        assert_ne!(p.signer().certificate_pem, issuing);
        assert_eq!(
            p.create("rotate", &arn).err(),
            Some(ProviderError::Exists("rotate".into()))
        );
        assert_eq!(
            p.create("other", &arn).err(),
            Some(ProviderError::OneAlready("rotate".into()))
        );
        assert!(p.describe("other").is_none());
        assert_eq!(p.describe("rotate").unwrap().lambda_function_arn, arn);
        assert!(!p.delete("other"));
        assert!(p.delete("rotate"));
        assert_eq!(p.signer().certificate_pem, issuing);
    }
}
