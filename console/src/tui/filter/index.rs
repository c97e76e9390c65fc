//! What the filter derives from a device table once and keeps with it: the searched text of
//! every row in contiguous arenas (no pointer chase per row while scanning a million), and
//! for each sort key the table's order and every row's rank in it (so ordering any subset is
//! a pass over a bitmap instead of a sort). Built lazily by the filter thread, on first use.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::tui::data::DeviceTable;

use super::SortKey;
use super::nucleo_ascii::inner_bonus;

/// The thing names of every row back to back, and their certificate ids back to back in an
/// arena of their own, with a summary of each field: the characters in it for a quick
/// rejection, and what bounds its score without reading it. A scan that can rule out or
/// bound a row's certificate id from its summary does not stream the certificate arena (the
/// larger) through the cache.
#[derive(Debug)]
pub struct SearchText {
    /// Row `i`'s thing name is `things[thing_ends[i]..thing_ends[i + 1]]`.
    things: Vec<u8>,
    thing_ends: Vec<usize>,
    /// Row `i`'s certificate id is `certs[cert_ends[i]..cert_ends[i + 1]]`.
    certs: Vec<u8>,
    cert_ends: Vec<usize>,
    /// [`char_mask`] of every field, two per row.
    masks: Vec<u64>,
    /// Of every ASCII field, two per row: its first byte (0 when empty) and [`inner_bonus`].
    summaries: Vec<[u8; 2]>,
    /// Per row: [`ASCII`], [`THING_UPPER`], [`CERT_UPPER`].
    flags: Vec<u8>,
}

/// Both fields of the row are ASCII.
const ASCII: u8 = 1;
/// The thing name has an ASCII upper-case letter.
const THING_UPPER: u8 = 2;
/// The certificate id has an ASCII upper-case letter.
const CERT_UPPER: u8 = 4;

fn has_upper(text: &str) -> bool {
    text.bytes().any(|b| b.is_ascii_uppercase())
}

/// One bit per byte value modulo 64, ASCII case folded: a field can only contain a pattern
/// as a subsequence when its mask has every bit of the pattern's (the converse need not
/// hold).
#[must_use]
pub fn char_mask(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0, |mask, b| mask | 1 << (b.to_ascii_lowercase() & 63))
}

impl SearchText {
    fn build(table: &DeviceTable) -> Self {
        let size = |field: fn(&DeviceTable, usize) -> &str| -> usize {
            (0..table.len()).map(|i| field(table, i).len()).sum()
        };
        let mut things = Vec::with_capacity(size(|t, i| t.thing(i).raw()));
        let mut certs = Vec::with_capacity(size(|t, i| t.cert(i).raw()));
        let mut thing_ends = Vec::with_capacity(table.len() + 1);
        let mut cert_ends = Vec::with_capacity(table.len() + 1);
        let mut masks = Vec::with_capacity(2 * table.len());
        let mut summaries = Vec::with_capacity(2 * table.len());
        let mut flags = Vec::with_capacity(table.len());
        thing_ends.push(0);
        cert_ends.push(0);
        for i in 0..table.len() {
            let (thing, cert) = (table.thing(i).raw(), table.cert(i).raw());
            things.extend_from_slice(thing.as_bytes());
            thing_ends.push(things.len());
            certs.extend_from_slice(cert.as_bytes());
            cert_ends.push(certs.len());
            for field in [thing, cert] {
                // Text that is not ASCII may match through case or accent folding beyond
                // ASCII's: never ruled out by its bytes.
                masks.push(if field.is_ascii() {
                    char_mask(field.as_bytes())
                } else {
                    u64::MAX
                });
                let first = field.bytes().next().unwrap_or(0);
                summaries.push([first, inner_bonus(field.as_bytes())]);
            }
            let mut row_flags = 0;
            if thing.is_ascii() && cert.is_ascii() {
                row_flags |= ASCII;
            }
            if has_upper(thing) {
                row_flags |= THING_UPPER;
            }
            if has_upper(cert) {
                row_flags |= CERT_UPPER;
            }
            flags.push(row_flags);
        }
        Self {
            things,
            thing_ends,
            certs,
            cert_ends,
            masks,
            summaries,
            flags,
        }
    }

