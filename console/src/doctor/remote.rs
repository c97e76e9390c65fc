//! `doctor`'s checks against AWS: credentials, region, the caller's account, the data
//! endpoint, and one smallest call of each read API fleetid uses, each failure classified by
//! the backend's [`CallFailure`] and turned into a fix hint naming the IAM action.

use std::error::Error as StdError;

use aws_config::SdkConfig;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_iot::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::backend::error::{CallFailure, FailureKind};
use crate::config::Environment;
use crate::render::{CheckOutcome, DoctorCheck};

use super::{account, check};

/// Whether fleetid works without the source a call feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// fleetid cannot list the fleet without it: a failure fails `doctor`.
    Required,
    /// Device Defender, CloudWatch, fleet indexing: a failure is a warning.
    Optional,
}

/// The check of one probed call.
#[must_use]
pub fn call_check(
    operation: &'static str,
    need: Need,
    result: Result<(), CallFailure>,
    profile: Option<&str>,
) -> DoctorCheck {
    let Err(failure) = result else {
        return check(operation, CheckOutcome::Pass, "ok".to_owned(), None);
    };
    let severe = if need == Need::Required {
        CheckOutcome::Fail
    } else {
        CheckOutcome::Warn
    };
    let detail = &failure.detail;
    let (outcome, detail, hint) = match failure.kind {
        FailureKind::Credentials => (
            CheckOutcome::Fail,
            format!("credentials rejected: {detail}"),
            format!(
                "refresh the credentials, e.g. `aws sso login --profile {}`",
                profile.unwrap_or("<profile>")
            ),
        ),
        FailureKind::Permission => (
            severe,
            format!("denied: {detail}"),
            format!("allow {operation} for this identity (docs/iam.md)"),
        ),
        FailureKind::NotEnabled => (
            CheckOutcome::Warn,
            format!("not enabled: {detail}"),
            format!("enable the feature behind {operation} in this account and region"),
        ),
        FailureKind::NotSupported => (
            severe,
            format!("not answered by this endpoint: {detail}"),
            "this endpoint (an emulator?) does not implement the call; fleetid shows the source as unavailable".to_owned(),
        ),
        FailureKind::Throttled => (
            CheckOutcome::Warn,
            format!("throttled: {detail}"),
            "retry later or lower describe_concurrency".to_owned(),
        ),
        FailureKind::Unreachable => (
            CheckOutcome::Fail,
            format!("no answer: {detail}"),
            "check --region, --endpoint-url and the network".to_owned(),
        ),
        FailureKind::Service => (
            severe,
            detail.clone(),
            format!("see the error of {operation} above"),
        ),
    };
    check(operation, outcome, detail, Some(&hint))
}

fn probed<T, E>(
    operation: &'static str,
    result: Result<T, SdkError<E, HttpResponse>>,
) -> Result<(), CallFailure>
where
    E: ProvideErrorMetadata + StdError + 'static,
{
    result
        .map(drop)
        .map_err(|e| CallFailure::from_sdk(operation, &e))
}

