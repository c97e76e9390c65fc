//! The caller's AWS account (sts:GetCallerIdentity) and the guard that refuses to talk to an
//! account other than the one the environment names in `account_id`.

use aws_config::SdkConfig;

use crate::backend::error::CallFailure;
use crate::exit;

/// Why fleetid refuses to start against AWS.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The credentials belong to another account than the configured one.
    #[error(
        "environment {environment:?} expects AWS account {expected}, but the credentials belong \
         to account {actual}; use the right --profile or fix account_id in config.toml"
    )]
    Mismatch {
        /// The environment's name.
        environment: String,
        /// `account_id` of the environment.
        expected: String,
        /// The account sts:GetCallerIdentity answered.
        actual: String,
    },
    /// The caller's account could not be read, so it could not be compared.
    #[error("checking the AWS account of environment {environment:?}: {failure}")]
    Lookup {
        /// The environment's name.
        environment: String,
        /// The failed sts:GetCallerIdentity.
        failure: CallFailure,
    },
}

impl AccountError {
    /// The exit code (docs/cli.md): a mismatch is a configuration error.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Mismatch { .. } => exit::CONFIG,
            Self::Lookup { .. } => exit::FAILURE,
        }
    }
}

/// Who the caller's credentials are (sts:GetCallerIdentity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// The account (12 digits).
    pub account: String,
    /// The principal's ARN (`arn:aws:sts::123456789012:assumed-role/oncall/alice`).
    pub arn: String,
}

/// The identity of the caller's credentials.
///
/// # Errors
/// The classified failure of sts:GetCallerIdentity.
pub async fn caller_identity(config: &SdkConfig) -> Result<CallerIdentity, CallFailure> {
    let sts = aws_sdk_sts::Client::new(config);
    let answer = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| CallFailure::from_sdk("sts:GetCallerIdentity", &e))?;
    Ok(CallerIdentity {
        account: answer.account().unwrap_or_default().to_owned(),
        arn: answer.arn().unwrap_or_default().to_owned(),
    })
}

/// The account of the caller's credentials.
///
/// # Errors
/// The classified failure of sts:GetCallerIdentity.
pub async fn caller_account(config: &SdkConfig) -> Result<String, CallFailure> {
    caller_identity(config)
        .await
        .map(|identity| identity.account)
}

/// Compares the caller's account with the environment's `account_id` (the context's account
/// guard calls it before any other AWS call).
///
/// # Errors
/// [`AccountError::Mismatch`] for another account.
pub(crate) fn compare(environment: &str, expected: &str, actual: &str) -> Result<(), AccountError> {
    if expected == actual {
        Ok(())
    } else {
        Err(AccountError::Mismatch {
            environment: environment.to_owned(),
            expected: expected.to_owned(),
            actual: actual.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mismatch_names_both_accounts_and_the_environment_and_exits_with_config() {
        assert!(compare("prod", "123456789012", "123456789012").is_ok());
        let err = compare("prod", "111111111111", "123456789012").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("\"prod\""), "{text}");
        assert!(
            text.contains("111111111111") && text.contains("123456789012"),
            "{text}"
        );
        assert_eq!(err.exit_code(), exit::CONFIG);
    }
}
