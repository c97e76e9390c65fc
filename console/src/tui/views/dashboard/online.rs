//! Connected devices over the last hour: a bounded ring of (time, online) samples taken as
//! snapshots arrive, and its reduction to one value per sparkline column.

use std::collections::VecDeque;

use crate::tui::data::UnixSeconds;

/// How far back the sparkline looks.
pub const WINDOW: i64 = 3_600;

/// Samples closer together than this share one slot (the newest wins), so a snapshot every
/// half second keeps the ring at one entry per 10 s.
const SLOT: i64 = 10;

/// At most this many samples are kept: an hour of slots and the one before it.
const CAPACITY: usize = (WINDOW / SLOT) as usize + 2;

/// Devices online, as sampled when snapshots arrived.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OnlineHistory {
    samples: VecDeque<(UnixSeconds, Option<u64>)>,
}

impl OnlineHistory {
    /// Records `online` (unknown when `None`) at `at`. A sample older than the newest is
    /// ignored; samples in the same 10 s slot replace each other.
    pub fn record(&mut self, at: UnixSeconds, online: Option<u64>) {
        if let Some(&(last, _)) = self.samples.back() {
            if at < last {
                return;
            }
            if at.div_euclid(SLOT) == last.div_euclid(SLOT) {
                self.samples.pop_back();
            }
        }
        self.samples.push_back((at, online));
        // Keep one sample from before the window: it says what the window starts with.
        while self.samples.len() > 1 && self.samples[1].0 <= at - WINDOW {
            self.samples.pop_front();
        }
        while self.samples.len() > CAPACITY {
            self.samples.pop_front();
        }
    }

    /// How many samples are kept.
    #[must_use]
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether nothing was recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The hour before `now` in `columns` equal steps, oldest first: each the value known at
    /// the step's end (the last sample at or before it), `None` where nothing was known yet or
    /// the count was unknown. `latest` (the snapshot on screen) counts as one more sample.
    #[must_use]
    pub fn columns(
        &self,
        now: UnixSeconds,
        columns: usize,
        latest: (UnixSeconds, Option<u64>),
    ) -> Vec<Option<u64>> {
        let Ok(steps) = i64::try_from(columns) else {
            return Vec::new();
        };
        if steps == 0 {
            return Vec::new();
        }
        let mut samples = self.samples.iter().copied().chain(std::iter::once(latest));
        let mut next = samples.next();
        let mut known = None;
        let mut out = Vec::with_capacity(columns);
        for step in 1..=steps {
            let end = now - WINDOW + WINDOW * step / steps;
            while let Some((at, online)) = next {
                if at > end {
                    break;
                }
                known = Some(online);
                next = samples.next();
            }
            out.push(known.flatten());
        }
        out
    }

    /// The lowest and highest count known within the hour before `now` (with `latest`).
    #[must_use]
    pub fn range(
        &self,
        now: UnixSeconds,
        latest: (UnixSeconds, Option<u64>),
    ) -> Option<(u64, u64)> {
        let window_start = now - WINDOW;
        // The sample in force when the window opened counts too.
        let before = self
            .samples
            .iter()
            .rev()
            .find(|(at, _)| *at <= window_start)
            .and_then(|(_, online)| *online);
        self.samples
            .iter()
            .chain(std::iter::once(&latest))
            .filter(|(at, _)| *at > window_start && *at <= now)
            .filter_map(|(_, online)| *online)
            .chain(before)
            .fold(None, |range, n| match range {
                None => Some((n, n)),
                Some((low, high)) => Some((low.min(n), high.max(n))),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_600_000;

    #[test]
    fn samples_in_one_slot_keep_the_newest() {
        let mut history = OnlineHistory::default();
        history.record(NOW, Some(5));
        history.record(NOW + 1, Some(6));
        history.record(NOW + 2, Some(7));
        assert_eq!(history.len(), 1);
        history.record(NOW + SLOT, Some(8));
        assert_eq!(history.len(), 2);
        // Late samples do not rewrite history.
        history.record(NOW - 100, Some(1));
        assert_eq!(history.len(), 2);
    }

    #[test]
    fn the_ring_stays_bounded_and_keeps_the_hours_opening_value() {
        let mut history = OnlineHistory::default();
        for i in 0..10_000 {
            history.record(NOW + i, Some(u64::try_from(i).unwrap_or(0)));
        }
        assert!(history.len() <= CAPACITY, "{}", history.len());
        let now = NOW + 9_999;
        let columns = history.columns(now, 6, (now, Some(9_999)));
        assert!(columns.iter().all(Option::is_some), "{columns:?}");
    }

    #[test]
    fn columns_carry_the_last_known_value_forward() {
        let mut history = OnlineHistory::default();
        history.record(NOW - 3_000, Some(10));
        history.record(NOW - 1_000, None);
        history.record(NOW - 500, Some(30));
        let columns = history.columns(NOW, 6, (NOW, Some(40)));
        // Steps end at -3000, -2400, -1800, -1200, -600, 0.
        assert_eq!(
            columns,
            vec![Some(10), Some(10), Some(10), Some(10), None, Some(40)]
        );
        assert_eq!(history.range(NOW, (NOW, Some(40))), Some((10, 40)));
    }

    #[test]
    fn nothing_known_before_the_first_sample() {
        let history = OnlineHistory::default();
        let columns = history.columns(NOW, 4, (NOW - 100, Some(7)));
        assert_eq!(columns, vec![None, None, None, Some(7)]);
        assert_eq!(history.columns(NOW, 0, (NOW, Some(7))), Vec::new());
        assert_eq!(history.range(NOW, (NOW, None)), None);
    }
}
