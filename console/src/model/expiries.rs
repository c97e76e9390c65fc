//! The expiry of every active certificate, sorted — what a summary carries for the health
//! verdict — kept by changes once a summary asked for it: `account` logs every active
//! certificate that comes or goes, and the next summary merges the log in. A certificate
//! retracted and accounted again unchanged (live status moving its thing to another firmware)
//! cancels out, so a stream of live status costs the summary nothing here. Until a summary
//! asks, nothing is kept or logged (a load or a command pays nothing).

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use super::ids::UnixTime;

/// See the module documentation.
#[derive(Debug, Default)]
pub(crate) struct ActiveExpiries(Mutex<Option<Kept>>);

#[derive(Debug, Default, Clone)]
struct Kept {
    sorted: Vec<UnixTime>,
    /// Changes since `sorted`: an active certificate expiring then came (+1) or went (-1).
    log: Vec<(UnixTime, i64)>,
}

impl Clone for ActiveExpiries {
    fn clone(&self) -> Self {
        Self(Mutex::new(
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        ))
    }
}

impl ActiveExpiries {
    /// An active certificate expiring `at` came (`sign` 1) or went (-1).
    pub(crate) fn change(&mut self, at: UnixTime, sign: i64) {
        if let Some(kept) = self.0.get_mut().unwrap_or_else(PoisonError::into_inner) {
            kept.log.push((at, sign));
        }
    }

    /// The expiries, ascending: made by `build` (which need not sort) the first time, brought
    /// up to date by the log after.
    pub(crate) fn sorted(&self, build: impl FnOnce() -> Vec<UnixTime>) -> Vec<UnixTime> {
        let mut guard = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let kept = guard.get_or_insert_with(|| {
            let mut sorted = build();
            sorted.sort_unstable();
            Kept {
                sorted,
                log: Vec::new(),
            }
        });
        kept.merge_log();
        kept.sorted.clone()
    }
}

impl Kept {
    fn merge_log(&mut self) {
        let mut net: BTreeMap<UnixTime, i64> = BTreeMap::new();
        for (at, sign) in self.log.drain(..) {
            *net.entry(at).or_insert(0) += sign;
        }
        net.retain(|_, n| *n != 0);
        if net.is_empty() {
            return;
        }
        let mut merged = Vec::with_capacity(self.sorted.len());
        let mut old = self.sorted.iter().copied().peekable();
        for (at, mut n) in net {
            while let Some(&t) = old.peek().filter(|&&t| t < at) {
                merged.push(t);
                old.next();
            }
            // Those expiring exactly `at`: drop the ones that went, add the ones that came.
            while n < 0 && old.peek() == Some(&at) {
                old.next();
                n += 1;
            }
            for _ in 0..n.max(0) {
                merged.push(at);
            }
        }
        merged.extend(old);
        self.sorted = merged;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_merge_into_the_sorted_list_and_cancelling_ones_cost_nothing() {
        let mut expiries = ActiveExpiries::default();
        expiries.change(UnixTime(5), 1);
        assert_eq!(
            expiries.sorted(|| vec![UnixTime(3), UnixTime(1), UnixTime(3)]),
            [UnixTime(1), UnixTime(3), UnixTime(3)],
            "built the first time; changes before that are in the build"
        );
        expiries.change(UnixTime(3), -1);
        expiries.change(UnixTime(2), 1);
        expiries.change(UnixTime(9), 1);
        expiries.change(UnixTime(1), -1);
        expiries.change(UnixTime(1), 1);
        let sorted = expiries.sorted(|| panic!("kept"));
        assert_eq!(sorted, [UnixTime(1), UnixTime(2), UnixTime(3), UnixTime(9)]);
        let copy = expiries.clone();
        assert_eq!(copy.sorted(|| panic!("kept")), sorted);
    }
}
