//! [`ControlPlane`] on aws-sdk-iot. Each write checks first (describe / list) so that a
//! re-run reports [`Change::Unchanged`] and writes nothing.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_iot::Client;
use aws_sdk_iot::types::{AttributePayload, CertificateStatus as SdkCertificateStatus};

use super::{control_plane_error, created, found};
use crate::control_plane::{
    CaCertificateRecord, CertificateRecord, CertificateStatus, Change, ControlPlane,
    ControlPlaneError, ControlPlaneErrorKind, ControlPlaneResult,
};

/// Most pages read from one list call (the lists here are a thing's principals, groups and a
/// certificate's policies: short).
const MAX_PAGES: usize = 20;

/// The AWS IoT control plane.
#[derive(Debug, Clone)]
pub struct AwsControlPlane {
    client: Client,
}

impl AwsControlPlane {
    /// Wraps an IoT client.
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// A client from shared AWS configuration.
    pub fn from_conf(config: &aws_config::SdkConfig) -> Self {
        Self::new(Client::new(config))
    }

    /// The wrapped client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn thing_principals(&self, thing_name: &str) -> ControlPlaneResult<Vec<String>> {
        let mut principals = Vec::new();
        let mut token = None;
        for _ in 0..MAX_PAGES {
            let out = self
                .client
                .list_thing_principals()
                .thing_name(thing_name)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| control_plane_error("ListThingPrincipals", thing_name, &e))?;
            principals.extend(out.principals().iter().cloned());
            token = out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        Ok(principals)
    }

    async fn attached_policies(&self, target: &str) -> ControlPlaneResult<Vec<String>> {
        let mut names = Vec::new();
        let mut marker = None;
        for _ in 0..MAX_PAGES {
            let out = self
                .client
                .list_attached_policies()
                .target(target)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| control_plane_error("ListAttachedPolicies", target, &e))?;
            names.extend(
                out.policies()
                    .iter()
                    .filter_map(|p| p.policy_name().map(str::to_owned)),
            );
            marker = out
                .next_marker()
                .filter(|m| !m.is_empty())
                .map(str::to_owned);
            if marker.is_none() {
                break;
            }
        }
        Ok(names)
    }

    async fn groups_of(&self, thing_name: &str) -> ControlPlaneResult<Vec<String>> {
        let mut names = Vec::new();
        let mut token = None;
        for _ in 0..MAX_PAGES {
            let out = self
                .client
                .list_thing_groups_for_thing()
                .thing_name(thing_name)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| control_plane_error("ListThingGroupsForThing", thing_name, &e))?;
            names.extend(
                out.thing_groups()
                    .iter()
                    .filter_map(|g| g.group_name().map(str::to_owned)),
            );
            token = out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        Ok(names)
    }
}

fn missing(operation: &'static str, resource: &str, field: &str) -> ControlPlaneError {
    ControlPlaneError::new(
        operation,
        resource,
        ControlPlaneErrorKind::Permanent,
        format!("response has no {field}"),
    )
}

impl ControlPlane for AwsControlPlane {
    async fn describe_certificate(
        &self,
        certificate_id: &str,
    ) -> ControlPlaneResult<CertificateRecord> {
        const OP: &str = "DescribeCertificate";
        let out = self
            .client
            .describe_certificate()
            .certificate_id(certificate_id)
            .send()
            .await
            .map_err(|e| control_plane_error(OP, certificate_id, &e))?;
        let description = out
            .certificate_description()
            .ok_or_else(|| missing(OP, certificate_id, "certificateDescription"))?;
        Ok(CertificateRecord {
            certificate_id: certificate_id.to_owned(),
            arn: description
                .certificate_arn()
                .ok_or_else(|| missing(OP, certificate_id, "certificateArn"))?
                .to_owned(),
            status: CertificateStatus::parse(
                description
                    .status()
                    .ok_or_else(|| missing(OP, certificate_id, "status"))?
                    .as_str(),
            ),
            pem: description.certificate_pem().unwrap_or_default().to_owned(),
            ca_certificate_id: description
                .ca_certificate_id()
                .filter(|id| !id.is_empty())
                .map(str::to_owned),
        })
    }

