//! Where the dashboard's boxes go: two columns below 120 cells (at 80×24 every box fits with
//! its whole title), three from 120 on, where the expiry calendar shows more weeks and the
//! lists more rows. The sources line takes the last row when there is a row to spare.

use ratatui::layout::{Constraint, Layout, Rect};

/// From this width on the dashboard is laid out in three columns.
pub const WIDE: u16 = 120;

/// Height the two columns need for every box at its smallest readable size.
const COMPACT_HEIGHT: u16 = 21;

/// The dashboard's boxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Boxes {
    /// Certificates by status.
    pub certificates: Rect,
    /// The expiry calendar with the expired and expiring sums.
    pub expiry: Rect,
    /// Connected devices over the last hour.
    pub connected: Rect,
    /// The most severe open anomalies.
    pub anomalies: Rect,
    /// CA chains with their flags.
    pub cas: Rect,
    /// Campaigns and operations in progress, and the next trust anchor's share.
    pub in_progress: Rect,
    /// One line: the age of every source.
    pub sources: Option<Rect>,
}

/// Lays out `area`.
#[must_use]
pub fn boxes(area: Rect) -> Boxes {
    let min_height = if area.width >= WIDE {
        17
    } else {
        COMPACT_HEIGHT
    };
    let (area, sources) = if area.height > min_height {
        let [rest, sources] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(area);
        (rest, Some(sources))
    } else {
        (area, None)
    };
    if area.width >= WIDE {
        wide(area, sources)
    } else {
        compact(area, sources)
    }
}

fn compact(area: Rect, sources: Option<Rect>) -> Boxes {
    let [left, right] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
    let [certificates, expiry, connected] = Layout::vertical([
        Constraint::Length(7),
        Constraint::Length(10),
        Constraint::Min(4),
    ])
    .areas(left);
    let [anomalies, cas, in_progress] = Layout::vertical([
        Constraint::Fill(1),
        Constraint::Fill(1),
        Constraint::Length(6),
    ])
    .areas(right);
    Boxes {
        certificates,
        expiry,
        connected,
        anomalies,
        cas,
        in_progress,
        sources,
    }
}

fn wide(area: Rect, sources: Option<Rect>) -> Boxes {
    let [top, bottom] = Layout::vertical([Constraint::Length(10), Constraint::Min(7)]).areas(area);
    let [certificates, expiry, connected] = Layout::horizontal([
        Constraint::Length(36),
        Constraint::Fill(1),
        Constraint::Percentage(30),
    ])
    .areas(top);
    let [anomalies, cas, in_progress] = Layout::horizontal([
        Constraint::Percentage(45),
        Constraint::Percentage(30),
        Constraint::Fill(1),
    ])
    .areas(bottom);
    Boxes {
        certificates,
        expiry,
        connected,
        anomalies,
        cas,
        in_progress,
        sources,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(b: &Boxes) -> [Rect; 6] {
        [
            b.certificates,
            b.expiry,
            b.connected,
            b.anomalies,
            b.cas,
            b.in_progress,
        ]
    }

    #[test]
    fn at_80x24_every_box_has_room_for_its_content() {
        // The body of an 80x24 screen: banner, tabs and status line take three rows.
        let b = boxes(Rect::new(0, 2, 80, 21));
        assert_eq!(b.certificates.height, 7, "five states");
        assert_eq!(b.expiry.height, 10, "month line and seven weekdays");
        assert!(b.connected.height >= 4, "{:?}", b.connected);
        assert!(b.anomalies.height >= 7 && b.cas.height >= 7, "{b:?}");
        assert!(all(&b).iter().all(|r| r.width >= 40));
        assert_eq!(b.sources, None);
    }

    #[test]
    fn a_taller_screen_gains_the_sources_line_and_longer_lists() {
        let b = boxes(Rect::new(0, 2, 200, 57));
        assert_eq!(b.sources.map(|r| (r.y, r.height)), Some((58, 1)));
        assert!(b.anomalies.height >= 40, "{b:?}");
        assert!(b.expiry.width > 80, "{b:?}");
    }

    #[test]
    fn boxes_never_overlap() {
        for (w, h) in [
            (80, 21),
            (100, 30),
            (120, 21),
            (160, 45),
            (200, 57),
            (40, 10),
        ] {
            let b = all(&boxes(Rect::new(0, 0, w, h)));
            for (i, a) in b.iter().enumerate() {
                for c in &b[i + 1..] {
                    assert!(a.intersection(*c).is_empty(), "{w}x{h}: {a:?} {c:?}");
                }
            }
        }
    }
}
