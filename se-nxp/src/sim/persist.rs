//! Atomic file persistence of the simulated chip's objects, so a simulated device keeps its
//! identity across restarts. Format: a header line, then one line per object:
//! `<object id, 8 hex digits> ec-p256 <PKCS#8 v1 document, hex>` or
//! `<object id> binary <file contents, hex>`. Written to a temporary file
//! in the same directory, fsynced, renamed over the old file, and the directory fsynced.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};

use super::applet::SecureObject;

const HEADER: &str = "fleetid-se05x-sim v1";

/// Loading or saving the simulator's object store failed.
#[derive(Debug, thiserror::Error)]
pub enum SimStoreError {
    /// A file operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// File concerned.
        path: PathBuf,
        /// OS error.
        source: std::io::Error,
    },
    /// The file is not a simulator store.
    #[error("reading {path}: line {line}: {reason}")]
    Format {
        /// File concerned.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SimStoreError {
    let path = path.to_path_buf();
    move |source| SimStoreError::Io {
        action,
        path,
        source,
    }
}

fn hex_encode(bytes: &[u8], out: &mut String) {
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

/// Loads the objects stored at `path`; a missing file is an empty store.
pub(crate) fn load(path: &Path) -> Result<BTreeMap<u32, SecureObject>, SimStoreError> {
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(err) => return Err(io("reading", path)(err)),
    };
    let format = |line: usize, reason| SimStoreError::Format {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Err(format(1, "missing the fleetid-se05x-sim v1 header"));
    }
    let mut objects = BTreeMap::new();
    for (index, line) in lines.enumerate() {
        let number = index + 2;
        let mut fields = line.split(' ');
        let (Some(id), Some(kind), Some(value), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(format(
                number,
                "expected: <id> ec-p256 <pkcs8 hex> or <id> binary <hex>",
            ));
        };
        let id = u32::from_str_radix(id, 16).map_err(|_| format(number, "object id is not hex"))?;
        let object = match kind {
            "ec-p256" => {
                let pkcs8 = hex_decode(value).ok_or_else(|| format(number, "key is not hex"))?;
                let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &pkcs8)
                    .map_err(|_| format(number, "key is not a P-256 PKCS#8 document"))?;
                SecureObject::EcKeyPair(key)
            }
            "binary" => {
                let bytes = hex_decode(value)
                    .filter(|b| !b.is_empty() && b.len() <= 0x7FFF)
                    .ok_or_else(|| format(number, "binary file is not 1 to 32767 bytes of hex"))?;
                SecureObject::Binary(bytes)
            }
            _ => return Err(format(number, "unknown object kind")),
        };
        objects.insert(id, object);
    }
    Ok(objects)
}

/// Writes `objects` to `path` atomically.
pub(crate) fn save(
    path: &Path,
    objects: &BTreeMap<u32, SecureObject>,
) -> Result<(), SimStoreError> {
    let mut text = String::with_capacity(32 + objects.len() * 300);
    text.push_str(HEADER);
    text.push('\n');
    for (id, object) in objects {
        match object {
            SecureObject::EcKeyPair(key) => {
                let pkcs8 = key.to_pkcs8v1().map_err(|_| SimStoreError::Format {
                    path: path.to_path_buf(),
                    line: 0,
                    reason: "key could not be exported",
                })?;
                let _ = write!(text, "{id:08x} ec-p256 ");
                hex_encode(pkcs8.as_ref(), &mut text);
            }
            SecureObject::Binary(bytes) => {
                let _ = write!(text, "{id:08x} binary ");
                hex_encode(bytes, &mut text);
            }
        }
        text.push('\n');
    }
    let mut temp_name = path
        .file_name()
        .map(std::ffi::OsStr::to_os_string)
        .unwrap_or_default();
    temp_name.push(".tmp");
    let temp = path.with_file_name(temp_name);
    let mut file = fs::File::create(&temp).map_err(io("creating", &temp))?;
    file.write_all(text.as_bytes())
        .map_err(io("writing", &temp))?;
    file.sync_all().map_err(io("syncing", &temp))?;
    drop(file);
    fs::rename(&temp, path).map_err(io("renaming into place", path))?;
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        fs::File::open(dir)
            .and_then(|dir| dir.sync_all())
            .map_err(io("syncing directory of", path))?;
    }
    Ok(())
}
