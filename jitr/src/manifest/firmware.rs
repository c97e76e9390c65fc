//! Firmware versions: dotted decimal numbers (`1.4.2`, optionally `v1.4.2`), compared
//! component by component with missing components counting as zero (`1.4` == `1.4.0`).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A parsed firmware version.
#[derive(Debug, Clone)]
pub struct FirmwareVersion {
    components: Vec<u32>,
}

/// A firmware version string that is not dotted decimal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("firmware version {text:?} is not dotted decimal numbers like 1.4.2")]
pub struct FirmwareVersionError {
    text: String,
}

impl FirmwareVersion {
    /// The numeric components, most significant first.
    pub fn components(&self) -> &[u32] {
        &self.components
    }

    fn significant(&self) -> &[u32] {
        let end = self
            .components
            .iter()
            .rposition(|&c| c != 0)
            .map_or(0, |i| i + 1);
        &self.components[..end]
    }
}

impl FromStr for FirmwareVersion {
    type Err = FirmwareVersionError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || FirmwareVersionError {
            text: text.to_owned(),
        };
        let digits = text.trim();
        let digits = digits.strip_prefix(['v', 'V']).unwrap_or(digits);
        if digits.is_empty() || digits.split('.').count() > 8 {
            return Err(error());
        }
        let components = digits
            .split('.')
            .map(|part| {
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(error());
                }
                part.parse::<u32>().map_err(|_| error())
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { components })
    }
}

impl PartialEq for FirmwareVersion {
    fn eq(&self, other: &Self) -> bool {
        self.significant() == other.significant()
    }
}

impl Eq for FirmwareVersion {}

impl Ord for FirmwareVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.components.len().max(other.components.len());
        (0..len)
            .map(|i| {
                let a = self.components.get(i).copied().unwrap_or(0);
                let b = other.components.get(i).copied().unwrap_or(0);
                a.cmp(&b)
            })
            .find(|ordering| ordering.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

impl PartialOrd for FirmwareVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for FirmwareVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, component) in self.components.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{component}")?;
        }
        Ok(())
    }
}

impl Serialize for FirmwareVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FirmwareVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> FirmwareVersion {
        text.parse().unwrap()
    }

    #[test]
    fn compares_numerically_not_lexically() {
        assert!(v("1.10.0") > v("1.9.9"));
        assert!(v("2") > v("1.99"));
        assert!(v("1.4") == v("1.4.0"));
        assert!(v("v1.4.1") > v("1.4"));
    }

    #[test]
    fn rejects_what_is_not_dotted_decimal() {
        for bad in [
            "",
            "v",
            "1..2",
            "1.2-beta",
            "a.b",
            ".1",
            "1.",
            "99999999999",
        ] {
            assert!(bad.parse::<FirmwareVersion>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn displays_and_round_trips_through_json() {
        assert_eq!(v("v1.04.2").to_string(), "1.4.2");
        let json = serde_json::to_string(&v("3.1")).unwrap();
        assert_eq!(json, "\"3.1\"");
        assert_eq!(
            serde_json::from_str::<FirmwareVersion>(&json).unwrap(),
            v("3.1")
        );
    }
}
