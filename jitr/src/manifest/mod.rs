//! The device manifest: what the factory and the shop know about each device, looked up by
//! device id when its certificate first registers.
//!
//! Sources: [`FileManifest`] (JSON or CSV, held in memory) and, with the `aws` feature,
//! [`DynamoDbManifest`]. The schema is documented in `docs/jitr.md`.

#[cfg(feature = "aws")]
mod dynamodb;
mod file;
mod firmware;

use std::future::Future;

use serde::{Deserialize, Serialize};

#[cfg(feature = "aws")]
pub use dynamodb::DynamoDbManifest;
pub use file::FileManifest;
pub use firmware::{FirmwareVersion, FirmwareVersionError};

/// Where a device is in its sale life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SaleStatus {
    /// Made but not sold: a certificate showing up for it means it left the warehouse
    /// some other way.
    InStock,
    /// Sold to a customer: may join the fleet.
    Sold,
}

impl SaleStatus {
    /// The manifest spelling: `in_stock` or `sold`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InStock => "in_stock",
            Self::Sold => "sold",
        }
    }

    /// Reads the manifest spelling.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "in_stock" => Some(Self::InStock),
            "sold" => Some(Self::Sold),
            _ => None,
        }
    }
}

/// One device in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// The device id, as found in the certificate (subject CN or serial number).
    pub device_id: String,
    /// Hardware model; selects the minimum firmware version.
    pub model: String,
    /// Sold or still in stock.
    pub status: SaleStatus,
    /// On a recall list.
    #[serde(default)]
    pub recalled: bool,
    /// Firmware version the device shipped with or last reported.
    pub firmware: FirmwareVersion,
    /// Production batch, copied to the thing's attributes when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    /// Extra static thing groups for this device (besides the configured ones).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

/// A failed manifest lookup or load.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The manifest store could not be reached or answered with an error; worth retrying.
    #[error("looking up device {device_id} in the manifest: {message}")]
    Unavailable {
        /// The device looked up.
        device_id: String,
        /// What the store said.
        message: String,
    },
    /// The stored entry exists but its fields are not valid.
    #[error("manifest entry for device {device_id} is invalid: {message}")]
    InvalidEntry {
        /// The device looked up.
        device_id: String,
        /// Which field is wrong and how.
        message: String,
    },
    /// A manifest file could not be read.
    #[error("loading manifest {source_name}: {message}")]
    Load {
        /// The file (or other source) being loaded.
        source_name: String,
        /// Where in it and what went wrong.
        message: String,
    },
}

/// Looks up devices by id.
pub trait ManifestSource {
    /// The entry for `device_id`, or `None` when the device is not in the manifest.
    fn lookup(
        &self,
        device_id: &str,
    ) -> impl Future<Output = Result<Option<ManifestEntry>, ManifestError>> + Send;
}