/// Every check against AWS, in order; stops after credentials or region when those fail.
pub async fn remote_checks(env: &Environment, config: &SdkConfig) -> Vec<DoctorCheck> {
    let profile = env.settings.profile.as_deref();
    let mut out = Vec::new();
    let credentials = match config.credentials_provider() {
        None => Err("no credentials provider found".to_owned()),
        Some(provider) => provider
            .provide_credentials()
            .await
            .map(drop)
            .map_err(|e| aws_sdk_iot::error::DisplayErrorContext(e).to_string()),
    };
    out.push(match credentials {
        Ok(()) => check(
            "credentials",
            CheckOutcome::Pass,
            "resolved".to_owned(),
            None,
        ),
        Err(reason) => check(
            "credentials",
            CheckOutcome::Fail,
            reason,
            Some(&format!(
                "log in (`aws sso login --profile {}`) or set AWS_PROFILE / the AWS_* variables",
                profile.unwrap_or("<profile>")
            )),
        ),
    });
    out.push(match config.region() {
        Some(region) => check("aws region", CheckOutcome::Pass, region.to_string(), None),
        None => check(
            "aws region",
            CheckOutcome::Fail,
            "no region from flags, config.toml, AWS_REGION or the profile".to_owned(),
            Some("pass --region or set region in config.toml"),
        ),
    });
    if out.iter().any(|c| c.outcome == CheckOutcome::Fail) {
        return out;
    }
    out.push(match account::caller_account(config).await {
        Ok(actual) => match &env.settings.account_id {
            Some(expected) if *expected != actual => check(
                "account",
                CheckOutcome::Fail,
                format!(
                    "{actual}, but environment {:?} expects {expected}",
                    env.name
                ),
                Some("use the right --profile or fix account_id in config.toml"),
            ),
            _ => check("account", CheckOutcome::Pass, actual, None),
        },
        Err(failure) => call_check(
            "sts:GetCallerIdentity",
            Need::Required,
            Err(failure),
            profile,
        ),
    });
    let iot = aws_sdk_iot::Client::new(config);
    let endpoint = iot
        .describe_endpoint()
        .endpoint_type("iot:Data-ATS")
        .send()
        .await;
    out.push(match endpoint {
        Ok(answer) => check(
            "iot:DescribeEndpoint",
            CheckOutcome::Pass,
            format!(
                "data endpoint {}",
                answer.endpoint_address().unwrap_or("(none)")
            ),
            None,
        ),
        Err(e) => call_check(
            "iot:DescribeEndpoint",
            Need::Required,
            probed("iot:DescribeEndpoint", Err::<(), _>(e)),
            profile,
        ),
    });
    let required = [
        (
            "iot:ListCertificates",
            probed(
                "iot:ListCertificates",
                iot.list_certificates().page_size(1).send().await,
            ),
        ),
        (
            "iot:ListCACertificates",
            probed(
                "iot:ListCACertificates",
                iot.list_ca_certificates().page_size(1).send().await,
            ),
        ),
        (
            "iot:ListThings",
            probed(
                "iot:ListThings",
                iot.list_things().max_results(1).send().await,
            ),
        ),
        (
            "iot:ListThingGroups",
            probed(
                "iot:ListThingGroups",
                iot.list_thing_groups().max_results(1).send().await,
            ),
        ),
        (
            "iot:ListPolicies",
            probed(
                "iot:ListPolicies",
                iot.list_policies().page_size(1).send().await,
            ),
        ),
    ];
    for (operation, result) in required {
        out.push(call_check(operation, Need::Required, result, profile));
    }
    let optional = [
        (
            "iot:ListActiveViolations",
            probed(
                "iot:ListActiveViolations",
                iot.list_active_violations().max_results(1).send().await,
            ),
        ),
        (
            "iot:ListAuditFindings",
            probed(
                "iot:ListAuditFindings",
                iot.list_audit_findings().max_results(1).send().await,
            ),
        ),
        (
            "iot:GetIndexingConfiguration",
            probed(
                "iot:GetIndexingConfiguration",
                iot.get_indexing_configuration().send().await,
            ),
        ),
    ];
    for (operation, result) in optional {
        out.push(call_check(operation, Need::Optional, result, profile));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(kind: FailureKind) -> Result<(), CallFailure> {
        Err(CallFailure {
            operation: "iot:ListCertificates",
            kind,
            detail: "HTTP 403: AccessDeniedException".to_owned(),
            code: None,
            request_id: None,
        })
    }

    #[test]
    fn classification_maps_to_outcome_and_hint() {
        let denied = call_check(
            "iot:ListCertificates",
            Need::Required,
            failure(FailureKind::Permission),
            None,
        );
        assert_eq!(denied.outcome, CheckOutcome::Fail);
        assert!(denied.detail.starts_with("denied"));
        assert!(
            denied
                .hint
                .as_deref()
                .unwrap()
                .contains("allow iot:ListCertificates")
        );
        let optional = call_check(
            "iot:ListAuditFindings",
            Need::Optional,
            failure(FailureKind::Permission),
            None,
        );
        assert_eq!(optional.outcome, CheckOutcome::Warn);
        let missing = call_check(
            "iot:ListAuditFindings",
            Need::Optional,
            failure(FailureKind::NotSupported),
            None,
        );
        assert_eq!(missing.outcome, CheckOutcome::Warn);
        assert!(missing.detail.starts_with("not answered by this endpoint"));
        let expired = call_check(
            "iot:ListAuditFindings",
            Need::Optional,
            failure(FailureKind::Credentials),
            Some("prod"),
        );
        assert_eq!(expired.outcome, CheckOutcome::Fail);
        assert!(
            expired
                .hint
                .as_deref()
                .unwrap()
                .contains("aws sso login --profile prod")
        );
        let ok = call_check("iot:ListThings", Need::Required, Ok(()), None);
        assert_eq!((ok.outcome, ok.detail.as_str()), (CheckOutcome::Pass, "ok"));
    }
}
