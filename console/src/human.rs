//! Times, counts and shares as people read them: `2026-12-09 17:52Z`, `5 min ago`, `in 3 d`,
//! `1 certificate`, `0.1 %`. Every view of the console and the CLI's human-readable reports
//! write these through here, so fleetid speaks one way (JSON keeps RFC 3339 and numbers).

const MINUTE: i64 = 60;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// The civil date (year, month, day) of a day number (days since 1970-01-01).
#[must_use]
pub fn civil_date(day: i64) -> (i64, u32, u32) {
    // Howard Hinnant's days_from_civil inverse.
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

/// `2026-12-09`: the UTC date of a Unix time.
#[must_use]
pub fn date(unix: i64) -> String {
    let (y, m, d) = civil_date(unix.div_euclid(DAY));
    format!("{y:04}-{m:02}-{d:02}")
}

/// `2026-12-09 17:52Z`: a Unix time to the minute, in UTC, marked as such.
#[must_use]
pub fn timestamp(unix: i64) -> String {
    let secs = unix.rem_euclid(DAY);
    format!(
        "{} {:02}:{:02}Z",
        date(unix),
        secs / HOUR,
        secs % HOUR / MINUTE
    )
}

/// `45 s`, `10 min`, `3 h`, `7 d`: a length of time, rounded down, in the largest unit that
/// still reads as at least 2 (so 90 seconds is `90 s`, not `1 min`). The sign is dropped.
#[must_use]
pub fn span(seconds: i64) -> String {
    let s = seconds.unsigned_abs();
    let (minute, hour, day) = (
        MINUTE.unsigned_abs(),
        HOUR.unsigned_abs(),
        DAY.unsigned_abs(),
    );
    if s < 2 * minute {
        format!("{s} s")
    } else if s < 2 * hour {
        format!("{} min", s / minute)
    } else if s < 2 * day {
        format!("{} h", s / hour)
    } else {
        format!("{} d", s / day)
    }
}

/// `5 min ago` when `then` is before `now`, `in 3 d` when after; `0 s ago` at `now`.
#[must_use]
pub fn relative(now: i64, then: i64) -> String {
    let delta = now.saturating_sub(then);
    if delta >= 0 {
        format!("{} ago", span(delta))
    } else {
        format!("in {}", span(delta))
    }
}

/// `1 certificate`, `2 certificates`, `0 entries`: a count with its noun, singular for
/// exactly one. The plural follows the regular English rules (see [`plural`]).
#[must_use]
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {}", plural(noun))
    }
}

/// The regular plural of an English noun: `entry` → `entries`, `match` → `matches`,
/// `certificate` → `certificates`, `day` → `days`.
#[must_use]
pub fn plural(noun: &str) -> String {
    let mut out = String::with_capacity(noun.len() + 2);
    let before_y = noun
        .strip_suffix('y')
        .filter(|stem| stem.chars().last().is_some_and(|c| !"aeiou".contains(c)));
    if let Some(stem) = before_y {
        out.push_str(stem);
        out.push_str("ies");
    } else if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|end| noun.ends_with(end))
    {
        out.push_str(noun);
        out.push_str("es");
    } else {
        out.push_str(noun);
        out.push('s');
    }
    out
}

/// `0.1 %`: `part` of `whole` as a percentage with one decimal. A share that is not zero never
/// reads as zero (`<0.1 %`), one short of the whole never as all of it (`>99.9 %`); exactly
/// none is `0 %`, exactly all `100 %`. A share of nothing is `-`.
#[must_use]
pub fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "-".to_owned();
    }
    if part == 0 {
        return "0 %".to_owned();
    }
    if part >= whole {
        return "100 %".to_owned();
    }
    // Tenths of a percent, in integers, so 1 of 2,000 (0.05 %) rounds the same everywhere.
    let tenths = (u128::from(part) * 2_000 + u128::from(whole)) / (2 * u128::from(whole));
    match tenths {
        0 => "<0.1 %".to_owned(),
        1_000.. => ">99.9 %".to_owned(),
        t => format!("{}.{} %", t / 10, t % 10),
    }
}

