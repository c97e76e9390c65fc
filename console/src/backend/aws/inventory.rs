//! Things, thing groups and policies: ListThings, ListThingGroups + ListThingsInThingGroup
//! (groups are few, so this is far fewer calls than ListThingGroupsForThing per thing), the
//! policies attached to each group, and ListPolicies. Each source's first call goes through
//! the small retry budget ([`super::budget`]).

use std::collections::HashMap;

use aws_sdk_iot::Client;
use tokio::sync::mpsc;

use super::budget::{ListingFailure, Outages};
use super::snapshot::{deliver, emit, finish};
use crate::backend::error::CallFailure;
use crate::backend::records::{GroupRecord, PolicyRecord, ThingRecord};
use crate::backend::update::{BackendUpdate, Source, SourceState};

/// The thing attribute that names the firmware version.
pub const FIRMWARE_ATTRIBUTE: &str = "firmware";
/// Things per [`BackendUpdate::Things`] page.
const PAGE: usize = 1000;

/// Loads groups (with membership and policies) and then things, as `(groups, things)` says;
/// reports each source loaded. The first call of each goes through `first` (the small retry
/// budget); a definite no is noted in `outages`.
pub(super) async fn load_things_and_groups(
    first: &Client,
    iot: &Client,
    (groups, things): (bool, bool),
    outages: &Outages,
    updates: &mpsc::Sender<BackendUpdate>,
) -> Vec<(Source, SourceState)> {
    let mut states = Vec::new();
    let mut membership = Membership::new();
    if groups {
        let state;
        (state, membership) = load_group_source(first, iot, outages, updates).await;
        states.push((Source::ThingGroups, state));
    }
    if things {
        let thing_state = match load_things(first, iot, &membership, updates).await {
            Ok(items) => SourceState::Loaded { items },
            Err(failure) => {
                outages.listing_failed(Source::Things, &failure);
                SourceState::Unavailable {
                    reason: failure.call.to_string(),
                }
            }
        };
        finish(updates, Source::Things, thing_state.clone()).await;
        states.push((Source::Things, thing_state));
    }
    states
}

async fn load_group_source(
    first: &Client,
    iot: &Client,
    outages: &Outages,
    updates: &mpsc::Sender<BackendUpdate>,
) -> (SourceState, Membership) {
    let (group_state, membership) = match load_groups(first, iot).await {
        Ok((groups, membership, failure)) => {
            let items = groups.len();
            emit(updates, BackendUpdate::ThingGroups(groups)).await;
            let state = match failure {
                None => SourceState::Loaded { items },
                Some(f) => SourceState::Partial {
                    items,
                    failed: 0,
                    reason: f.to_string(),
                },
            };
            (state, membership)
        }
        Err(failure) => {
            outages.first_call_failed(Source::ThingGroups, &failure);
            (
                SourceState::Unavailable {
                    reason: failure.to_string(),
                },
                HashMap::new(),
            )
        }
    };
    finish(updates, Source::ThingGroups, group_state.clone()).await;
    (group_state, membership)
}

type Membership = HashMap<String, Vec<String>>;

async fn load_groups(
    first: &Client,
    iot: &Client,
) -> Result<(Vec<GroupRecord>, Membership, Option<CallFailure>), CallFailure> {
    // Groups are few: the whole listing goes through the first call's budget.
    let listed = first
        .list_thing_groups()
        .max_results(250)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| CallFailure::from_sdk("iot:ListThingGroups", &e))?;
    let mut groups = Vec::with_capacity(listed.len());
    let mut membership: Membership = HashMap::new();
    let mut failure = None;
    for group in listed {
        let (Some(name), Some(arn)) = (group.group_name, group.group_arn) else {
            continue;
        };
        let things = iot
            .list_things_in_thing_group()
            .thing_group_name(&name)
            .max_results(250)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .unwrap_or_else(|e| {
                failure.get_or_insert(CallFailure::from_sdk("iot:ListThingsInThingGroup", &e));
                Vec::new()
            });
        let policies = iot
            .list_attached_policies()
            .target(&arn)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map(|ps| ps.into_iter().filter_map(|p| p.policy_name).collect())
            .unwrap_or_else(|e| {
                failure.get_or_insert(CallFailure::from_sdk("iot:ListAttachedPolicies", &e));
                Vec::new()
            });
        for thing in &things {
            membership
                .entry(thing.clone())
                .or_default()
                .push(name.clone());
        }
        groups.push(GroupRecord {
            name,
            arn,
            policies,
            thing_count: things.len(),
        });
    }
    Ok((groups, membership, failure))
}

async fn load_things(
    first: &Client,
    iot: &Client,
    membership: &Membership,
    updates: &mpsc::Sender<BackendUpdate>,
) -> Result<usize, ListingFailure> {
    let mut batch = Vec::with_capacity(PAGE);
    let mut count = 0;
    let mut next_token: Option<String> = None;
    let mut first_call = true;
    loop {
        let client = if first_call { first } else { iot };
        let page = client
            .list_things()
            .max_results(250)
            .set_next_token(next_token.take())
            .send()
            .await
            .map_err(|e| ListingFailure {
                call: CallFailure::from_sdk("iot:ListThings", &e),
                first_call,
            })?;
        first_call = false;
        for thing in page.things() {
            let Some(name) = thing.thing_name() else {
                continue;
            };
            batch.push(ThingRecord {
                name: name.to_owned(),
                thing_type: thing.thing_type_name().map(str::to_owned),
                firmware: thing
                    .attributes()
                    .and_then(|a| a.get(FIRMWARE_ATTRIBUTE))
                    .cloned(),
                groups: membership.get(name).cloned().unwrap_or_default(),
            });
            count += 1;
        }
        if batch.len() >= PAGE
            && !emit(updates, BackendUpdate::Things(std::mem::take(&mut batch))).await
        {
            return Ok(count);
        }
        match page.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
            _ => break,
        }
    }
    if !batch.is_empty() {
        emit(updates, BackendUpdate::Things(batch)).await;
    }
    Ok(count)
}

/// Loads the policy names (few: the whole listing goes through `first`, the first call's
/// budget); a definite no is noted in `outages`.
pub(super) async fn load_policies(
    first: &Client,
    outages: &Outages,
    updates: &mpsc::Sender<BackendUpdate>,
) -> SourceState {
    let read = first
        .list_policies()
        .page_size(250)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map(|policies| {
            policies
                .into_iter()
                .filter_map(|p| {
                    Some(PolicyRecord {
                        name: p.policy_name?,
                        arn: p.policy_arn,
                    })
                })
                .collect()
        })
        .map_err(|e| CallFailure::from_sdk("iot:ListPolicies", &e));
    if let Err(failure) = &read {
        outages.first_call_failed(Source::Policies, failure);
    }
    deliver(updates, Source::Policies, read, BackendUpdate::Policies).await
}
