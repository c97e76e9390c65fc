//! The detail of one device out of the model: chain, policies, groups, live state, history.

use crate::model::{FleetState, UnixTime};
use crate::tui::data::{DeviceDetail, LiveStatus, Look};

use super::common_name;

/// Longest CA chain followed (guards against a parent loop in bad data).
const MAX_CHAIN: usize = 8;

/// The detail of `thing`, or `None` when the model does not know it.
#[must_use]
pub fn device_detail(state: &FleetState, thing: &str, now: UnixTime) -> Option<DeviceDetail> {
    let view = state.thing(thing)?;
    let mut chain = Vec::new();
    let mut policies: Vec<Box<str>> = Vec::new();
    let mut history: Vec<(i64, Box<str>)> = Vec::new();
    for id in &view.certificates {
        let Some(cert) = state.certificate(id) else {
            continue;
        };
        let record = cert.record;
        let mut cas = Vec::new();
        let mut next = record.ca;
        while let Some(ca_id) = next.filter(|_| cas.len() < MAX_CHAIN) {
            let Some(ca) = state.cas().get(&ca_id) else {
                cas.push((
                    format!("CA {} (not registered)", ca_id.short(10)).into(),
                    "-".into(),
                    None,
                ));
                break;
            };
            let name = ca.parsed.as_ref().map_or_else(
                |_| format!("CA {}", ca_id.short(10)),
                |f| common_name(&f.subject).to_owned(),
            );
            cas.push((
                name.into(),
                ca.status.as_aws_str().into(),
                ca.parsed.as_ref().ok().map(|f| f.not_after.0),
            ));
            next = ca.parent;
        }
        cas.reverse();
        chain.extend(cas);
        chain.push((
            format!("certificate {}", record.id.short(16)).into(),
            record.status.label().into(),
            cert.not_after().map(|t| t.0),
        ));
        history.push((
            record.created.0,
            format!("certificate {} registered", record.id.short(12)).into(),
        ));
        if record.last_modified != record.created {
            history.push((
                record.last_modified.0,
                format!(
                    "certificate {} now {}",
                    record.id.short(12),
                    record.status.as_aws_str()
                )
                .into(),
            ));
        }
        for policy in state.policies().values() {
            let by_cert = policy.certificates.contains(id);
            let by_group = policy.groups.iter().any(|g| view.groups.contains(&&**g));
            if (by_cert || by_group) && !policies.contains(&policy.name) {
                policies.push(policy.name.clone());
            }
        }
    }
    for anomaly in state
        .anomalies()
        .values()
        .filter(|a| a.thing.as_deref() == Some(thing))
    {
        history.push((
            anomaly.at.0,
            format!("{} {}", anomaly.kind, anomaly.summary).into(),
        ));
    }
    history.sort_by_key(|entry| std::cmp::Reverse(entry.0));
    let live = view.last_seen.map(|seen| LiveStatus {
        state: match view.connected {
            Some(true) => "connected",
            Some(false) => "disconnected",
            None => "seen",
        }
        .into(),
        active_cert: view
            .certificates
            .first()
            .map_or_else(|| "-".into(), |c| c.short(16).into()),
        pending_cert: None,
        firmware: view.firmware.unwrap_or("-").into(),
        seen: seen.0.min(now.0),
        last_error: None,
    });
    Some(DeviceDetail {
        thing: view.name.into(),
        chain,
        policies: policies.into_iter().map(Into::into).collect(),
        groups: view.groups.iter().map(|g| (*g).into()).collect(),
        live,
        history: history
            .into_iter()
            .map(|(at, event)| (at, event.into()))
            .collect(),
    })
}
