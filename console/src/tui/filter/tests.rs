//! Tests of the device filter: matching, constraints, sorting, cancellation, the worker.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use super::*;
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
    assert_eq!(&*table.rows[rows[0] as usize].thing, "dev-0001234");
    let loose = run(&job(&table, text("d1234"), SortKey::Natural));
    let loose = loose.rows.unwrap_or_else(|| panic!("filtered"));
    assert!(
        loose
            .iter()
            .any(|i| &*table.rows[*i as usize].thing == "dev-0001234")
    );
    assert!(loose.len() < table.rows.len());
    for i in loose.iter() {
        let row = &table.rows[*i as usize];
        assert!(subsequence(&row.thing, b"d1234") || subsequence(&row.cert, b"d1234"));
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
        .rows
        .iter()
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
    let expiries: Vec<_> = rows
        .iter()
        .map(|i| table.rows[*i as usize].expires)
        .collect();
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
    let table = Arc::new(device_table(30_000, NOW));
    let job = job(&table, text("dev"), SortKey::Natural);
    let partials = std::sync::Mutex::new(Vec::new());
    let done = run_job_streaming(&job, &AtomicU64::new(1), Duration::ZERO, &|r| {
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
