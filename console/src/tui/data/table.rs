//! The device table: one row per certificate. What identifies a row and never changes while
//! the table lives — the thing name, the certificate id, its expiry and issuing CA — is fixed
//! when the table is built. What live status and operations change — the certificate's
//! status, the thing's first group, its firmware, whether it is connected — sits in a column
//! of [`RowCells`] that the model side patches in place, row by row, while the screen and the
//! filter read it: a status message costs one row, not a new table, and the rows keep their
//! places (marks, the selection and the filter's results stay on their devices). A row that
//! comes or goes, or a cohort name the table does not hold yet, makes a new table.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::model::CertStatus;
use crate::safe_text::OutsideText;
use crate::tui::filter::index::TableIndex;

use super::UnixSeconds;

/// One row of the device table, whole; cohort fields index [`DeviceTable::names`]. What a
/// table is built from and what [`DeviceTable::row`] gives back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRow {
    /// Thing name.
    pub thing: OutsideText,
    /// Certificate id (shortened).
    pub cert: OutsideText,
    /// Certificate status.
    pub state: CertStatus,
    /// Certificate expiry.
    pub expires: Option<UnixSeconds>,
    /// Issuing CA name (index into `names`).
    pub ca: u32,
    /// First thing group (index into `names`).
    pub group: u32,
    /// Firmware version (index into `names`).
    pub firmware: u32,
    /// Connected now, when known.
    pub online: Option<bool>,
}

impl DeviceRow {
    /// The part of the row that can change in place.
    #[must_use]
    pub fn cells(&self) -> RowCells {
        RowCells {
            state: self.state,
            group: self.group,
            firmware: self.firmware,
            online: self.online,
        }
    }
}

/// What can change in a row without a new table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowCells {
    /// Certificate status.
    pub state: CertStatus,
    /// First thing group (index into the table's names).
    pub group: u32,
    /// Firmware version (index into the table's names).
    pub firmware: u32,
    /// Connected now, when known.
    pub online: Option<bool>,
}

/// Bits of a name index in a packed cell; a larger index is kept as [`NAME_MASK`], which no
/// table's names reach, so it reads as no name.
const NAME_BITS: u32 = 29;
const NAME_MASK: u64 = (1 << NAME_BITS) - 1;

impl RowCells {
    /// One word: status (3 bits), connected (2), group and firmware (29 each), so a row's
    /// cells change at once.
    fn pack(self) -> u64 {
        let name = |index: u32| u64::from(index).min(NAME_MASK);
        let online = match self.online {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        };
        self.state.index() as u64
            | online << 3
            | name(self.group) << 5
            | name(self.firmware) << (5 + NAME_BITS)
    }

    fn unpack(bits: u64) -> Self {
        let name = |shift: u32| u32::try_from((bits >> shift) & NAME_MASK).unwrap_or(u32::MAX);
        Self {
            state: usize::try_from(bits & 0b111)
                .ok()
                .and_then(|i| CertStatus::ALL.get(i).copied())
                .unwrap_or(CertStatus::Unknown),
            online: match (bits >> 3) & 0b11 {
                1 => Some(false),
                2 => Some(true),
                _ => None,
            },
            group: name(5),
            firmware: name(5 + NAME_BITS),
        }
    }
}

/// The part of a row fixed for the table's life.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FixedRow {
    thing: OutsideText,
    cert: OutsideText,
    expires: Option<UnixSeconds>,
    ca: u32,
}

/// All devices; shared with the filter thread and the model side by `Arc`. The fixed part
/// and the names never change; the cells change in place through [`DeviceTable::patch`].
#[derive(Debug, Default)]
pub struct DeviceTable {
    fixed: Vec<FixedRow>,
    cells: Box<[AtomicU64]>,
    /// Cells changed so far: read before the cells, a result computed from them is current
    /// while it stays the same.
    version: AtomicU64,
    /// Interned cohort names (CA, group, firmware).
    pub names: Vec<OutsideText>,
    /// What the filter derives from the fixed part, built on first use.
    index: TableIndex,
}

impl Clone for DeviceTable {
    /// The same rows (cells as they are now) and names; the derived data is built again on
    /// first use.
    fn clone(&self) -> Self {
        Self::new(self.rows().collect(), self.names.clone())
    }
}

impl PartialEq for DeviceTable {
    /// Equal rows (cells as they are now) and names: the derived data follows from them.
    fn eq(&self, other: &Self) -> bool {
        self.fixed == other.fixed
            && self.names == other.names
            && (0..self.len()).all(|i| self.cells(i) == other.cells(i))
    }
}

impl Eq for DeviceTable {}

impl DeviceTable {
    /// A table of `rows` whose cohort fields index `names`.
    #[must_use]
    pub fn new(rows: Vec<DeviceRow>, names: Vec<OutsideText>) -> Self {
        let cells = rows
            .iter()
            .map(|r| AtomicU64::new(r.cells().pack()))
            .collect();
        let fixed = rows
            .into_iter()
            .map(|r| FixedRow {
                thing: r.thing,
                cert: r.cert,
                expires: r.expires,
                ca: r.ca,
            })
            .collect();
        Self {
            fixed,
            cells,
            version: AtomicU64::new(0),
            names,
            index: TableIndex::default(),
        }
    }

