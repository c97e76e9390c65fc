//! Tests of the device filter: matching, constraints, sorting, cancellation, the worker.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use super::*;
use crate::tui::data::DAY;
use crate::tui::fixture::device_table;

const NOW: i64 = 1_795_600_000;

fn job(table: &Arc<DeviceTable>, query: DeviceQuery, sort: SortKey) -> FilterJob {
    FilterJob {
        generation: 1,
        table: Arc::clone(table),
        query,
        sort,
    }
}

fn run(job: &FilterJob) -> FilterResult {
    run_job(job, &AtomicU64::new(job.generation)).unwrap_or_else(|| panic!("not cancelled"))
}

fn text(t: &str) -> DeviceQuery {
    DeviceQuery {
        text: t.to_owned(),
        ..DeviceQuery::default()
    }
}

#[test]
fn an_empty_query_in_natural_order_selects_everything_without_allocating() {
    let table = Arc::new(device_table(100, NOW));
    let result = run(&job(&table, DeviceQuery::default(), SortKey::Natural));
    assert!(result.rows.is_none());
}

#[test]
fn fuzzy_text_matches_thing_names_best_first() {
    let table = Arc::new(device_table(2_000, NOW));
    let result = run(&job(&table, text("dev-0001234"), SortKey::Natural));
    let rows = result.rows.unwrap_or_else(|| panic!("filtered"));
    assert_eq!(*table.thing(rows[0] as usize), "dev-0001234");
    let loose = run(&job(&table, text("d1234"), SortKey::Natural));
    let loose = loose.rows.unwrap_or_else(|| panic!("filtered"));
    assert!(
        loose
            .iter()
            .any(|i| *table.thing(*i as usize) == "dev-0001234")
    );
    assert!(loose.len() < table.len());
    for i in loose.iter() {
        let row = table.row(*i as usize);
        assert!(
            score::subsequence_lower(row.thing.raw().as_bytes(), b"d1234")
                || score::subsequence_lower(row.cert.raw().as_bytes(), b"d1234")
        );
    }
}

#[test]
fn drill_down_constraints_select_the_day_and_cohort() {
    let table = Arc::new(device_table(5_000, NOW));
    let day = NOW / DAY + 10;
    let query = DeviceQuery {
        text: String::new(),
        expires_day: Some(day),
        cohort: Some((CohortKind::Ca, "Acme Device CA 2023".into())),
    };
    let rows = run(&job(&table, query, SortKey::Natural))
        .rows
        .unwrap_or_else(|| panic!("filtered"));
    assert!(!rows.is_empty());
    let expected = table
        .rows()
        .filter(|r| r.ca == 1 && r.expires.map(|t| t.div_euclid(DAY)) == Some(day))
        .count();
    assert_eq!(rows.len(), expected);
    let nobody = DeviceQuery {
        cohort: Some((CohortKind::Group, "no-such-group".into())),
        ..DeviceQuery::default()
    };
    let none = run(&job(&table, nobody, SortKey::Natural)).rows;
    assert_eq!(none.map(|r| r.len()), Some(0));
}

