//! Plain-text tables and CSV from the same rows. Cells are sanitized on the way in.

use super::sanitize::clean;

/// Longest a table cell may be before it is cut with `…` (CSV keeps everything).
pub const MAX_CELL: usize = 64;

/// Rows under named columns: the table and CSV form of a report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Column headers.
    pub columns: Vec<&'static str>,
    /// Rows of cells, one per column, already sanitized.
    pub rows: Vec<Vec<String>>,
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

    /// Adds a row, sanitizing every cell.
    pub fn push<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.rows
            .push(cells.into_iter().map(|c| clean(c.as_ref())).collect());
    }

    /// Aligned columns separated by two spaces; header in bold when `bold_header`.
    #[must_use]
    pub fn to_text(&self, bold_header: bool) -> String {
        let cut = |cell: &str| -> String {
            if cell.chars().count() > MAX_CELL {
                let mut s: String = cell.chars().take(MAX_CELL - 1).collect();
                s.push('…');
                s
            } else {
                cell.to_owned()
            }
        };
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.iter().map(|c| cut(c)).collect())
            .collect();
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| -> String {
            let mut out = String::new();
            for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
                if i + 1 == cells.len() {
                    out.push_str(cell);
                } else {
                    let pad = w.saturating_sub(cell.chars().count());
                    out.push_str(cell);
                    out.extend(std::iter::repeat_n(' ', pad + 2));
                }
            }
            out.trim_end().to_owned()
        };
        let header: Vec<String> = self.columns.iter().map(|c| (*c).to_owned()).collect();
        let mut out = if bold_header {
            format!("\u{1b}[1m{}\u{1b}[0m\n", line(&header))
        } else {
            format!("{}\n", line(&header))
        };
        for row in &rows {
            out.push_str(&line(row));
            out.push('\n');
        }
        out
    }

    /// RFC 4180 CSV with a header row. Text cells that a spreadsheet would run as a formula
    /// (starting with `=`, `+`, `@`, or `-` not followed by a digit) get a leading `'`.
    #[must_use]
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let header: Vec<String> = self.columns.iter().map(|c| (*c).to_owned()).collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let cells: Vec<String> = row.iter().map(|c| csv_field(c)).collect();
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
        t.push(["=cmd|' /C calc'!A0", "x,\"y\""]);
        t.push(["-5", "-x"]);
        assert_eq!(
            t.to_csv(),
            "a,b\r\n'=cmd|' /C calc'!A0,\"x,\"\"y\"\"\"\r\n-5,'-x\r\n"
        );
    }

    #[test]
    fn text_aligns_columns_and_cuts_long_cells() {
        let mut t = Table::new(&["id", "name"]);
        t.push(["1", &"n".repeat(100)]);
        t.push(["22", "b\u{1b}[31m"]);
        let text = t.to_text(false);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "id  name");
        assert!(lines[1].ends_with('…'));
        assert_eq!(lines[1].chars().count(), 4 + MAX_CELL);
        assert_eq!(lines[2], "22  b\u{FFFD}[31m");
    }
}
