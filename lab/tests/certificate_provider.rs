//! The account's certificate provider through the real aws-sdk-iot client against the lab's
//! HTTP API: CreateCertificateProvider with the lab's next-CA function makes the next CA sign
//! fleet provisioning CSRs (one provider per account, the name taken once, functions other
//! than the lab's CAs refused), ListCertificateProviders and DescribeCertificateProvider read
//! it back, and
//! DeleteCertificateProvider brings the issuing CA back.

#![allow(clippy::unwrap_used)] // a failed step should stop the test with its error

use std::sync::Arc;

use aws_config::BehaviorVersion;
use aws_sdk_iot::Client;
use aws_sdk_iot::config::{Credentials, Region};
use aws_sdk_iot::error::ProvideErrorMetadata;
use aws_sdk_iot::types::CertificateProviderOperation;
use fleetid_lab::api::{self, ACCESS_KEY_ID, ApiState, SECRET_ACCESS_KEY};
use fleetid_lab::certificate_provider::{CertificateProvider, NEXT_CA_FUNCTION};
use fleetid_lab::detector::Detector;
use fleetid_lab::pki::CertificateAuthority;
use fleetid_lab::registry::Registry;
use tokio::net::TcpListener;

fn function(name: &str) -> String {
    format!("arn:aws:lambda:us-east-1:123456789012:function:{name}")
}

#[tokio::test]
async fn a_certificate_provider_makes_the_next_ca_sign_until_it_is_deleted() {
    let root = CertificateAuthority::new_root("test root").unwrap();
    let issuing = Arc::new(root.new_intermediate("test issuing").unwrap());
    let next = Arc::new(root.new_intermediate("test next").unwrap());
    let provider = CertificateProvider::new(issuing.clone(), next.clone());
    let state = ApiState {
        registry: Registry::new(),
        detector: Detector::default(),
        issuing_ca: issuing.clone(),
        certificate_provider: provider.clone(),
        mqtt_endpoint: "127.0.0.1:8883".into(),
        connections: fleetid_lab::gateway::Connections::default(),
        metrics: fleetid_lab::metrics::Metrics::default(),
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(api::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            ACCESS_KEY_ID,
            SECRET_ACCESS_KEY,
            None,
            None,
            "test",
        ))
        .endpoint_url(&url)
        .load()
        .await;
    let iot = Client::new(&config);
    let create = |name: &str, lambda: String| {
        iot.create_certificate_provider()
            .certificate_provider_name(name)
            .lambda_function_arn(lambda)
            .account_default_for_operations(CertificateProviderOperation::CreateCertificateFromCsr)
            .send()
    };

    assert_eq!(provider.signer().certificate_pem, issuing.certificate_pem);
    let refused = create("mine", function("my-own-signer")).await.unwrap_err();
    assert_eq!(refused.code(), Some("InvalidRequestException"));

    let created = create("rotate-next", function(NEXT_CA_FUNCTION))
        .await
        .unwrap();
    assert_eq!(created.certificate_provider_name(), Some("rotate-next"));
    assert!(
        created
            .certificate_provider_arn()
            .unwrap()
            .ends_with(":certificateprovider/rotate-next")
    );
    assert_eq!(provider.signer().certificate_pem, next.certificate_pem);

    let again = create("rotate-next", function(NEXT_CA_FUNCTION))
        .await
        .unwrap_err();
    assert_eq!(again.code(), Some("ResourceAlreadyExistsException"));
    let second = create("another", function(NEXT_CA_FUNCTION))
        .await
        .unwrap_err();
    assert_eq!(second.code(), Some("LimitExceededException"));

    let listed = iot.list_certificate_providers().send().await.unwrap();
    let names: Vec<_> = listed
        .certificate_providers()
        .iter()
        .filter_map(|p| p.certificate_provider_name())
        .collect();
    assert_eq!(names, ["rotate-next"]);

    let described = iot
        .describe_certificate_provider()
        .certificate_provider_name("rotate-next")
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.lambda_function_arn(),
        Some(function(NEXT_CA_FUNCTION).as_str())
    );
    assert_eq!(
        described.account_default_for_operations(),
        &[CertificateProviderOperation::CreateCertificateFromCsr]
    );
    assert!(described.creation_date().is_some());

    iot.delete_certificate_provider()
        .certificate_provider_name("rotate-next")
        .send()
        .await
        .unwrap();
    assert_eq!(provider.signer().certificate_pem, issuing.certificate_pem);
    let gone = iot
        .describe_certificate_provider()
        .certificate_provider_name("rotate-next")
        .send()
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Some("ResourceNotFoundException"));
    let listed = iot.list_certificate_providers().send().await.unwrap();
    assert!(listed.certificate_providers().is_empty());
}