#[test]
fn sorting_by_expiry_puts_the_soonest_first() {
    let table = Arc::new(device_table(1_000, NOW));
    let rows = run(&job(&table, DeviceQuery::default(), SortKey::Expiry))
        .rows
        .unwrap_or_else(|| panic!("sorted"));
    assert_eq!(rows.len(), 1_000);
    let expiries: Vec<_> = rows.iter().map(|i| table.expires(*i as usize)).collect();
    assert!(expiries.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn a_newer_generation_cancels_a_running_job() {
    let table = Arc::new(device_table(20_000, NOW));
    let old = job(&table, text("dev"), SortKey::Natural);
    assert!(run_job(&old, &AtomicU64::new(2)).is_none());
}

#[test]
fn the_worker_delivers_the_newest_result() {
    let table = Arc::new(device_table(50_000, NOW));
    let (tx, rx) = mpsc::channel();
    let worker = FilterWorker::spawn(move |result| {
        let _ = tx.send(result.generation);
    })
    .unwrap_or_else(|e| panic!("{e}"));
    for generation in 1..=5 {
        worker.submit(FilterJob {
            generation,
            ..job(
                &table,
                text(&format!("dev-00{generation}")),
                SortKey::Natural,
            )
        });
    }
    let mut last = 0;
    while last != 5 {
        last = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("no result: {e}"));
    }
    drop(worker);
    assert_eq!(last, 5);
}

#[test]
fn a_slow_run_hands_over_what_it_has_found_so_far() {
    let table = Arc::new(device_table(3 * scan::CHUNK, NOW));
    let job = job(&table, text("dev"), SortKey::Natural);
    let partials = std::sync::Mutex::new(Vec::new());
    // One thread, so that the hand-over after the first chunk cannot hold them all.
    let done = FilterSession::with_threads(1)
        .run(&job, &AtomicU64::new(1), Duration::ZERO, &|r| {
            partials.lock().unwrap_or_else(|e| panic!("{e}")).push(r);
        })
        .unwrap_or_else(|| panic!("not cancelled"));
    let partials = partials.into_inner().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(partials.len(), 1, "one hand-over per run");
    assert!(!partials[0].complete && done.complete);
    let early = partials[0].rows.as_ref().map_or(0, |r| r.len());
    let all = done.rows.as_ref().map_or(0, |r| r.len());
    assert!(early > 0 && early < all, "{early} of {all}");
}

fn rows_of(result: Option<FilterResult>) -> Vec<u32> {
    result
        .unwrap_or_else(|| panic!("not cancelled"))
        .rows
        .map_or_else(Vec::new, |rows| rows.to_vec())
}

fn run_on(
    session: &mut FilterSession,
    table: &Arc<DeviceTable>,
    q: DeviceQuery,
    sort: SortKey,
) -> Vec<u32> {
    rows_of(session.run(
        &job(table, q, sort),
        &AtomicU64::new(1),
        PARTIAL_AFTER,
        &|_| {},
    ))
}

/// The score of one field as the plain loop has it: a fresh skim matcher, or nucleo's atom.
fn plain_score(scorer: FuzzyScorer, field: &str, text: &str) -> Option<i64> {
    use fuzzy_matcher::FuzzyMatcher;
    use fuzzy_matcher::skim::SkimMatcherV2;
    use nucleo_matcher::pattern::{Atom, AtomKind, CaseMatching, Normalization};
    match scorer {
        FuzzyScorer::SkimPort => SkimMatcherV2::default().fuzzy_match(field, text),
        FuzzyScorer::Nucleo | FuzzyScorer::NucleoAscii => {
            let atom = Atom::new(
                text,
                CaseMatching::Smart,
                Normalization::Smart,
                AtomKind::Fuzzy,
                false,
            );
            let mut matcher = nucleo_matcher::Matcher::new(nucleo_matcher::Config::DEFAULT);
            let mut chars = Vec::new();
            atom.score(
                nucleo_matcher::Utf32Str::new(field, &mut chars),
                &mut matcher,
            )
            .map(i64::from)
        }
    }
}

/// The filter as the plain loop it replaces: each field scored afresh, then a comparison
/// sort by (best score, row) or by the sort key.
fn reference(table: &DeviceTable, text: &str, sort: SortKey) -> Vec<u32> {
    reference_with(FuzzyScorer::default(), table, text, sort)
}

fn reference_with(scorer: FuzzyScorer, table: &DeviceTable, text: &str, sort: SortKey) -> Vec<u32> {
    let rows: Vec<_> = table.rows().collect();
    let mut hits: Vec<(i64, u32)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, row)| {
            let score = [row.thing.raw(), row.cert.raw()]
                .into_iter()
                .filter_map(|field| plain_score(scorer, field, text))
                .max()?;
            Some((score, u32::try_from(i).unwrap_or(u32::MAX)))
        })
        .collect();
    match sort {
        SortKey::Natural => hits.sort_by_key(|&(score, i)| (std::cmp::Reverse(score), i)),
        SortKey::Thing => hits.sort_by(|a, b| {
            rows[a.1 as usize]
                .thing
                .cmp(&rows[b.1 as usize].thing)
                .then(a.1.cmp(&b.1))
        }),
        SortKey::Expiry => {
            hits.sort_by_key(|&(_, i)| (rows[i as usize].expires.unwrap_or(i64::MAX), i));
        }
        SortKey::Status => hits.sort_by_key(|&(_, i)| (rows[i as usize].state, i)),
    }
    hits.into_iter().map(|(_, i)| i).collect()
}

#[test]
fn the_scan_equals_the_plain_loop_for_every_sort() {
    let table = Arc::new(device_table(10_000, NOW));
    for t in ["d9", "dev-0001", "a7f", "DEV", "zz"] {
        for sort in [
            SortKey::Natural,
            SortKey::Thing,
            SortKey::Expiry,
            SortKey::Status,
        ] {
            for scorer in SCORERS {
                let mut session = FilterSession::default().with_scorer(scorer);
                let got = run_on(&mut session, &table, text(t), sort);
                let expected = reference_with(scorer, &table, t, sort);
                assert_eq!(got, expected, "{t:?} {sort:?} {scorer:?}");
            }
        }
    }
}

