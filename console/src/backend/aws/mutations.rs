//! The mutations against aws-sdk-iot and aws-sdk-iotdataplane, and the reads that verify them.
//! Each mutation is one API call, needs a [`MutationPermit`] and returns the call's request
//! id; planning, confirmation, journaling and verification belong to the ops code.

use aws_sdk_iot::operation::RequestId;
use aws_sdk_iot::types::{AutoRegistrationStatus, CaCertificateStatus, CertificateStatus};

use super::AwsBackend;
use crate::backend::error::{BackendError, CallFailure, FailureKind};
use crate::backend::mutations::{
    CaReadBack, CertificateReadBack, PolicyCreated, Receipt, SessionCut,
};
use crate::context::MutationPermit;
use crate::model::{CaStatus, CertStatus, NewCertificateStatus};

fn receipt(output: &impl RequestId) -> Receipt {
    Receipt {
        request_id: output.request_id().map(str::to_owned),
    }
}

impl AwsBackend {
    /// Sets a certificate's status (ACTIVE, INACTIVE, or the final REVOKED).
    ///
    /// # Errors
    /// [`BackendError::Call`] with the classified AWS failure.
    pub async fn update_certificate_status(
        &self,
        _permit: &MutationPermit,
        certificate_id: &str,
        status: NewCertificateStatus,
    ) -> Result<Receipt, BackendError> {
        let out = self
            .iot
            .update_certificate()
            .certificate_id(certificate_id)
            .new_status(CertificateStatus::from(status.as_str()))
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:UpdateCertificate", &e))?;
        Ok(receipt(&out))
    }

    /// Changes a CA certificate: INACTIVE (`deactivate`) and/or auto-registration DISABLE.
    /// AWS IoT has no REVOKED status for a CA.
    ///
    /// # Errors
    /// [`BackendError::Call`].
    pub async fn update_ca_certificate(
        &self,
        _permit: &MutationPermit,
        ca_certificate_id: &str,
        deactivate: bool,
        disable_auto_registration: bool,
    ) -> Result<Receipt, BackendError> {
        let mut call = self
            .iot
            .update_ca_certificate()
            .certificate_id(ca_certificate_id);
        if deactivate {
            call = call.new_status(CaCertificateStatus::Inactive);
        }
        if disable_auto_registration {
            call = call.new_auto_registration_status(AutoRegistrationStatus::Disable);
        }
        let out = call
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:UpdateCACertificate", &e))?;
        Ok(receipt(&out))
    }

    /// Attaches a policy to a target ARN (certificate or thing group).
    ///
    /// # Errors
    /// [`BackendError::Call`].
    pub async fn attach_policy(
        &self,
        _permit: &MutationPermit,
        policy_name: &str,
        target_arn: &str,
    ) -> Result<Receipt, BackendError> {
        let out = self
            .iot
            .attach_policy()
            .policy_name(policy_name)
            .target(target_arn)
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:AttachPolicy", &e))?;
        Ok(receipt(&out))
    }

    /// Detaches a policy from a target ARN.
    ///
    /// # Errors
    /// [`BackendError::Call`].
    pub async fn detach_policy(
        &self,
        _permit: &MutationPermit,
        policy_name: &str,
        target_arn: &str,
    ) -> Result<Receipt, BackendError> {
        let out = self
            .iot
            .detach_policy()
            .policy_name(policy_name)
            .target(target_arn)
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:DetachPolicy", &e))?;
        Ok(receipt(&out))
    }

    /// Creates a policy (its version 1 becomes the default).
    ///
    /// # Errors
    /// [`BackendError::Call`]; an existing name is `ResourceAlreadyExistsException`.
    pub async fn create_policy(
        &self,
        _permit: &MutationPermit,
        policy_name: &str,
        document: &str,
    ) -> Result<PolicyCreated, BackendError> {
        let out = self
            .iot
            .create_policy()
            .policy_name(policy_name)
            .policy_document(document)
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:CreatePolicy", &e))?;
        Ok(PolicyCreated {
            arn: out
                .policy_arn()
                .ok_or(BackendError::MissingField {
                    operation: "iot:CreatePolicy",
                    field: "policyArn",
                })?
                .to_owned(),
            version: out.policy_version_id().unwrap_or("1").to_owned(),
            receipt: receipt(&out),
        })
    }

    /// Creates a static thing group (AWS answers an existing one with the same properties
    /// as created).
    ///
    /// # Errors
    /// [`BackendError::Call`].
    pub async fn create_thing_group(
        &self,
        _permit: &MutationPermit,
        group: &str,
    ) -> Result<Receipt, BackendError> {
        let out = self
            .iot
            .create_thing_group()
            .thing_group_name(group)
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:CreateThingGroup", &e))?;
        Ok(receipt(&out))
    }

    /// Adds a thing to a static thing group.
    ///
    /// # Errors
    /// [`BackendError::Call`].
    pub async fn add_thing_to_group(
        &self,
        _permit: &MutationPermit,
        thing: &str,
        group: &str,
    ) -> Result<Receipt, BackendError> {
        let out = self
            .iot
            .add_thing_to_thing_group()
            .thing_name(thing)
            .thing_group_name(group)
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:AddThingToThingGroup", &e))?;
        Ok(receipt(&out))
    }