    /// Row `i`'s thing name and certificate id as ASCII fields (see [`Self::is_ascii`]); their
    /// text is not read until a scorer reads it.
    #[must_use]
    #[inline]
    pub fn fields(&self, i: usize) -> [AsciiField<'_>; 2] {
        let field = |bytes, k: usize, upper: u8| {
            let [first, inner] = self.summaries[k];
            AsciiField {
                bytes,
                has_upper: self.flags[i] & upper != 0,
                first,
                inner,
            }
        };
        [
            field(
                &self.things[self.thing_ends[i]..self.thing_ends[i + 1]],
                2 * i,
                THING_UPPER,
            ),
            field(
                &self.certs[self.cert_ends[i]..self.cert_ends[i + 1]],
                2 * i + 1,
                CERT_UPPER,
            ),
        ]
    }

    /// [`char_mask`] of row `i`'s thing name and certificate id.
    #[must_use]
    #[inline]
    pub fn masks(&self, i: usize) -> [u64; 2] {
        [self.masks[2 * i], self.masks[2 * i + 1]]
    }

    /// Whether row `i`'s fields are both ASCII.
    #[must_use]
    #[inline]
    pub fn is_ascii(&self, i: usize) -> bool {
        self.flags[i] & ASCII != 0
    }
}

/// An ASCII field of a row as the scorers take it: its bytes and what the search text knows
/// of them.
#[derive(Debug, Clone, Copy)]
pub struct AsciiField<'a> {
    /// The text.
    pub bytes: &'a [u8],
    /// It has an ASCII upper-case letter.
    pub has_upper: bool,
    /// Its first byte (0 when empty), kept beside the text: a bound reads it without reading
    /// the text.
    pub first: u8,
    /// Its [`inner_bonus`].
    pub inner: u8,
}

/// A table's order under one sort key (ties by row index) and each row's place in it.
#[derive(Debug)]
pub struct SortOrder {
    /// Row indices in key order.
    pub order: Arc<[u32]>,
    /// `rank[row]` = its position in `order`.
    pub rank: Vec<u32>,
}

impl SortOrder {
    fn build(table: &DeviceTable, key: SortKey) -> Self {
        let mut order: Vec<u32> = (0..table.len())
            .map(|i| u32::try_from(i).unwrap_or(u32::MAX))
            .collect();
        match key {
            SortKey::Natural => {}
            SortKey::Thing => {
                order.sort_unstable_by(|&a, &b| {
                    table
                        .thing(a as usize)
                        .cmp(table.thing(b as usize))
                        .then(a.cmp(&b))
                });
            }
            SortKey::Expiry => {
                order.sort_unstable_by_key(|&i| (table.expires(i as usize).unwrap_or(i64::MAX), i));
            }
            SortKey::Status => {
                // Stable, and the input is in row order: ties stay by index.
                order.sort_by_key(|&i| table.cells(i as usize).state);
            }
        }
        let mut rank = vec![0; order.len()];
        for (position, &row) in order.iter().enumerate() {
            rank[row as usize] = u32::try_from(position).unwrap_or(u32::MAX);
        }
        Self {
            order: order.into(),
            rank,
        }
    }
}

/// The derived data of one table, each part built on first use. Belongs to the table it was
/// built from; neither cloned nor compared — the table decides what its copies and its
/// equality mean. The search text and the orders by thing and expiry follow the table's fixed
/// part and are built once; the order by status follows the cells, so it is kept with the
/// cells' version it was built at and built again once they changed.
#[derive(Debug, Default)]
pub struct TableIndex {
    text: OnceLock<SearchText>,
    fixed_sorts: [OnceLock<Arc<SortOrder>>; 2],
    status: Mutex<Option<(u64, Arc<SortOrder>)>>,
}

/// The searched text of `table`'s rows.
pub fn search_text(table: &DeviceTable) -> &SearchText {
    table.index().text.get_or_init(|| SearchText::build(table))
}

/// `table`'s order under `key` (`None` for the natural order, which is the table's own), as of
/// its cells now.
pub fn sort_order(table: &DeviceTable, key: SortKey) -> Option<Arc<SortOrder>> {
    let slot = match key {
        SortKey::Natural => return None,
        SortKey::Thing => 0,
        SortKey::Expiry => 1,
        SortKey::Status => {
            let version = table.cells_version();
            let mut status = table
                .index()
                .status
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some((built, order)) = status.as_ref()
                && *built == version
            {
                return Some(Arc::clone(order));
            }
            let order = Arc::new(SortOrder::build(table, key));
            *status = Some((version, Arc::clone(&order)));
            return Some(order);
        }
    };
    Some(Arc::clone(
        table.index().fixed_sorts[slot].get_or_init(|| Arc::new(SortOrder::build(table, key))),
    ))
}