#[test]
fn a_parallel_scan_equals_a_sequential_one() {
    let table = Arc::new(device_table(3 * scan::CHUNK + 123, NOW));
    for (t, sort) in [
        ("d9", SortKey::Natural),
        ("7", SortKey::Expiry),
        ("", SortKey::Thing),
    ] {
        let one = run_on(&mut FilterSession::with_threads(1), &table, text(t), sort);
        let four = run_on(&mut FilterSession::with_threads(4), &table, text(t), sort);
        assert!(!one.is_empty());
        assert_eq!(one, four, "{t:?} {sort:?}");
    }
}

#[test]
fn narrowing_skips_the_rows_the_previous_query_ruled_out() {
    let table = Arc::new(device_table(30_000, NOW));
    let mut session = FilterSession::with_threads(2);
    let broad = run_on(&mut session, &table, text("d9"), SortKey::Natural);
    let narrow = run_on(&mut session, &table, text("d9a"), SortKey::Natural);
    assert!(narrow.len() < broad.len());
    assert_eq!(narrow, reference(&table, "d9a", SortKey::Natural));
    // A different table is never narrowed from another's matches.
    let other = Arc::new(device_table(1_000, NOW));
    let fresh = run_on(&mut session, &other, text("d9a3"), SortKey::Natural);
    assert_eq!(fresh, reference(&other, "d9a3", SortKey::Natural));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(32))]
    #[test]
    fn narrowing_equals_a_full_rescan(
        first in "[dDeEv0-9a-f-]{0,3}",
        more in "[dDeEv0-9a-f-]{0,3}",
        sort in 0usize..4,
        ca in proptest::option::of(0usize..3),
        scorer in 0usize..3,
    ) {
        let table = table_for_properties();
        let sort = [SortKey::Natural, SortKey::Thing, SortKey::Expiry, SortKey::Status][sort];
        let scorer = SCORERS[scorer];
        let query = |t: &str| DeviceQuery {
            text: t.to_owned(),
            cohort: ca.map(|c| (CohortKind::Ca, table.names[c].raw().into())),
            ..DeviceQuery::default()
        };
        let extended = format!("{first}{more}");
        let mut session = FilterSession::with_threads(2).with_scorer(scorer);
        let _ = run_on(&mut session, table, query(&first), sort);
        let narrowed = run_on(&mut session, table, query(&extended), sort);
        let full = run_on(
            &mut FilterSession::with_threads(1).with_scorer(scorer),
            table,
            query(&extended),
            sort,
        );
        proptest::prop_assert_eq!(narrowed, full);
    }

    /// Typing and deleting in any order: every step's result, restored, narrowed or
    /// scanned, equals a full scan by a session that remembers nothing.
    #[test]
    fn every_edit_equals_a_full_scan(
        edits in proptest::collection::vec(proptest::option::of("[dDe9a0-]"), 1..12),
        sort in 0usize..2,
        scorer in 0usize..3,
    ) {
        let table = table_for_properties();
        let sort = [SortKey::Natural, SortKey::Expiry][sort];
        let scorer = SCORERS[scorer];
        let mut session = FilterSession::with_threads(2).with_scorer(scorer);
        let mut typed = String::new();
        for edit in edits {
            match edit {
                Some(c) => typed.push_str(&c),
                None => {
                    typed.pop();
                }
            }
            let got = run_on(&mut session, table, text(&typed), sort);
            let full = run_on(
                &mut FilterSession::with_threads(1).with_scorer(scorer),
                table,
                text(&typed),
                sort,
            );
            proptest::prop_assert_eq!(got, full, "{:?}", typed);
        }
    }
}

const SCORERS: [FuzzyScorer; 3] = [
    FuzzyScorer::SkimPort,
    FuzzyScorer::Nucleo,
    FuzzyScorer::NucleoAscii,
];