    /// Removes a thing from a static thing group.
    ///
    /// # Errors
    /// [`BackendError::Call`].
    pub async fn remove_thing_from_group(
        &self,
        _permit: &MutationPermit,
        thing: &str,
        group: &str,
    ) -> Result<Receipt, BackendError> {
        let out = self
            .iot
            .remove_thing_from_thing_group()
            .thing_name(thing)
            .thing_group_name(group)
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:RemoveThingFromThingGroup", &e))?;
        Ok(receipt(&out))
    }

    /// Closes the MQTT session of `client_id` at once (the data plane's DeleteConnection).
    /// An endpoint that does not answer the operation is [`SessionCut::NotSupported`], not an
    /// error: the certificate status and the deny-all policy still take effect, only later.
    ///
    /// # Errors
    /// [`BackendError::Call`] for any other failure.
    pub async fn delete_connection(
        &self,
        _permit: &MutationPermit,
        client_id: &str,
    ) -> Result<SessionCut, BackendError> {
        if let Some(reason) = self.no_session_cut.get() {
            return Ok(SessionCut::NotSupported(reason.clone()));
        }
        let unsupported = |reason: String| {
            let _ = self.no_session_cut.set(reason.clone());
            Ok(SessionCut::NotSupported(reason))
        };
        let data = match self.data_plane().await {
            Ok(data) => data,
            Err(e) => return unsupported(e.to_string()),
        };
        match data
            .delete_connection()
            .client_id(client_id)
            .prevent_will_message(false)
            .send()
            .await
        {
            Ok(out) => Ok(SessionCut::Cut(receipt(&out))),
            Err(e) => {
                let failure = CallFailure::from_sdk("iot:DeleteConnection", &e);
                match (failure.code.as_deref(), failure.kind) {
                    (Some("ResourceNotFoundException"), _) => {
                        Ok(SessionCut::NotConnected(Receipt {
                            request_id: failure.request_id,
                        }))
                    }
                    (_, FailureKind::NotSupported) => unsupported(failure.detail),
                    _ => Err(failure.into()),
                }
            }
        }
    }

    /// Reads a certificate's ARN and status back.
    ///
    /// # Errors
    /// [`BackendError::Call`].
    pub async fn describe_certificate(
        &self,
        certificate_id: &str,
    ) -> Result<CertificateReadBack, BackendError> {
        let out = self
            .iot
            .describe_certificate()
            .certificate_id(certificate_id)
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:DescribeCertificate", &e))?;
        let description = out
            .certificate_description()
            .ok_or(BackendError::MissingField {
                operation: "iot:DescribeCertificate",
                field: "certificateDescription",
            })?;
        Ok(CertificateReadBack {
            arn: description.certificate_arn().unwrap_or_default().to_owned(),
            status: CertStatus::from_aws_str(
                description.status().map_or("", CertificateStatus::as_str),
            ),
        })
    }

    /// Reads a CA certificate's status and auto-registration back.
    ///
    /// # Errors
    /// [`BackendError::Call`].
    pub async fn describe_ca(&self, ca_certificate_id: &str) -> Result<CaReadBack, BackendError> {
        let out = self
            .iot
            .describe_ca_certificate()
            .certificate_id(ca_certificate_id)
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:DescribeCACertificate", &e))?;
        let description = out
            .certificate_description()
            .ok_or(BackendError::MissingField {
                operation: "iot:DescribeCACertificate",
                field: "certificateDescription",
            })?;
        Ok(CaReadBack {
            status: CaStatus::from_aws_str(
                description.status().map_or("", CaCertificateStatus::as_str),
            ),
            auto_registration: description.auto_registration_status()
                == Some(&AutoRegistrationStatus::Enable),
        })
    }

    /// Ids of the certificates registered under a CA (ListCertificatesByCA, every page).
    ///
    /// # Errors
    /// [`BackendError::Call`].
    pub async fn certificates_by_ca(
        &self,
        ca_certificate_id: &str,
    ) -> Result<Vec<String>, BackendError> {
        let certificates = self
            .iot
            .list_certificates_by_ca()
            .ca_certificate_id(ca_certificate_id)
            .page_size(250)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:ListCertificatesByCA", &e))?;
        Ok(certificates
            .into_iter()
            .filter_map(|c| c.certificate_id)
            .collect())
    }

    /// Names of the policies attached to `target_arn` (first 250).
    ///
    /// # Errors
    /// [`BackendError::Call`].
    pub async fn attached_policies(&self, target_arn: &str) -> Result<Vec<String>, BackendError> {
        let out = self
            .iot
            .list_attached_policies()
            .target(target_arn)
            .page_size(250)
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:ListAttachedPolicies", &e))?;
        Ok(out
            .policies()
            .iter()
            .filter_map(|p| p.policy_name().map(str::to_owned))
            .collect())
    }

    /// Names of the thing groups `thing` is in (first 250).
    ///
    /// # Errors
    /// [`BackendError::Call`].
    pub async fn thing_groups_of(&self, thing: &str) -> Result<Vec<String>, BackendError> {
        let out = self
            .iot
            .list_thing_groups_for_thing()
            .thing_name(thing)
            .max_results(250)
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:ListThingGroupsForThing", &e))?;
        Ok(out
            .thing_groups()
            .iter()
            .filter_map(|g| g.group_name().map(str::to_owned))
            .collect())
    }
}
