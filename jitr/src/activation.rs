//! The manifest rules (known, matching, not recalled, sold, firmware recent enough) and what
//! an activation then gives: thing name, policy, groups and sanitized attributes.

use std::collections::BTreeMap;

use crate::certificate::Rejection;
use crate::config::JitrConfig;
use crate::decision::{Decision, PolicySpec};
use crate::manifest::ManifestEntry;
use crate::reason::RejectReason;

/// Rules 15 and 17-20 of docs/jitr.md, then the activation.
pub(crate) fn check_manifest(
    device_id: &str,
    manifest: Option<&ManifestEntry>,
    config: &JitrConfig,
) -> Result<Decision, Rejection> {
    let entry = manifest.ok_or_else(|| {
        Rejection::new(
            RejectReason::UnknownDevice,
            format!("device {device_id} is not in the manifest"),
        )
    })?;
    if entry.device_id != device_id {
        return Err(Rejection::new(
            RejectReason::ManifestMismatch,
            format!(
                "manifest entry is for device {}, the certificate is {device_id}",
                entry.device_id
            ),
        ));
    }
    if entry.recalled {
        return Err(Rejection::new(
            RejectReason::Recalled,
            format!("device {device_id} is recalled"),
        ));
    }
    if entry.status != crate::manifest::SaleStatus::Sold {
        return Err(Rejection::new(
            RejectReason::NotSold,
            format!("device {device_id} is {}", entry.status.as_str()),
        ));
    }
    if let Some(minimum) = config.min_firmware.get(&entry.model)
        && entry.firmware < *minimum
    {
        return Err(Rejection::new(
            RejectReason::FirmwareTooOld,
            format!(
                "firmware {} is older than {minimum}, the minimum for model {}",
                entry.firmware, entry.model
            ),
        ));
    }
    let thing = format!("{}{device_id}", config.thing_name_prefix);
    let mut groups = config.thing_groups.clone();
    for group in &entry.groups {
        if !groups.contains(group) {
            groups.push(group.clone());
        }
    }
    let mut attributes = BTreeMap::new();
    attributes.insert("model".to_owned(), attribute_value(&entry.model));
    attributes.insert("firmware".to_owned(), entry.firmware.to_string());
    if let Some(batch) = &entry.batch {
        attributes.insert("batch".to_owned(), attribute_value(batch));
    }
    Ok(Decision::Activate {
        policy: PolicySpec {
            name: config.policy_name.replace("{thing}", &thing),
            document: config.policy_document.replace("{thing}", &thing),
        },
        thing,
        groups,
        attributes,
    })
}

/// Thing attribute values allow `[a-zA-Z0-9_.,@/:#=\[\]-]`, at most 800 characters; anything
/// else becomes `_`.
fn attribute_value(text: &str) -> String {
    text.chars()
        .take(800)
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_.,@/:#=[]-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_values_are_sanitized() {
        assert_eq!(attribute_value("sensor \"b\"/v2"), "sensor__b_/v2");
    }
}
