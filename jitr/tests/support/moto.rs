//! Access to the moto server that `scripts/test` starts (AWS IoT and DynamoDB APIs).

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_iot::config::Credentials;
use fleetid_jitr::AwsControlPlane;
use fleetid_jitr::manifest::DynamoDbManifest;

use super::pki::TestCa;
use super::unique;

/// SDK configuration pointing at moto. Fails the test when `FLEETID_MOTO_URL` is unset.
pub async fn sdk_config() -> SdkConfig {
    let url = std::env::var("FLEETID_MOTO_URL").unwrap_or_else(|_| {
        panic!(
            "FLEETID_MOTO_URL is not set: this test needs a moto server. Run scripts/test, \
             which starts one, or start moto_server by hand and export FLEETID_MOTO_URL"
        )
    });
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .load()
        .await
}

/// Everything one test needs on moto, with fresh names.
pub struct MotoFleet {
    pub iot: aws_sdk_iot::Client,
    pub control_plane: AwsControlPlane,
    pub ca: TestCa,
    pub ca_id: String,
}

impl MotoFleet {
    /// Registers a fresh CA (its own random name) with auto-registration enabled.
    pub async fn new() -> Self {
        let config = sdk_config().await;
        let iot = aws_sdk_iot::Client::new(&config);
        let ca = TestCa::p256(&unique("Fleet CA"));
        let out = iot
            .register_ca_certificate()
            .ca_certificate(&ca.pem)
            .set_as_active(true)
            .allow_auto_registration(true)
            .send()
            .await
            .expect("RegisterCACertificate on moto");
        let ca_id = out.certificate_id().expect("CA id").to_owned();
        Self {
            control_plane: AwsControlPlane::new(iot.clone()),
            iot,
            ca,
            ca_id,
        }
    }

    /// Registers a device certificate as JITR would find it: PENDING_ACTIVATION.
    pub async fn register_pending(&self, pem: &str) -> String {
        let out = self
            .iot
            .register_certificate()
            .certificate_pem(pem)
            .ca_certificate_pem(&self.ca.pem)
            .status(aws_sdk_iot::types::CertificateStatus::PendingActivation)
            .send()
            .await
            .expect("RegisterCertificate on moto");
        out.certificate_id().expect("certificate id").to_owned()
    }

    /// Creates a static thing group with a fresh name.
    pub async fn thing_group(&self) -> String {
        let name = unique("group");
        self.iot
            .create_thing_group()
            .thing_group_name(&name)
            .send()
            .await
            .expect("CreateThingGroup on moto");
        name
    }

    /// The certificate's status as moto reports it.
    pub async fn status(&self, certificate_id: &str) -> String {
        let out = self
            .iot
            .describe_certificate()
            .certificate_id(certificate_id)
            .send()
            .await
            .expect("DescribeCertificate on moto");
        let description = out.certificate_description().expect("description");
        description.status().expect("status").as_str().to_owned()
    }
}

/// A fresh manifest table on moto.
pub async fn manifest_table() -> DynamoDbManifest {
    let config = sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let table = unique("manifest");
    client
        .create_table()
        .table_name(&table)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("device_id")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute definition"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("device_id")
                .key_type(KeyType::Hash)
                .build()
                .expect("key schema"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("CreateTable on moto");
    DynamoDbManifest::new(client, table)
}