    /// Number of rows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.fixed.len()
    }

    /// Whether the table has no row.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.fixed.is_empty()
    }

    /// Row `i`'s thing name.
    ///
    /// # Panics
    /// `i` out of range.
    #[must_use]
    pub fn thing(&self, i: usize) -> &OutsideText {
        &self.fixed[i].thing
    }

    /// Row `i`'s certificate id (shortened).
    ///
    /// # Panics
    /// `i` out of range.
    #[must_use]
    pub fn cert(&self, i: usize) -> &OutsideText {
        &self.fixed[i].cert
    }

    /// Row `i`'s certificate expiry.
    ///
    /// # Panics
    /// `i` out of range.
    #[must_use]
    pub fn expires(&self, i: usize) -> Option<UnixSeconds> {
        self.fixed[i].expires
    }

    /// Row `i`'s issuing CA (index into `names`).
    ///
    /// # Panics
    /// `i` out of range.
    #[must_use]
    pub fn ca(&self, i: usize) -> u32 {
        self.fixed[i].ca
    }

    /// Row `i`'s cells as they are now.
    ///
    /// # Panics
    /// `i` out of range.
    #[must_use]
    pub fn cells(&self, i: usize) -> RowCells {
        RowCells::unpack(self.cells[i].load(Ordering::Relaxed))
    }

    /// Row `i`, whole (its texts copied).
    ///
    /// # Panics
    /// `i` out of range.
    #[must_use]
    pub fn row(&self, i: usize) -> DeviceRow {
        let fixed = &self.fixed[i];
        let cells = self.cells(i);
        DeviceRow {
            thing: fixed.thing.clone(),
            cert: fixed.cert.clone(),
            state: cells.state,
            expires: fixed.expires,
            ca: fixed.ca,
            group: cells.group,
            firmware: cells.firmware,
            online: cells.online,
        }
    }

    /// Every row, whole, in order.
    pub fn rows(&self) -> impl Iterator<Item = DeviceRow> + '_ {
        (0..self.len()).map(|i| self.row(i))
    }

    /// Sets row `i`'s cells; `true` when they changed. Out of range: nothing.
    pub fn patch(&self, i: usize, cells: RowCells) -> bool {
        let Some(slot) = self.cells.get(i) else {
            return false;
        };
        let bits = cells.pack();
        if slot.swap(bits, Ordering::Relaxed) == bits {
            return false;
        }
        self.version.fetch_add(1, Ordering::Release);
        true
    }

    /// How many times cells changed since the table was built: equal before and after
    /// reading the cells, nothing changed in between.
    #[must_use]
    pub fn cells_version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// The filter's derived data (search text, sort orders) of this table.
    pub(crate) fn index(&self) -> &TableIndex {
        &self.index
    }

    /// The interned name at `index` (empty when out of range).
    #[must_use]
    pub fn name(&self, index: u32) -> &OutsideText {
        static NONE: std::sync::OnceLock<OutsideText> = std::sync::OnceLock::new();
        usize::try_from(index)
            .ok()
            .and_then(|i| self.names.get(i))
            .unwrap_or_else(|| NONE.get_or_init(OutsideText::default))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(thing: &str, state: CertStatus, online: Option<bool>) -> DeviceRow {
        DeviceRow {
            thing: thing.into(),
            cert: "0123456789abcdef".into(),
            state,
            expires: Some(1_800_000_000),
            ca: 0,
            group: 1,
            firmware: 2,
            online,
        }
    }

    #[test]
    fn cells_pack_and_unpack_every_value() {
        for state in CertStatus::ALL {
            for online in [None, Some(false), Some(true)] {
                for (group, firmware) in [(0, 0), (1, 7), (NAME_MASK as u32 - 1, 3)] {
                    let cells = RowCells {
                        state,
                        group,
                        firmware,
                        online,
                    };
                    assert_eq!(RowCells::unpack(cells.pack()), cells);
                }
            }
        }
        let huge = RowCells {
            state: CertStatus::Active,
            group: u32::MAX,
            firmware: 0,
            online: None,
        };
        assert_eq!(RowCells::unpack(huge.pack()).group, NAME_MASK as u32);
    }

    #[test]
    fn a_patch_changes_one_row_and_the_version() {
        let table = DeviceTable::new(
            vec![
                row("a", CertStatus::Active, Some(true)),
                row("b", CertStatus::Active, None),
            ],
            vec!["ca".into(), "g".into(), "fw".into()],
        );
        assert_eq!(table.cells_version(), 0);
        let mut cells = table.cells(1);
        assert!(!table.patch(1, cells), "the same cells change nothing");
        assert_eq!(table.cells_version(), 0);
        cells.state = CertStatus::Revoked;
        cells.online = Some(false);
        assert!(table.patch(1, cells));
        assert_eq!(table.cells_version(), 1);
        assert_eq!(table.row(1), row("b", CertStatus::Revoked, Some(false)));
        assert_eq!(table.row(0), row("a", CertStatus::Active, Some(true)));
        assert!(!table.patch(2, cells), "out of range");
    }
}
