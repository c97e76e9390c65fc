//! Plain-text tables and CSV from the same rows. A cell is a [`SafeText`]: text that was not
//! cleaned cannot become one.

use crate::safe_text::SafeText;

/// Longest a table cell may be before it is cut with `…` (CSV keeps everything).
pub const MAX_CELL: usize = 64;

/// Rows under named columns: the table and CSV form of a report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Column headers.
    pub columns: Vec<&'static str>,
    /// Rows of cells, one per column.
    pub rows: Vec<Vec<SafeText<'static>>>,
}

impl Table {
    /// A table with these columns and no rows.
    #[must_use]
    pub fn new(columns: &[&'static str]) -> Self {
        Self {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn push<'a>(&mut self, cells: impl IntoIterator<Item = SafeText<'a>>) {
        self.rows
            .push(cells.into_iter().map(SafeText::into_owned).collect());
    }

    /// Aligned columns separated by two spaces; header in bold when `bold_header`.
    #[must_use]
    pub fn to_text(&self, bold_header: bool) -> String {
        let rows: Vec<Vec<SafeText<'_>>> = self
            .rows
            .iter()
            .map(|r| r.iter().map(|c| c.cut(MAX_CELL)).collect())
            .collect();
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.char_count());
            }
        }
        let line = |cells: &mut dyn ExactSizeIterator<Item = &str>| -> String {
            let last = cells.len();
            let mut out = String::new();
            for (i, (cell, w)) in cells.zip(&widths).enumerate() {
                out.push_str(cell);
                if i + 1 < last {
                    let pad = w.saturating_sub(cell.chars().count());
                    out.extend(std::iter::repeat_n(' ', pad + 2));
                }
            }
            out.trim_end().to_owned()
        };
        let header = line(&mut self.columns.iter().copied());
        let mut out = if bold_header {
            format!("\u{1b}[1m{header}\u{1b}[0m\n")
        } else {
            format!("{header}\n")
        };
        for row in &rows {
            out.push_str(&line(&mut row.iter().map(SafeText::as_str)));
            out.push('\n');
        }
        out
    }

    /// RFC 4180 CSV with a header row. Text cells that a spreadsheet would run as a formula
    /// (starting with `=`, `+`, `@`, or `-` not followed by a digit) get a leading `'`.
    #[must_use]
    pub fn to_csv(&self) -> String {
        let mut out = self.columns.join(",");
        out.push_str("\r\n");
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|c| csv_field(c.as_str())).collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        out
    }
}

fn csv_field(cell: &str) -> String {
    let mut chars = cell.chars();
    let formula = match chars.next() {
        Some('=' | '+' | '@') => true,
        Some('-') => !chars.next().is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    };
    let cell = if formula {
        format!("'{cell}")
    } else {
        cell.to_owned()
    };
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let mut t = Table::new(&["a", "b"]);
        t.push(["=cmd|' /C calc'!A0", "x,\"y\""].map(SafeText::new));
        t.push(["-5", "-x"].map(SafeText::new));
        assert_eq!(
            t.to_csv(),
            "a,b\r\n'=cmd|' /C calc'!A0,\"x,\"\"y\"\"\"\r\n-5,'-x\r\n"
        );
    }

    #[test]
    fn text_aligns_columns_and_cuts_long_cells() {
        let mut t = Table::new(&["id", "name"]);
        t.push(["1", &"n".repeat(100)].map(SafeText::new));
        t.push(["22", "b\u{1b}[31m"].map(SafeText::new));
        let text = t.to_text(false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "id  name");
        assert!(lines[1].ends_with('…'));
        assert_eq!(lines[1].chars().count(), 4 + MAX_CELL);
        assert_eq!(lines[2], "22  b\u{FFFD}[31m");
    }
}
