//! The fleet model: compact records, indexes and incrementally maintained aggregates.
//!
//! No ratatui, no AWS types. A backend turns what it reads into [`FleetUpdate`]s; the TUI and
//! the subcommands read [`FleetState`]. See `docs/cli.md` for how the numbers are shown.

mod aggregates;
mod apply;
mod bulk;
mod ca_tree;
mod changes;
mod compact;
mod expiries;
mod health;
mod ids;
mod indexes;
mod intern;
mod lookup;
mod policies;
mod query;
mod records;
mod slot_list;
mod state;
mod status;
mod summary;
#[cfg(any(test, feature = "test-support"))]
pub mod synthetic;
mod touched;
mod update;

pub use aggregates::{Cohort, ExpiryHistogram, StatusCounts};
pub use bulk::{FleetParts, ThingParts};
pub use ca_tree::CaNode;
pub use changes::PendingChanges;
pub use compact::{GenerationId, Serial};
pub use health::{CaAtRisk, Health, HealthPolicy};
pub use ids::{CertId, CertIdError, CertIdHasher, CertIdMap, Day, SECONDS_PER_DAY, UnixTime};
pub use query::{CertQuery, FuzzyScore, QueryError, days_until};
pub use records::{
    CaRecord, CaStatus, CertFields, CertificateRecord, GroupRecord, KeyKind, PemProblem,
    PolicyRecord, ThingRecord,
};
pub use state::{CertView, FleetState, SourceInfo, ThingView};
pub use status::{CertStatus, NewCertificateStatus, NotSettable};
pub use summary::{FleetSummary, StatusByCa, SummaryCounts};
pub use touched::Touched;
pub use update::{
    AnomalyRecord, FleetUpdate, LiveStatusRecord, PresenceEvent, PresenceKind, Severity, Source,
    SourceState,
};

#[cfg(test)]
mod tests;
