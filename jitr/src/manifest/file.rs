//! A manifest loaded from a JSON or CSV file and held in memory.
//!
//! JSON: an array of [`ManifestEntry`] objects. CSV: a header row naming the columns
//! `device_id, model, status, recalled, firmware, batch, groups` (any order; `recalled`,
//! `batch` and `groups` optional), RFC 4180 quoting, groups separated by `;`.

use std::collections::HashMap;
use std::path::Path;

use super::{FirmwareVersion, ManifestEntry, ManifestError, ManifestSource, SaleStatus};

/// Devices by id, loaded once.
#[derive(Debug, Clone, Default)]
pub struct FileManifest {
    entries: HashMap<String, ManifestEntry>,
}

impl FileManifest {
    /// A manifest holding exactly these entries (later duplicates win).
    pub fn from_entries(entries: impl IntoIterator<Item = ManifestEntry>) -> Self {
        Self {
            entries: entries
                .into_iter()
                .map(|entry| (entry.device_id.clone(), entry))
                .collect(),
        }
    }

    /// Loads a file, choosing the format by extension (`.json` or `.csv`).
    pub fn load(path: &Path) -> Result<Self, ManifestError> {
        let source_name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ManifestError::Load {
            source_name: source_name.clone(),
            message: e.to_string(),
        })?;
        match path.extension().and_then(|e| e.to_str()) {
            Some(ext) if ext.eq_ignore_ascii_case("json") => Self::from_json(&source_name, &text),
            Some(ext) if ext.eq_ignore_ascii_case("csv") => Self::from_csv(&source_name, &text),
            _ => Err(ManifestError::Load {
                source_name,
                message: "unknown format: the file name must end in .json or .csv".into(),
            }),
        }
    }

    /// Parses a JSON array of entries.
    pub fn from_json(source_name: &str, text: &str) -> Result<Self, ManifestError> {
        let entries: Vec<ManifestEntry> =
            serde_json::from_str(text).map_err(|e| ManifestError::Load {
                source_name: source_name.to_owned(),
                message: e.to_string(),
            })?;
        Ok(Self::from_entries(entries))
    }

    /// Parses CSV with a header row.
    pub fn from_csv(source_name: &str, text: &str) -> Result<Self, ManifestError> {
        let load_error = |line: usize, message: String| ManifestError::Load {
            source_name: source_name.to_owned(),
            message: format!("line {line}: {message}"),
        };
        let mut records = csv_records(text).map_err(|(line, m)| load_error(line, m))?;
        if records.is_empty() {
            return Err(load_error(1, "no header row".into()));
        }
        let (_, header) = records.remove(0);
        let column = |name: &str| header.iter().position(|h| h.trim() == name);
        let required =
            |name: &str| column(name).ok_or_else(|| load_error(1, format!("no {name} column")));
        let (id_col, model_col, status_col, firmware_col) = (
            required("device_id")?,
            required("model")?,
            required("status")?,
            required("firmware")?,
        );
        let (recalled_col, batch_col, groups_col) =
            (column("recalled"), column("batch"), column("groups"));

        let mut entries = Vec::with_capacity(records.len());
        for (line, record) in records {
            if record.len() == 1 && record[0].trim().is_empty() {
                continue;
            }
            if record.len() != header.len() {
                return Err(load_error(
                    line,
                    format!("{} fields, the header has {}", record.len(), header.len()),
                ));
            }
            let field = |col: usize| record[col].trim();
            let optional = |col: Option<usize>| col.map(field).filter(|v| !v.is_empty());
            let status = SaleStatus::parse(field(status_col)).ok_or_else(|| {
                load_error(
                    line,
                    format!("status {:?}: expected in_stock or sold", field(status_col)),
                )
            })?;
            let recalled = match optional(recalled_col) {
                None => false,
                Some(v) => parse_bool(v).ok_or_else(|| {
                    load_error(line, format!("recalled {v:?}: expected true or false"))
                })?,
            };
            let firmware: FirmwareVersion = field(firmware_col)
                .parse()
                .map_err(|e: super::FirmwareVersionError| load_error(line, e.to_string()))?;
            let device_id = field(id_col);
            if device_id.is_empty() {
                return Err(load_error(line, "empty device_id".into()));
            }
            entries.push(ManifestEntry {
                device_id: device_id.to_owned(),
                model: field(model_col).to_owned(),
                status,
                recalled,
                firmware,
                batch: optional(batch_col).map(str::to_owned),
                groups: optional(groups_col)
                    .map(|g| {
                        g.split(';')
                            .map(str::trim)
                            .filter(|g| !g.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
            });
        }
        Ok(Self::from_entries(entries))
    }

    /// The entry for `device_id`, if present.
    pub fn get(&self, device_id: &str) -> Option<&ManifestEntry> {
        self.entries.get(device_id)
    }

    /// Number of devices.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the manifest holds no devices.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl ManifestSource for FileManifest {
    async fn lookup(&self, device_id: &str) -> Result<Option<ManifestEntry>, ManifestError> {
        Ok(self.get(device_id).cloned())
    }
}

fn parse_bool(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" => Some(true),
        "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// A CSV record: its 1-based starting line and its fields.
type CsvRecord = (usize, Vec<String>);

/// Splits RFC 4180 CSV into records; an error names the line and the problem.
fn csv_records(text: &str) -> Result<Vec<CsvRecord>, (usize, String)> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut record_line = 1;
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (in_quotes, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => in_quotes = false,
            (false, '"') if field.is_empty() => in_quotes = true,
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                fields.push(std::mem::take(&mut field));
                records.push((record_line, std::mem::take(&mut fields)));
                line += 1;
                record_line = line;
            }
            (_, c) => {
                if c == '\n' {
                    line += 1;
                }
                field.push(c);
            }
        }
    }
    if in_quotes {
        return Err((record_line, "unterminated quoted field".into()));
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        records.push((record_line, fields));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "device_id,model,status,recalled,firmware,batch,groups\r\n\
        dev-001,sensor-a,sold,false,1.4.2,B7,\"fleet-eu;beta\"\r\n\
        dev-002,sensor-a,in_stock,,1.0,,\n\
        \"dev-003\",\"sensor \"\"b\"\"\",sold,yes,2.0.0,,\n";

    #[test]
    fn reads_csv_with_quotes_and_optional_columns() {
        let manifest = FileManifest::from_csv("test.csv", CSV).unwrap();
        assert_eq!(manifest.len(), 3);
        let one = manifest.get("dev-001").unwrap();
        assert_eq!(one.status, SaleStatus::Sold);
        assert!(!one.recalled);
        assert_eq!(one.firmware, "1.4.2".parse().unwrap());
        assert_eq!(one.batch.as_deref(), Some("B7"));
        assert_eq!(one.groups, ["fleet-eu", "beta"]);
        let two = manifest.get("dev-002").unwrap();
        assert_eq!(two.status, SaleStatus::InStock);
        assert_eq!((two.batch.clone(), two.groups.len()), (None, 0));
        let three = manifest.get("dev-003").unwrap();
        assert_eq!(three.model, "sensor \"b\"");
        assert!(three.recalled);
    }

    #[test]
    fn csv_errors_name_the_line() {
        let bad = "device_id,model,status,firmware\ndev-1,m,sold,1.0\ndev-2,m,lost,1.0\n";
        let err = FileManifest::from_csv("m.csv", bad)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("m.csv") && err.contains("line 3") && err.contains("lost"),
            "{err}"
        );
        let short = "device_id,model,status,firmware\ndev-1,m,sold\n";
        let err = FileManifest::from_csv("m.csv", short)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        let no_col = "device_id,model,firmware\n";
        let err = FileManifest::from_csv("m.csv", no_col)
            .unwrap_err()
            .to_string();
        assert!(err.contains("no status column"), "{err}");
        let open = "device_id,model,status,firmware\n\"dev-1,m,sold,1\n";
        assert!(FileManifest::from_csv("m.csv", open).is_err());
    }

    #[test]
    fn reads_json_and_rejects_unknown_status() {
        let json = r#"[{"device_id":"d1","model":"m","status":"sold","firmware":"2.1",
                        "recalled":true,"groups":["g"]}]"#;
        let manifest = FileManifest::from_json("m.json", json).unwrap();
        let entry = manifest.get("d1").unwrap();
        assert!(entry.recalled);
        assert_eq!(entry.groups, ["g"]);
        let bad = r#"[{"device_id":"d1","model":"m","status":"stolen","firmware":"2.1"}]"#;
        assert!(FileManifest::from_json("m.json", bad).is_err());
    }

    #[test]
    fn loads_by_extension() {
        let dir =
            std::env::temp_dir().join(format!("fleetid-jitr-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let csv = dir.join("m.csv");
        std::fs::write(&csv, CSV).unwrap();
        assert_eq!(FileManifest::load(&csv).unwrap().len(), 3);
        let txt = dir.join("m.txt");
        std::fs::write(&txt, CSV).unwrap();
        assert!(
            FileManifest::load(&txt)
                .unwrap_err()
                .to_string()
                .contains(".json or .csv")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
