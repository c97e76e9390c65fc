//! Live status at a rate one connection may not carry on AWS IoT: the lab enforces AWS IoT's
//! per-connection receive quota (100 publishes and 512 KiB a second), 300 status messages a
//! second are published, and the console's live follower — a shared subscription on a pool of
//! connections that grows while what it receives fills them — must end up receiving them all:
//! at first the lab throttles its one connection (counted), then the pool has grown and a
//! whole window passes with no message throttled and every message received. Bounded: it
//! publishes for at most 60 s.
#![allow(clippy::unwrap_used)]

mod lab_support;

use std::time::{Duration, Instant};

use fleetid::backend::live::LiveEvent;
use fleetid::backend::{BackendUpdate, FleetBackend};
use fleetid_agent::wire::StatusMessage;

use lab_support::{lab_backend, quiet_lab};
use tokio::sync::mpsc;

/// Status messages a second: three connections' worth at AWS IoT's quota.
const RATE: u64 = 300;
const DEADLINE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_pool_grows_until_no_status_message_is_throttled() {
    let dir = tempfile::tempdir().unwrap();
    let lab = quiet_lab(0, 3, dir.path()).await;
    let backend = lab_backend(&lab, false);
    let (tx, mut rx) = mpsc::channel::<BackendUpdate>(4_096);
    let follower = tokio::spawn(async move { backend.follow_live(tx).await });

    // Wait for the first connection.
    let started = Instant::now();
    loop {
        match tokio::time::timeout(Duration::from_secs(1), rx.recv()).await {
            Ok(Some(BackendUpdate::Live(LiveEvent::Connected))) => break,
            Ok(Some(_)) | Err(_) => {}
            Ok(None) => panic!("the live follower stopped"),
        }
        assert!(started.elapsed() < DEADLINE, "the console never connected");
    }

    let body = serde_json::from_slice::<serde_json::Value>(
        &StatusMessage::new("dev-quota", 1, "2.1.0").to_json(),
    )
    .unwrap();
    let mut first_throttled = None;
    let mut settled = false;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut window_start = Instant::now();
    let (mut published, mut received) = (0u64, 0u64);
    let mut throttled_at_start = lab.throttled();
    while started.elapsed() < DEADLINE {
        tick.tick().await;
        for _ in 0..RATE / 10 {
            lab.publish_json("fleetid/v1/dev-quota/status", &body);
        }
        published += RATE / 10;
        while let Ok(update) = rx.try_recv() {
            if matches!(update, BackendUpdate::Live(LiveEvent::Status { .. })) {
                received += 1;
            }
        }
        if first_throttled.is_none() && lab.throttled() > 0 {
            first_throttled = Some(lab.throttled());
        }
        if window_start.elapsed() >= Duration::from_secs(5) {
            // A window after the first: nothing throttled, (nearly) all received — the
            // last tenth of a second may still be in flight.
            let throttled = lab.throttled() - throttled_at_start;
            if first_throttled.is_some() && throttled == 0 && received + RATE / 5 >= published {
                settled = true;
                break;
            }
            window_start = Instant::now();
            throttled_at_start = lab.throttled();
            (published, received) = (0, 0);
        }
    }
    follower.abort();
    assert!(
        first_throttled.is_some(),
        "one connection should have been throttled at {RATE} messages a second"
    );
    assert!(
        settled,
        "the pool never carried {RATE} messages a second without throttling: last window \
         {received} of {published} received, {} throttled so far",
        lab.throttled()
    );
    // The pool's connections, and nothing else, are connected.
    assert!(lab.connected() >= 4, "{} connections", lab.connected());
}