    async fn describe_ca_certificate(
        &self,
        ca_certificate_id: &str,
    ) -> ControlPlaneResult<CaCertificateRecord> {
        const OP: &str = "DescribeCACertificate";
        let out = self
            .client
            .describe_ca_certificate()
            .certificate_id(ca_certificate_id)
            .send()
            .await
            .map_err(|e| control_plane_error(OP, ca_certificate_id, &e))?;
        let description = out
            .certificate_description()
            .ok_or_else(|| missing(OP, ca_certificate_id, "certificateDescription"))?;
        Ok(CaCertificateRecord {
            certificate_id: ca_certificate_id.to_owned(),
            status: description
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            pem: description.certificate_pem().unwrap_or_default().to_owned(),
        })
    }

    async fn create_thing(
        &self,
        thing_name: &str,
        attributes: &BTreeMap<String, String>,
    ) -> ControlPlaneResult<Change> {
        let described = self
            .client
            .describe_thing()
            .thing_name(thing_name)
            .send()
            .await;
        if found("DescribeThing", thing_name, described)? {
            return Ok(Change::Unchanged);
        }
        let attributes: HashMap<String, String> = attributes.clone().into_iter().collect();
        let payload = AttributePayload::builder()
            .set_attributes(Some(attributes))
            .build();
        let result = self
            .client
            .create_thing()
            .thing_name(thing_name)
            .attribute_payload(payload)
            .send()
            .await;
        created("CreateThing", thing_name, result)
    }

    async fn attach_thing_principal(
        &self,
        thing_name: &str,
        principal_arn: &str,
    ) -> ControlPlaneResult<Change> {
        if self
            .thing_principals(thing_name)
            .await?
            .iter()
            .any(|p| p == principal_arn)
        {
            return Ok(Change::Unchanged);
        }
        self.client
            .attach_thing_principal()
            .thing_name(thing_name)
            .principal(principal_arn)
            .send()
            .await
            .map_err(|e| control_plane_error("AttachThingPrincipal", thing_name, &e))?;
        Ok(Change::Made)
    }

    async fn create_policy_if_missing(
        &self,
        policy_name: &str,
        document: &str,
    ) -> ControlPlaneResult<Change> {
        let described = self
            .client
            .get_policy()
            .policy_name(policy_name)
            .send()
            .await;
        if found("GetPolicy", policy_name, described)? {
            return Ok(Change::Unchanged);
        }
        let result = self
            .client
            .create_policy()
            .policy_name(policy_name)
            .policy_document(document)
            .send()
            .await;
        created("CreatePolicy", policy_name, result)
    }

    async fn attach_policy(
        &self,
        policy_name: &str,
        target_arn: &str,
    ) -> ControlPlaneResult<Change> {
        if self
            .attached_policies(target_arn)
            .await?
            .iter()
            .any(|p| p == policy_name)
        {
            return Ok(Change::Unchanged);
        }
        self.client
            .attach_policy()
            .policy_name(policy_name)
            .target(target_arn)
            .send()
            .await
            .map_err(|e| control_plane_error("AttachPolicy", policy_name, &e))?;
        Ok(Change::Made)
    }

    async fn update_certificate(
        &self,
        certificate_id: &str,
        status: CertificateStatus,
    ) -> ControlPlaneResult<()> {
        self.client
            .update_certificate()
            .certificate_id(certificate_id)
            .new_status(SdkCertificateStatus::from(status.as_str()))
            .send()
            .await
            .map_err(|e| control_plane_error("UpdateCertificate", certificate_id, &e))?;
        Ok(())
    }

    async fn add_thing_to_group(
        &self,
        thing_name: &str,
        group_name: &str,
    ) -> ControlPlaneResult<Change> {
        if self
            .groups_of(thing_name)
            .await?
            .iter()
            .any(|g| g == group_name)
        {
            return Ok(Change::Unchanged);
        }
        self.client
            .add_thing_to_thing_group()
            .thing_name(thing_name)
            .thing_group_name(group_name)
            .send()
            .await
            .map_err(|e| control_plane_error("AddThingToThingGroup", group_name, &e))?;
        Ok(Change::Made)
    }
}
