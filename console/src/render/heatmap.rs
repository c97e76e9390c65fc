//! `heatmap`: expiring active certificates per day as a text calendar (weeks x weekdays).

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{Report, Table, freshness};
use crate::model::{Cohort, Day, FleetState, UnixTime};
use crate::safe_text::SafeText;

/// Monday-based weekday index (0 = Monday) of a day; 1970-01-01 was a Thursday.
fn weekday(day: Day) -> i32 {
    (day.0 + 3).rem_euclid(7)
}

/// The calendar for `cohort` (shown as `label`) over `weeks` weeks starting with the week of
/// `now`. Expired days of the current week are included.
#[must_use]
pub fn heatmap_report(
    state: &FleetState,
    cohort: Cohort,
    label: &str,
    weeks: u16,
    now: UnixTime,
) -> Report {
    let today = now.day();
    let first = Day(today.0 - weekday(today));
    let last = Day(first.0 + i32::from(weeks.max(1)) * 7 - 1);
    let histogram = state.expiry_histogram();
    let days: Vec<(Day, u64)> = histogram.days(cohort, first, last).collect();
    let total: u64 = days.iter().map(|(_, n)| n).sum();
    let peak = days.iter().map(|(_, n)| *n).max().unwrap_or(0);

    let mut text = format!(
        "active certificates expiring per day, cohort {}, {} to {} (total {total}, peak {peak})\n",
        SafeText::new(label),
        first.iso(),
        last.iso()
    );
    text.push_str("week of        Mon   Tue   Wed   Thu   Fri   Sat   Sun\n");
    let mut week = first;
    while week <= last {
        let _ = write!(text, "{}  ", week.iso());
        for offset in 0..7 {
            let day = Day(week.0 + offset);
            let n = histogram.count(cohort, day);
            let cell = match (n, day == today) {
                (0, true) => "[.]".to_owned(),
                (0, false) => ".".to_owned(),
                (n, true) => format!("[{n}]"),
                (n, false) => n.to_string(),
            };
            let _ = write!(text, "{cell:>6}");
        }
        text.push('\n');
        week = Day(week.0 + 7);
    }
    text.push_str("[n] = today; . = none\n");

    let mut table = Table::new(&["DATE", "COUNT"]);
    for (day, n) in &days {
        table.push([day.iso(), n.to_string()].map(SafeText::from_string));
    }
    let data = json!({
        "cohort": label,
        "from": first.iso(),
        "to": last.iso(),
        "total": total,
        "days": days
            .iter()
            .map(|(day, n)| json!({"date": day.iso(), "count": n}))
            .collect::<Vec<Value>>(),
    });
    Report {
        kind: "heatmap",
        data,
        table,
        text: Some(SafeText::lines(&text)),
        freshness: freshness(state, now),
        generated_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekdays_start_on_monday() {
        assert_eq!(weekday(Day(0)), 3); // 1970-01-01, a Thursday
        assert_eq!(weekday(Day(4)), 0); // 1970-01-05, a Monday
        assert_eq!(weekday(Day(-1)), 2);
    }
}