/// A percentage already computed (`0.04` is 0.04 %) the way [`share`] writes one.
#[must_use]
pub fn percent(value: f64) -> String {
    if value.is_nan() || value <= 0.0 {
        return "0 %".to_owned();
    }
    if value >= 100.0 {
        return "100 %".to_owned();
    }
    let tenths = (value * 10.0).round();
    if tenths < 1.0 {
        "<0.1 %".to_owned()
    } else if tenths >= 1_000.0 {
        ">99.9 %".to_owned()
    } else {
        format!("{:.1} %", tenths / 10.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_600_000; // 2026-11-25 09:46:40Z

    #[test]
    fn dates_are_civil_and_utc() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(NOW), "2026-11-25");
        assert_eq!(date(951_782_400), "2000-02-29");
        assert_eq!(date(-1), "1969-12-31");
        assert_eq!(timestamp(NOW + 3_660), "2026-11-25 10:47Z");
        assert_eq!(timestamp(1_797_011_526), "2026-12-11 17:52Z");
        assert_eq!(timestamp(0), "1970-01-01 00:00Z");
        // Seconds are dropped, not rounded.
        assert_eq!(timestamp(59), "1970-01-01 00:00Z");
    }

    #[test]
    fn spans_change_unit_at_twice_the_unit() {
        assert_eq!(span(0), "0 s");
        assert_eq!(span(1), "1 s");
        assert_eq!(span(59), "59 s");
        assert_eq!(span(60), "60 s");
        assert_eq!(span(119), "119 s");
        assert_eq!(span(120), "2 min");
        assert_eq!(span(2 * HOUR - 1), "119 min");
        assert_eq!(span(2 * HOUR), "2 h");
        assert_eq!(span(2 * DAY - 1), "47 h");
        assert_eq!(span(2 * DAY), "2 d");
        assert_eq!(span(400 * DAY + 5), "400 d");
        assert_eq!(span(-3 * DAY), "3 d");
        assert_eq!(
            span(i64::MIN),
            format!("{} d", i64::MIN.unsigned_abs() / 86_400)
        );
    }

    #[test]
    fn relative_times_say_which_way() {
        assert_eq!(relative(NOW, NOW), "0 s ago");
        assert_eq!(relative(NOW, NOW - 12), "12 s ago");
        assert_eq!(relative(NOW, NOW - 5 * MINUTE), "5 min ago");
        assert_eq!(relative(NOW, NOW - 2 * HOUR), "2 h ago");
        assert_eq!(relative(NOW, NOW + 1), "in 1 s");
        assert_eq!(relative(NOW, NOW + 3 * DAY + 5 * HOUR), "in 3 d");
        // A countdown rounds down: never more time left than there is.
        assert_eq!(relative(NOW, NOW + 2 * DAY - 1), "in 47 h");
        assert_eq!(relative(i64::MAX, i64::MIN), relative(i64::MAX, i64::MIN));
    }

    #[test]
    fn counts_agree_with_their_noun() {
        assert_eq!(count(0, "certificate"), "0 certificates");
        assert_eq!(count(1, "certificate"), "1 certificate");
        assert_eq!(count(2, "certificate"), "2 certificates");
        assert_eq!(count(1, "entry"), "1 entry");
        assert_eq!(count(3, "entry"), "3 entries");
        assert_eq!(count(2, "day"), "2 days");
        assert_eq!(count(2, "match"), "2 matches");
        assert_eq!(count(2, "anomaly"), "2 anomalies");
        assert_eq!(count(2, "thing"), "2 things");
    }

    #[test]
    fn shares_never_round_to_none_or_all() {
        assert_eq!(share(0, 1_000), "0 %");
        assert_eq!(share(1, 1_000), "0.1 %");
        assert_eq!(share(4, 10_000), "<0.1 %"); // 0.04 %
        assert_eq!(share(5, 10_000), "0.1 %"); // 0.05 % rounds up
        assert_eq!(share(1, 3), "33.3 %");
        assert_eq!(share(1, 2), "50.0 %");
        assert_eq!(share(9_996, 10_000), ">99.9 %"); // 99.96 %
        assert_eq!(share(9_994, 10_000), "99.9 %");
        assert_eq!(share(1_000, 1_000), "100 %");
        assert_eq!(share(0, 0), "-");
        assert_eq!(share(u64::MAX - 1, u64::MAX), ">99.9 %");
    }

    #[test]
    fn percentages_read_like_shares() {
        assert_eq!(percent(0.0), "0 %");
        assert_eq!(percent(0.04), "<0.1 %");
        assert_eq!(percent(0.1), "0.1 %");
        assert_eq!(percent(12.345), "12.3 %");
        assert_eq!(percent(99.96), ">99.9 %");
        assert_eq!(percent(100.0), "100 %");
        assert_eq!(percent(f64::NAN), "0 %");
        assert_eq!(percent(-3.0), "0 %");
    }
}
