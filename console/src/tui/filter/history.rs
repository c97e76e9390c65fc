//! The recent complete results of one table, kept so that the next keystroke rarely scans
//! the table: a query seen again (deleting back) gets its result as it was, and a query that
//! extends a remembered one (typing on) scans only that one's matches — the smallest such
//! set when several qualify. Bounded in entries and in row ids held. A result that read the
//! table's cells (a group or firmware cohort, the order by status) holds only while the cells
//! are as they were when it was computed.

use std::collections::VecDeque;
use std::sync::{Arc, Weak};

use crate::tui::data::{CohortKind, DeviceQuery, DeviceTable};

use super::SortKey;

/// Most results remembered.
const MAX_ENTRIES: usize = 16;
/// Row ids held in all (matches plus display orders), as a multiple of the table's rows:
/// 16 MiB at a million rows.
const BUDGET_PER_ROW: usize = 4;

#[derive(Debug)]
struct Remembered {
    query: DeviceQuery,
    sort: SortKey,
    /// Matching rows in row order; `None` when every row matched.
    matched: Option<Arc<[u32]>>,
    /// The result in display order.
    rows: Arc<[u32]>,
    /// The table's cells version read before the run.
    cells: u64,
}

/// Whether the matches of `query` depend on the table's cells.
fn matches_read_cells(query: &DeviceQuery) -> bool {
    matches!(
        query.cohort,
        Some((CohortKind::Group | CohortKind::Firmware, _))
    )
}

impl Remembered {
    fn ids(&self) -> usize {
        self.matched.as_ref().map_or(0, |m| m.len()) + self.rows.len()
    }

    /// Whether its matches still hold on `table` (and, with `sorted`, its order too).
    fn current(&self, table: &DeviceTable, sorted: bool) -> bool {
        let read_cells =
            matches_read_cells(&self.query) || (sorted && self.sort == SortKey::Status);
        !read_cells || self.cells == table.cells_version()
    }
}

/// Complete results on one table, newest first.
#[derive(Debug, Default)]
pub struct History {
    /// Weak, so that a replaced table is freed; the allocation stays while this is held, so
    /// its address cannot be reused by another table.
    table: Weak<DeviceTable>,
    entries: VecDeque<Remembered>,
}

impl History {
    fn is_for(&self, table: &Arc<DeviceTable>) -> bool {
        std::ptr::eq(self.table.as_ptr(), Arc::as_ptr(table))
    }

    /// The result of `query` in `sort` order on `table`, when remembered.
    #[must_use]
    pub fn result(
        &self,
        table: &Arc<DeviceTable>,
        query: &DeviceQuery,
        sort: SortKey,
    ) -> Option<Arc<[u32]>> {
        if !self.is_for(table) {
            return None;
        }
        self.entries
            .iter()
            .find(|e| e.sort == sort && e.query == *query && e.current(table, true))
            .map(|e| Arc::clone(&e.rows))
    }

    /// The rows that can match `query` on `table` (ascending), when fewer than all: a fuzzy
    /// text that extends a remembered one under the same drill-down constraints matches a
    /// subset of what it matched (a subsequence of a field contains every prefix of itself;
    /// an upper-case letter only makes smart case stricter).
    #[must_use]
    pub fn candidates(&self, table: &Arc<DeviceTable>, query: &DeviceQuery) -> Option<Arc<[u32]>> {
        if !self.is_for(table) {
            return None;
        }
        self.entries
            .iter()
            .filter(|e| {
                e.query.expires_day == query.expires_day
                    && e.query.cohort == query.cohort
                    && query.text.starts_with(&e.query.text)
                    && e.current(table, false)
            })
            .filter_map(|e| e.matched.as_ref())
            .min_by_key(|m| m.len())
            .map(Arc::clone)
    }

    /// Keeps a complete result of `query` on `table`, computed from its cells at version
    /// `cells`: `matched` in row order, `rows` in display order. Forgets the results of any
    /// other table, and the oldest beyond the bounds.
    pub fn remember(
        &mut self,
        table: &Arc<DeviceTable>,
        query: DeviceQuery,
        sort: SortKey,
        cells: u64,
        matched: Vec<u32>,
        rows: Arc<[u32]>,
    ) {
        if !self.is_for(table) {
            self.entries.clear();
            self.table = Arc::downgrade(table);
        }
        self.entries
            .retain(|e| !(e.sort == sort && e.query == query));
        let matched = (matched.len() < table.len()).then(|| matched.into());
        self.entries.push_front(Remembered {
            query,
            sort,
            matched,
            rows,
            cells,
        });
        let budget = BUDGET_PER_ROW * table.len().max(1);
        while self.entries.len() > MAX_ENTRIES
            || (self.entries.len() > 1
                && self.entries.iter().map(Remembered::ids).sum::<usize>() > budget)
        {
            self.entries.pop_back();
        }
    }
}
