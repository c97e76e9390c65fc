//! What certificates are attached to. Policies come from the policy side — ListPolicies, then
//! ListTargetsForPolicy per policy (pages of 250) — so a refresh learns every certificate's
//! policies in a few calls per policy, not one per certificate, and sends only the
//! certificates whose policies changed. Things come from ListPrincipalThings, asked only for
//! certificates that are new or whose status changed. When the policy side cannot be read,
//! ListAttachedPolicies is asked per new or changed certificate instead.

use std::collections::{HashMap, HashSet};

use aws_sdk_iot::Client;
use aws_sdk_iot::operation::list_targets_for_policy::ListTargetsForPolicyError;
use tokio::task::JoinSet;

use crate::backend::error::CallFailure;

/// Certificate id -> names of the policies attached to it, sorted.
pub(super) type PoliciesByCertificate = HashMap<String, Vec<String>>;

/// Policies whose targets are read at once.
const POLICIES_AT_ONCE: usize = 4;

/// The certificate id of a policy target, when the target is a certificate
/// (`arn:aws:iot:<region>:<account>:cert/<id>`; groups and Cognito identities are not).
fn certificate_of_target(target: &str) -> Option<&str> {
    target
        .rsplit_once(":cert/")
        .map(|(_, id)| id)
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

/// Every certificate's policies, from the policy side. `first` makes the first call (the
/// small retry budget), `iot` the others.
pub(super) async fn policies_by_certificate(
    first: &Client,
    iot: &Client,
) -> Result<PoliciesByCertificate, CallFailure> {
    let mut names = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let client = if names.is_empty() && marker.is_none() {
            first
        } else {
            iot
        };
        let page = client
            .list_policies()
            .page_size(250)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| CallFailure::from_sdk("iot:ListPolicies", &e))?;
        names.extend(
            page.policies()
                .iter()
                .filter_map(|p| p.policy_name().map(str::to_owned)),
        );
        match page.next_marker() {
            Some(next) if !next.is_empty() => marker = Some(next.to_owned()),
            _ => break,
        }
    }

    let mut by_certificate = PoliciesByCertificate::new();
    let mut tasks = JoinSet::new();
    let mut pending = names.into_iter();
    loop {
        while tasks.len() < POLICIES_AT_ONCE {
            let Some(name) = pending.next() else { break };
            let iot = iot.clone();
            tasks.spawn(async move {
                let targets = targets_of(&iot, &name).await;
                (name, targets)
            });
        }
        let Some(joined) = tasks.join_next().await else {
            break;
        };
        let (name, targets) = joined.map_err(|e| CallFailure {
            operation: "iot:ListTargetsForPolicy",
            kind: crate::backend::error::FailureKind::Service,
            detail: format!("the listing task failed: {e}"),
            code: None,
            request_id: None,
        })?;
        // A policy deleted between the two listings has no targets.
        for target in targets?.unwrap_or_default() {
            if let Some(id) = certificate_of_target(&target) {
                by_certificate
                    .entry(id.to_owned())
                    .or_default()
                    .push(name.clone());
            }
        }
    }
    for policies in by_certificate.values_mut() {
        policies.sort_unstable();
        policies.dedup();
    }
    Ok(by_certificate)
}

/// The targets of one policy; `None` when the policy no longer exists.
async fn targets_of(iot: &Client, policy: &str) -> Result<Option<Vec<String>>, CallFailure> {
    let mut targets = Vec::new();
    let mut pages = iot
        .list_targets_for_policy()
        .policy_name(policy)
        .page_size(250)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        match page {
            Ok(page) => targets.extend(page.targets().iter().cloned()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(ListTargetsForPolicyError::is_resource_not_found_exception) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(CallFailure::from_sdk("iot:ListTargetsForPolicy", &e)),
        }
    }
    Ok(Some(targets))
}

/// The known certificates (of `listed`) whose policies differ from what is known, with their
/// policies now. `known_targets` is policy name -> certificate ids as the cache holds them.
pub(super) fn changed_policies(
    known_targets: &HashMap<String, HashSet<String>>,
    now: &PoliciesByCertificate,
    listed_known: impl Iterator<Item = String>,
) -> Vec<(String, Vec<String>)> {
    let mut known: HashMap<&str, Vec<&str>> = HashMap::new();
    for (policy, ids) in known_targets {
        for id in ids {
            known.entry(id.as_str()).or_default().push(policy.as_str());
        }
    }
    for policies in known.values_mut() {
        policies.sort_unstable();
    }
    listed_known
        .filter_map(|id| {
            let current = now.get(&id).map_or(&[][..], Vec::as_slice);
            let before = known.get(id.as_str()).map_or(&[][..], Vec::as_slice);
            (current != before).then(|| (id, current.to_vec()))
        })
        .collect()
}

/// The things a certificate is attached to.
pub(super) async fn principal_things(iot: &Client, arn: &str) -> Result<Vec<String>, CallFailure> {
    iot.list_principal_things()
        .principal(arn)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| CallFailure::from_sdk("iot:ListPrincipalThings", &e))
}

/// The policies attached to one certificate (when the policy side cannot be read).
pub(super) async fn attached_policies(iot: &Client, arn: &str) -> Result<Vec<String>, CallFailure> {
    let mut policies: Vec<String> = iot
        .list_attached_policies()
        .target(arn)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| CallFailure::from_sdk("iot:ListAttachedPolicies", &e))?
        .into_iter()
        .filter_map(|p| p.policy_name)
        .collect();
    policies.sort_unstable();
    Ok(policies)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_certificate_targets_are_read() {
        assert_eq!(
            certificate_of_target("arn:aws:iot:eu-west-1:123456789012:cert/abc123"),
            Some("abc123")
        );
        assert_eq!(
            certificate_of_target("arn:aws:iot:eu-west-1:123456789012:thinggroup/quarantine"),
            None
        );
        assert_eq!(
            certificate_of_target("eu-west-1:7b0c0f5e-cognito-identity"),
            None
        );
    }

    #[test]
    fn only_certificates_whose_policies_changed_are_sent() {
        let known_targets = HashMap::from([
            (
                "device".to_owned(),
                HashSet::from(["a".to_owned(), "b".to_owned(), "c".to_owned()]),
            ),
            ("debug".to_owned(), HashSet::from(["c".to_owned()])),
        ]);
        let now = PoliciesByCertificate::from([
            ("a".to_owned(), vec!["device".to_owned()]),
            // b gained deny-all; c lost debug; d is new (not known: sent with its record).
            (
                "b".to_owned(),
                vec!["deny-all".to_owned(), "device".to_owned()],
            ),
            ("c".to_owned(), vec!["device".to_owned()]),
            ("d".to_owned(), vec!["device".to_owned()]),
        ]);
        let mut changed = changed_policies(
            &known_targets,
            &now,
            ["a", "b", "c"].into_iter().map(str::to_owned),
        );
        changed.sort();
        assert_eq!(
            changed,
            vec![
                (
                    "b".to_owned(),
                    vec!["deny-all".to_owned(), "device".to_owned()]
                ),
                ("c".to_owned(), vec!["device".to_owned()]),
            ]
        );
        // A known certificate whose last policy was detached is sent with none.
        let detached = changed_policies(
            &known_targets,
            &PoliciesByCertificate::new(),
            std::iter::once("a".to_owned()),
        );
        assert_eq!(detached, vec![("a".to_owned(), Vec::new())]);
    }
}
