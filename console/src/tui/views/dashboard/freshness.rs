//! How old each box's numbers are: the age in every box title (stale or unavailable sources
//! in the stale style), and the line that lists every source.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::human::{count, relative};
use crate::model::Source;
use crate::tui::data::{FleetSnapshot, Freshness};
use crate::tui::widgets::Paint;

/// A freshness older than this is drawn as stale.
pub const STALE_AFTER: i64 = 15 * 60;

/// The sources the anomaly feed is made of.
pub const ANOMALY_SOURCES: [Source; 3] = [
    Source::DefenderDetect,
    Source::DefenderAudit,
    Source::CloudWatch,
];

/// The freshness of `source`, if the snapshot lists it.
#[must_use]
pub fn of(snapshot: &FleetSnapshot, source: Source) -> Option<&Freshness> {
    snapshot
        .dashboard
        .freshness
        .iter()
        .find(|f| f.source == source)
}

/// The worst of several sources: an unavailable one, else one never loaded, else the oldest.
#[must_use]
pub fn worst_of<'a>(snapshot: &'a FleetSnapshot, sources: &[Source]) -> Option<&'a Freshness> {
    sources
        .iter()
        .filter_map(|source| of(snapshot, *source))
        .min_by_key(|f| (f.available, f.updated.is_some(), f.updated))
}

/// Whether a source's numbers should not be trusted as current.
#[must_use]
pub fn is_stale(paint: &Paint, fresh: Option<&Freshness>) -> bool {
    let updated = fresh.and_then(|f| f.updated);
    updated.is_none_or(|t| paint.now - t > STALE_AFTER) || fresh.is_some_and(|f| !f.available)
}

fn age_style(paint: &Paint, fresh: Option<&Freshness>) -> Style {
    let scope = if is_stale(paint, fresh) {
        "ui.stale"
    } else {
        "ui.text.dim"
    };
    paint.theme.style(scope)
}

/// The ways a source's age can be said, longest first: `unavailable, 1 h ago`, then
/// `unavailable`; `12 s ago`; `not loaded`.
fn age_texts(paint: &Paint, fresh: Option<&Freshness>) -> Vec<String> {
    let age = fresh
        .and_then(|f| f.updated)
        .map(|at| relative(paint.now, at));
    match (fresh.is_some_and(|f| !f.available), age) {
        (true, Some(age)) => vec![format!("unavailable, {age}"), "unavailable".to_owned()],
        (true, None) => vec!["unavailable".to_owned()],
        (false, Some(age)) => vec![age],
        (false, None) => vec!["not loaded".to_owned()],
    }
}

/// A box title, ` name (age) `, in the longest form that fits a box `width` cells wide
/// (the corners take two): the age drops its detail before the title is ever cut.
#[must_use]
pub fn title(paint: &Paint, name: &str, fresh: Option<&Freshness>, width: u16) -> Line<'static> {
    let room = usize::from(width.saturating_sub(2));
    let texts = age_texts(paint, fresh);
    let age = texts
        .iter()
        .find(|age| name.chars().count() + age.chars().count() + 5 <= room)
        .or(texts.last())
        .cloned()
        .unwrap_or_default();
    Line::from(vec![
        Span::raw(format!(" {name} ")),
        Span::styled(format!("({age})"), age_style(paint, fresh)),
        Span::raw(" "),
    ])
}

/// Every source with its age on one line, or, when they do not all fit in `width`, only the
/// stale and unavailable ones (`all 5 sources current` when none is).
#[must_use]
pub fn sources_line(paint: &Paint, snapshot: &FleetSnapshot, width: u16) -> Line<'static> {
    let dim = paint.theme.style("ui.text.dim");
    let entry = |fresh: &Freshness| {
        let texts = age_texts(paint, Some(fresh));
        vec![
            Span::raw(format!("{} ", fresh.source.name())),
            Span::styled(
                texts.first().cloned().unwrap_or_default(),
                age_style(paint, Some(fresh)),
            ),
            Span::raw("   "),
        ]
    };
    let all = &snapshot.dashboard.freshness;
    let mut spans = vec![Span::styled("sources: ", dim)];
    spans.extend(all.iter().flat_map(entry));
    let length: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    if length <= usize::from(width) + 3 {
        return Line::from(spans);
    }
    let stale: Vec<&Freshness> = all.iter().filter(|f| is_stale(paint, Some(f))).collect();
    if stale.is_empty() {
        let sources = count(all.len() as u64, "source");
        return Line::styled(format!("all {sources} current"), dim);
    }
    let mut spans = vec![Span::styled("stale sources: ", dim)];
    spans.extend(stale.into_iter().flat_map(entry));
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::theme::ThemeSet;
    use crate::tui::widgets::Glyphs;

    const NOW: i64 = 1_795_600_000;

    fn text(line: &Line) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn a_title_drops_the_ages_detail_before_it_is_cut() {
        let theme = ThemeSet::bundled()
            .load("mono")
            .unwrap_or_else(|e| panic!("{e}"));
        let paint = Paint {
            theme: &theme,
            glyphs: Glyphs::Unicode,
            now: NOW,
        };
        let down = Freshness {
            source: Source::DefenderDetect,
            updated: Some(NOW - 3_960),
            available: false,
        };
        let title_of = |width| text(&title(&paint, "Anomalies", Some(&down), width));
        assert_eq!(title_of(40), " Anomalies (unavailable, 66 min ago) ");
        assert_eq!(title_of(30), " Anomalies (unavailable) ");
        let fresh = Freshness {
            available: true,
            updated: Some(NOW - 12),
            ..down.clone()
        };
        let title = title(&paint, "Certificates", Some(&fresh), 40);
        assert_eq!(text(&title), " Certificates (12 s ago) ");
        assert_eq!(
            text(&super::title(&paint, "Certificates", None, 40)),
            " Certificates (not loaded) "
        );
        assert!(is_stale(&paint, Some(&down)));
        assert!(!is_stale(&paint, Some(&fresh)));
        assert!(is_stale(&paint, None));
    }
}
