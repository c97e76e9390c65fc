//! The manifest as a DynamoDB table (feature `aws`).
//!
//! One item per device, partition key `device_id` (S). Attributes: `model` (S), `status` (S:
//! `in_stock` | `sold`), `recalled` (BOOL, optional, default false), `firmware` (S, dotted
//! decimal), `batch` (S, optional), `groups` (SS or L of S, optional). Reads are strongly
//! consistent so a device marked sold a moment ago is seen as sold.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::{ManifestEntry, ManifestError, ManifestSource, SaleStatus};

/// The partition key attribute.
pub const KEY_ATTRIBUTE: &str = "device_id";

/// A manifest table.
#[derive(Debug, Clone)]
pub struct DynamoDbManifest {
    client: Client,
    table: String,
}

impl DynamoDbManifest {
    /// Reads `table` with `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Writes (or replaces) one entry: for loading a manifest and for tests. The JITR Lambda
    /// itself only reads.
    pub async fn put(&self, entry: &ManifestEntry) -> Result<(), ManifestError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(entry)))
            .send()
            .await
            .map_err(|e| ManifestError::Unavailable {
                device_id: entry.device_id.clone(),
                message: format!(
                    "PutItem into {}: {}",
                    self.table,
                    aws_sdk_dynamodb::error::DisplayErrorContext(&e)
                ),
            })?;
        Ok(())
    }
}

impl ManifestSource for DynamoDbManifest {
    async fn lookup(&self, device_id: &str) -> Result<Option<ManifestEntry>, ManifestError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(KEY_ATTRIBUTE, AttributeValue::S(device_id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| ManifestError::Unavailable {
                device_id: device_id.to_owned(),
                message: format!(
                    "GetItem from {}: {}",
                    self.table,
                    aws_sdk_dynamodb::error::DisplayErrorContext(&e)
                ),
            })?;
        out.item()
            .map(|item| {
                from_item(device_id, item).map_err(|message| ManifestError::InvalidEntry {
                    device_id: device_id.to_owned(),
                    message,
                })
            })
            .transpose()
    }
}

fn to_item(entry: &ManifestEntry) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::from([
        (
            KEY_ATTRIBUTE.to_owned(),
            AttributeValue::S(entry.device_id.clone()),
        ),
        ("model".to_owned(), AttributeValue::S(entry.model.clone())),
        (
            "status".to_owned(),
            AttributeValue::S(entry.status.as_str().to_owned()),
        ),
        ("recalled".to_owned(), AttributeValue::Bool(entry.recalled)),
        (
            "firmware".to_owned(),
            AttributeValue::S(entry.firmware.to_string()),
        ),
    ]);
    if let Some(batch) = &entry.batch {
        item.insert("batch".to_owned(), AttributeValue::S(batch.clone()));
    }
    if !entry.groups.is_empty() {
        item.insert(
            "groups".to_owned(),
            AttributeValue::Ss(entry.groups.clone()),
        );
    }
    item
}

fn from_item(
    device_id: &str,
    item: &HashMap<String, AttributeValue>,
) -> Result<ManifestEntry, String> {
    let string = |name: &str| -> Result<Option<&String>, String> {
        match item.get(name) {
            None => Ok(None),
            Some(AttributeValue::S(s)) => Ok(Some(s)),
            Some(other) => Err(format!("{name} is {other:?}, expected a string (S)")),
        }
    };
    let required = |name: &str| string(name)?.ok_or_else(|| format!("no {name} attribute"));
    let status_text = required("status")?;
    let status = SaleStatus::parse(status_text)
        .ok_or_else(|| format!("status {status_text:?}: expected in_stock or sold"))?;
    let recalled = match item.get("recalled") {
        None | Some(AttributeValue::Null(_)) => false,
        Some(AttributeValue::Bool(b)) => *b,
        Some(other) => return Err(format!("recalled is {other:?}, expected BOOL")),
    };
    let groups = match item.get("groups") {
        None | Some(AttributeValue::Null(_)) => Vec::new(),
        Some(AttributeValue::Ss(set)) => set.clone(),
        Some(AttributeValue::L(list)) => list
            .iter()
            .map(|v| match v {
                AttributeValue::S(s) => Ok(s.clone()),
                other => Err(format!("groups holds {other:?}, expected strings")),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(format!("groups is {other:?}, expected SS or L")),
    };
    Ok(ManifestEntry {
        device_id: device_id.to_owned(),
        model: required("model")?.clone(),
        status,
        recalled,
        firmware: required("firmware")?
            .parse()
            .map_err(|e: super::FirmwareVersionError| e.to_string())?,
        batch: string("batch")?.cloned(),
        groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_round_trip_and_bad_items() {
        let entry = ManifestEntry {
            device_id: "dev-9".into(),
            model: "m".into(),
            status: SaleStatus::Sold,
            recalled: true,
            firmware: "1.2.3".parse().unwrap(),
            batch: Some("B1".into()),
            groups: vec!["g1".into()],
        };
        let item = to_item(&entry);
        assert_eq!(from_item("dev-9", &item).unwrap(), entry);

        let mut bad = item.clone();
        bad.insert("recalled".into(), AttributeValue::S("yes".into()));
        assert!(from_item("dev-9", &bad).unwrap_err().contains("recalled"));
        let mut bad = item.clone();
        bad.remove("firmware");
        assert!(
            from_item("dev-9", &bad)
                .unwrap_err()
                .contains("no firmware")
        );
        let mut bad = item;
        bad.insert("firmware".into(), AttributeValue::N("1".into()));
        assert!(from_item("dev-9", &bad).unwrap_err().contains("firmware"));
    }
}
