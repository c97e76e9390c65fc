//! Certificate queries behind `certs list` and the TUI's certificate view: filters by expiry,
//! CA, status and group, and a fuzzy match over id, subject, things and groups.

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

use super::ids::{CertId, Day, SECONDS_PER_DAY, UnixTime};
use super::state::{CertView, FleetState};
use super::status::CertStatus;

/// Fuzzy scores for every fuzzy search outside the TUI's device filter (which has its own
/// byte-level copy of the same score). A fresh skim matcher for every call: a reused
/// fuzzy-matcher 0.3 matrix keeps cells of the previous call (it is grown without being
/// reset), so a score depended on what was matched before, and its `use_cache(false)`
/// panics ("RefCell already borrowed").
#[derive(Debug, Clone, Copy, Default)]
pub struct FuzzyScore;

impl FuzzyScore {
    /// The skim V2 score of `pattern` in `choice`, when it matches at all.
    #[must_use]
    pub fn of(self, choice: &str, pattern: &str) -> Option<i64> {
        SkimMatcherV2::default().fuzzy_match(choice, pattern)
    }
}

/// Filters for a certificate listing. Empty filters match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertQuery {
    /// Only certificates expiring before now + this many seconds (expired ones included).
    pub expiring_within: Option<i64>,
    /// Only certificates of this CA: a full id, an id prefix of at least 4 characters, or text
    /// contained in the CA's subject.
    pub ca: Option<String>,
    /// Only certificates with this status.
    pub status: Option<CertStatus>,
    /// Only certificates attached to a thing in this group.
    pub group: Option<String>,
    /// Fuzzy pattern; results are then ordered by match score.
    pub fuzzy: Option<String>,
}

/// A query that cannot be answered as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// `--ca` matched no CA.
    #[error("no CA matches {0:?} (give a CA certificate id, an id prefix or part of its subject)")]
    UnknownCa(String),
    /// `--ca` matched several CAs.
    #[error("{pattern:?} matches {count} CAs; give more of the id")]
    AmbiguousCa {
        /// What was given.
        pattern: String,
        /// How many matched.
        count: usize,
    },
}

impl FleetState {
    /// Resolves a CA reference (id, id prefix, or subject text) among registered CAs and CAs
    /// that issued certificates.
    ///
    /// # Errors
    /// [`QueryError::UnknownCa`] or [`QueryError::AmbiguousCa`].
    pub fn resolve_ca(&self, pattern: &str) -> Result<CertId, QueryError> {
        if let Ok(id) = CertId::parse(pattern) {
            return Ok(id);
        }
        let lower = pattern.to_ascii_lowercase();
        let mut matches: Vec<CertId> = self
            .cas
            .iter()
            .filter(|(id, ca)| {
                (lower.len() >= 4 && id.to_string().starts_with(&lower))
                    || ca
                        .parsed
                        .as_ref()
                        .is_ok_and(|f| f.subject.to_ascii_lowercase().contains(&lower))
            })
            .map(|(id, _)| *id)
            .collect();
        if matches.is_empty() && lower.len() >= 4 {
            matches = self
                .indexes()
                .by_ca
                .keys()
                .filter(|id| id.to_string().starts_with(&lower))
                .copied()
                .collect();
        }
        match matches.len() {
            0 => Err(QueryError::UnknownCa(pattern.to_owned())),
            1 => Ok(matches[0]),
            count => Err(QueryError::AmbiguousCa {
                pattern: pattern.to_owned(),
                count,
            }),
        }
    }

    /// Certificates matching `query` at `now`, ordered by expiry (soonest first, unreadable
    /// last, then by id), or by fuzzy score when a pattern is given.
    ///
    /// # Errors
    /// When `--ca` cannot be resolved.
    pub fn query_certificates(
        &self,
        query: &CertQuery,
        now: UnixTime,
    ) -> Result<Vec<CertView<'_>>, QueryError> {
        let ca = query
            .ca
            .as_deref()
            .map(|p| self.resolve_ca(p))
            .transpose()?;
        let deadline = query
            .expiring_within
            .map(|secs| now.plus_seconds(secs.max(0)));
        let candidates: Box<dyn Iterator<Item = CertView<'_>>> = match (deadline, ca) {
            (Some(deadline), _) => {
                Box::new(self.certificates_expiring(Day(i32::MIN), deadline.day()))
            }
            (None, Some(ca)) => Box::new(self.certificates_of_ca(ca)),
            (None, None) => Box::new(self.certificates()),
        };
        let mut rows: Vec<CertView<'_>> = candidates
            .filter(|c| deadline.is_none_or(|d| c.not_after().is_some_and(|t| t <= d)))
            .filter(|c| ca.is_none_or(|ca| c.record.ca == Some(ca)))
            .filter(|c| query.status.is_none_or(|s| c.record.status == s))
            .filter(|c| {
                query
                    .group
                    .as_deref()
                    .is_none_or(|g| c.groups().contains(&g))
            })
            .collect();
        match query.fuzzy.as_deref().filter(|p| !p.is_empty()) {
            Some(pattern) => {
                let matcher = FuzzyScore;
                let mut scored: Vec<(i64, CertView<'_>)> = rows
                    .into_iter()
                    .filter_map(|c| Some((matcher.of(&haystack(&c), pattern)?, c)))
                    .collect();
                scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.record.id.cmp(&b.1.record.id)));
                Ok(scored.into_iter().map(|(_, c)| c).collect())
            }
            None => {
                rows.sort_by_key(|c| (c.not_after().unwrap_or(UnixTime(i64::MAX)), c.record.id));
                Ok(rows)
            }
        }
    }
}

fn haystack(cert: &CertView<'_>) -> String {
    let mut text = cert.record.id.to_string();
    if let Ok(fields) = &cert.record.parsed {
        text.push(' ');
        text.push_str(&fields.subject);
    }
    for thing in cert.things() {
        text.push(' ');
        text.push_str(thing);
    }
    for group in cert.groups() {
        text.push(' ');
        text.push_str(group);
    }
    text
}

/// Days from `now` until `t`, rounded down; negative when `t` is in the past.
#[must_use]
pub fn days_until(now: UnixTime, t: UnixTime) -> i64 {
    (t.0 - now.0).div_euclid(SECONDS_PER_DAY)
}

#[cfg(test)]
mod matcher_tests {
    use super::FuzzyScore;

    #[test]
    fn a_score_does_not_depend_on_what_was_matched_before() {
        let fresh = FuzzyScore.of("aAab09-", "aaa");
        for (choice, pattern) in [("xaAaAa-b-aaa", "aaab"), ("aaaaaaaaaaaaaaaa", "aaa")] {
            let _ = FuzzyScore.of(choice, pattern);
        }
        assert_eq!(FuzzyScore.of("aAab09-", "aaa"), fresh);
    }
}