#[test]
fn every_scorer_selects_the_same_rows() {
    let table = Arc::new(device_table(10_000, NOW));
    for t in ["d9", "dev-0001", "a7f", "DEV", "0042"] {
        let chosen = SCORERS.map(|scorer| {
            let mut session = FilterSession::default().with_scorer(scorer);
            let mut rows = run_on(&mut session, &table, text(t), SortKey::Natural);
            rows.sort_unstable();
            rows
        });
        // Smart case: "DEV" matches nothing in lower-case names, in every one.
        assert_eq!(chosen[0].is_empty(), t == "DEV", "{t:?}");
        assert_eq!(chosen[0], chosen[1], "{t:?}");
        assert_eq!(chosen[1], chosen[2], "{t:?}");
    }
}

#[test]
fn deleting_back_restores_the_earlier_result_without_a_scan() {
    let table = Arc::new(device_table(30_000, NOW));
    for scorer in SCORERS {
        let mut session = FilterSession::with_threads(2).with_scorer(scorer);
        let latest = AtomicU64::new(1);
        let mut step = |t: &str| {
            session
                .run(
                    &job(&table, text(t), SortKey::Natural),
                    &latest,
                    PARTIAL_AFTER,
                    &|_| {},
                )
                .and_then(|r| r.rows)
                .unwrap_or_else(|| panic!("a result for {t:?}"))
        };
        let d9 = step("d9");
        let d9f = step("d9f");
        assert!(d9f.len() < d9.len());
        let back = step("d9");
        assert!(
            Arc::ptr_eq(&d9, &back),
            "the remembered result, not a new one"
        );
        assert_eq!(
            back.to_vec(),
            reference_with(scorer, &table, "d9", SortKey::Natural)
        );
        // Typing on from the restored query narrows again and is exact.
        let d9a = step("d9a");
        assert_eq!(
            d9a.to_vec(),
            reference_with(scorer, &table, "d9a", SortKey::Natural)
        );
    }
}

#[test]
fn a_result_handed_over_early_is_not_remembered_as_complete() {
    let table = Arc::new(device_table(3 * scan::CHUNK, NOW));
    let mut session = FilterSession::with_threads(1);
    let latest = AtomicU64::new(1);
    let partial = std::sync::Mutex::new(None);
    let done = session
        .run(
            &job(&table, text("d9"), SortKey::Natural),
            &latest,
            Duration::ZERO,
            &|r| {
                *partial.lock().unwrap_or_else(|e| panic!("{e}")) = r.rows;
            },
        )
        .unwrap_or_else(|| panic!("not cancelled"));
    let partial = partial.into_inner().unwrap_or_else(|e| panic!("{e}"));
    let partial = partial.unwrap_or_else(|| panic!("handed over"));
    let complete = done.rows.unwrap_or_else(|| panic!("filtered"));
    assert!(partial.len() < complete.len());
    // A new generation cancels the next run: nothing is delivered or remembered.
    latest.store(2, Ordering::Relaxed);
    let stale = session.run(
        &job(&table, text("d9a"), SortKey::Natural),
        &latest,
        PARTIAL_AFTER,
        &|_| panic!("a cancelled run hands nothing over"),
    );
    assert!(stale.is_none());
    let again = rows_of(session.run(
        &FilterJob {
            generation: 2,
            ..job(&table, text("d9"), SortKey::Natural)
        },
        &latest,
        PARTIAL_AFTER,
        &|_| {},
    ));
    assert_eq!(again, complete.to_vec());
    assert_eq!(again, reference(&table, "d9", SortKey::Natural));
}

#[test]
fn the_worker_ends_on_the_newest_queries_exact_result() {
    let table = Arc::new(device_table(50_000, NOW));
    let (tx, rx) = mpsc::channel();
    let worker = FilterWorker::spawn(move |result| {
        let _ = tx.send(result);
    })
    .unwrap_or_else(|e| panic!("{e}"));
    // Typed on and deleted back faster than the scans finish.
    let texts = ["d", "d9", "d9f", "d9", "d", "d7", "d70"];
    for (generation, t) in (1..).zip(texts) {
        worker.submit(FilterJob {
            generation,
            ..job(&table, text(t), SortKey::Natural)
        });
    }
    let newest = texts.len() as u64;
    let last = loop {
        let result = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("no result: {e}"));
        assert!(result.generation <= newest);
        if result.generation == newest && result.complete {
            break result;
        }
    };
    drop(worker);
    let rows = last.rows.map_or_else(Vec::new, |r| r.to_vec());
    assert_eq!(rows, reference(&table, "d70", SortKey::Natural));
}

fn table_for_properties() -> &'static Arc<DeviceTable> {
    static TABLE: std::sync::OnceLock<Arc<DeviceTable>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| Arc::new(device_table(scan::CHUNK + 77, NOW)))
}
