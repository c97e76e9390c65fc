//! Which certificates an operation acts on: `--cert`, `--thing`, `--from-file`, `--query` and
//! `--ca`, resolved against the fleet model into certificate ids (each once, in the order
//! given).

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::commands::find_certificate;
use crate::model::{CertId, CertQuery, FleetState, UnixTime};

/// One selector from the command line (or the TUI's marks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// A certificate id (64 hex characters or a unique prefix of at least 8).
    Cert(String),
    /// Every certificate attached to a thing.
    Thing(String),
    /// A file (or `-`: stdin) of certificate ids and thing names, one per line; `#` comments.
    FromFile(PathBuf),
    /// A `certs list` filter: `status=ACTIVE group=G ca=C expiring-within=30d match=TEXT`.
    Query(String),
    /// Every device certificate a CA issued (id, id prefix or subject text).
    Ca(String),
}

/// A selector that names nothing, or names it ambiguously.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    /// A certificate, thing or CA that the model does not know.
    #[error("{0}")]
    NotFound(String),
    /// A `--query` that does not parse.
    #[error("--query {query:?}: {reason}")]
    BadQuery {
        /// What was given.
        query: String,
        /// What is wrong.
        reason: String,
    },
    /// `--from-file` could not be read.
    #[error("reading {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Nothing was selected.
    #[error("no selector given: use --cert, --thing, --from-file, --query or --ca")]
    Empty,
}

/// Resolves `selectors` to certificate ids, each once, in the order first selected.
///
/// # Errors
/// [`SelectError`] for a selector that names nothing.
pub fn resolve(
    state: &FleetState,
    selectors: &[Selector],
    now: UnixTime,
) -> Result<Vec<CertId>, SelectError> {
    if selectors.is_empty() {
        return Err(SelectError::Empty);
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut push = |id: CertId| {
        if seen.insert(id) {
            out.push(id);
        }
    };
    for selector in selectors {
        match selector {
            Selector::Cert(id) => push(cert(state, id)?),
            Selector::Thing(name) => thing(state, name)?.into_iter().for_each(&mut push),
            Selector::FromFile(path) => {
                for line in read_lines(path)? {
                    if line.len() >= 8 && line.bytes().all(|b| b.is_ascii_hexdigit()) {
                        push(cert(state, &line)?);
                    } else {
                        thing(state, &line)?.into_iter().for_each(&mut push);
                    }
                }
            }
            Selector::Query(text) => {
                let query = parse_query(text)?;
                let rows = state
                    .query_certificates(&query, now)
                    .map_err(|e| SelectError::NotFound(e.to_string()))?;
                rows.into_iter().for_each(|c| push(c.record.id));
            }
            Selector::Ca(pattern) => {
                let ca = state
                    .resolve_ca(pattern)
                    .map_err(|e| SelectError::NotFound(e.to_string()))?;
                let mut ids: Vec<CertId> =
                    state.certificates_of_ca(ca).map(|c| c.record.id).collect();
                ids.sort_unstable();
                ids.into_iter().for_each(&mut push);
            }
        }
    }
    Ok(out)
}

fn cert(state: &FleetState, id: &str) -> Result<CertId, SelectError> {
    find_certificate(state, id)
        .map(|c| c.record.id)
        .map_err(|e| SelectError::NotFound(e.to_string()))
}

fn thing(state: &FleetState, name: &str) -> Result<Vec<CertId>, SelectError> {
    let thing = state
        .thing(name)
        .ok_or_else(|| SelectError::NotFound(format!("no thing named {name:?}")))?;
    if thing.certificates.is_empty() {
        return Err(SelectError::NotFound(format!(
            "thing {name:?} has no certificate attached"
        )));
    }
    Ok(thing.certificates)
}

fn read_lines(path: &PathBuf) -> Result<Vec<String>, SelectError> {
    let file_error = |source| SelectError::File {
        path: path.clone(),
        source,
    };
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(file_error)?
    } else {
        std::fs::read_to_string(path).map_err(file_error)?
    };
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect())
}

/// Parses a `certs list` filter written as `key=value` words (the keys of `certs list`'s
/// flags: `expiring-within`, `ca`, `status`, `group`, `match`).
///
/// # Errors
/// [`SelectError::BadQuery`] naming the word that does not parse.
pub fn parse_query(text: &str) -> Result<CertQuery, SelectError> {
    let bad = |reason: String| SelectError::BadQuery {
        query: text.to_owned(),
        reason,
    };
    let mut query = CertQuery::default();
    for word in text.split_whitespace() {
        let (key, value) = word
            .split_once('=')
            .ok_or_else(|| bad(format!("{word:?} is not key=value")))?;
        match key {
            "expiring-within" => {
                query.expiring_within = Some(crate::cli::parse_duration(value).map_err(bad)?);
            }
            "ca" => query.ca = Some(value.to_owned()),
            "status" => {
                query.status = Some(crate::cli::parse_status(value).map_err(bad)?);
            }
            "group" => query.group = Some(value.to_owned()),
            "match" => query.fuzzy = Some(value.to_owned()),
            _ => {
                return Err(bad(format!(
                    "unknown key {key:?}; one of expiring-within, ca, status, group, match"
                )));
            }
        }
    }
    if query == CertQuery::default() {
        return Err(bad(
            "an empty query would select the whole fleet; name a filter".into(),
        ));
    }
    Ok(query)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CertStatus;

    #[test]
    fn a_query_reads_the_certs_list_keys_and_refuses_others() {
        let q = parse_query("status=active group=meters-eu expiring-within=30d").unwrap();
        assert_eq!(q.status, Some(CertStatus::Active));
        assert_eq!(q.group.as_deref(), Some("meters-eu"));
        assert_eq!(q.expiring_within, Some(30 * 86_400));
        assert!(
            parse_query("colour=red")
                .unwrap_err()
                .to_string()
                .contains("unknown key")
        );
        assert!(
            parse_query("status")
                .unwrap_err()
                .to_string()
                .contains("key=value")
        );
        assert!(
            parse_query("")
                .unwrap_err()
                .to_string()
                .contains("whole fleet")
        );
    }
}
