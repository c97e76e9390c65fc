//! The decision over a committed corpus of certificates openssl made in many shapes (key
//! types, signature algorithms, extensions, serial numbers, PEM framings, public roots):
//! every one gets the outcome `tests/corpus/expected.tsv` names, nothing panics, and the time
//! of one decision is printed (`cargo nextest run -p fleetid-jitr --no-capture -E
//! 'binary(corpus)'`). Regenerate with `tests/corpus/regenerate.sh`.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use fleetid_jitr::{Decision, DeviceIdSource, JitrConfig, decide, device_id_of};
use proptest::prelude::*;
use support::pki::{pem_body, to_pem};
use support::{event_at, sold};
use time::OffsetDateTime;

struct Case {
    device: String,
    ca: String,
    source: DeviceIdSource,
    expected: String,
}

fn corpus_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn cases(dir: &Path) -> Vec<Case> {
    let list = std::fs::read_to_string(dir.join("expected.tsv")).unwrap();
    list.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 4, "expected.tsv: {line:?}");
            Case {
                device: fields[0].to_owned(),
                ca: fields[1].to_owned(),
                source: match fields[2] {
                    "serial" => DeviceIdSource::SerialNumber,
                    "cn" => DeviceIdSource::CommonName,
                    other => panic!("expected.tsv: id source {other:?}"),
                },
                expected: fields[3].to_owned(),
            }
        })
        .collect()
}

/// Median time of one call of `f` over `runs` runs.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

#[test]
fn every_corpus_certificate_gets_its_documented_outcome() {
    let dir = corpus_dir();
    let cases = cases(&dir);
    assert!(cases.len() >= 40, "corpus has only {} cases", cases.len());
    let event = event_at("cert-1", "ca-1", OffsetDateTime::now_utc());
    let mut failures = Vec::new();
    let mut total = Duration::ZERO;
    println!(
        "{:<32} {:<28} {:>10}",
        "certificate", "outcome", "decide µs"
    );
    for case in &cases {
        let cert = std::fs::read_to_string(dir.join(&case.device)).unwrap();
        let ca = std::fs::read_to_string(dir.join(&case.ca)).unwrap();
        let config = JitrConfig {
            device_id_source: case.source,
            ..JitrConfig::default()
        };
        let entry = device_id_of(&cert, &config).ok().map(|id| sold(&id));
        let decision = decide(&event, &cert, Some(&ca), entry.as_ref(), &config);
        let got = match &decision {
            Decision::Activate { .. } => "activate".to_owned(),
            Decision::Reject { reason, .. } => reason.as_str().to_owned(),
        };
        let time = median(51, || {
            let entry = device_id_of(&cert, &config).ok().map(|id| sold(&id));
            std::hint::black_box(decide(&event, &cert, Some(&ca), entry.as_ref(), &config));
        });
        total += time;
        println!(
            "{:<32} {got:<28} {:>10.1}",
            case.device,
            time.as_secs_f64() * 1e6
        );
        if got != case.expected {
            failures.push(format!(
                "{} under {}: expected {}, got {decision:?}",
                case.device, case.ca, case.expected
            ));
        }
    }
    println!(
        "{} certificates, mean {:.1} µs per decision (device id lookup + decide, this build's profile)",
        cases.len(),
        total.as_secs_f64() * 1e6 / cases.len() as f64
    );
    assert!(failures.is_empty(), "corpus:\n{}", failures.join("\n"));
}

/// The corpus certificates that activate, as (device DER, CA PEM, id source).
fn activating() -> Vec<(Vec<u8>, String, DeviceIdSource)> {
    let dir = corpus_dir();
    cases(&dir)
        .into_iter()
        .filter(|case| case.expected == "activate" && case.device.starts_with("dev-"))
        .map(|case| {
            let pem = std::fs::read_to_string(dir.join(&case.device)).unwrap();
            let ca = std::fs::read_to_string(dir.join(&case.ca)).unwrap();
            (pem_body(&pem), ca, case.source)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any change to the bytes of a certificate that activates (in the signed part, the
    /// algorithm, the signature or a length; or cutting it short) makes it rejected, and never
    /// panics the decision.
    #[test]
    fn a_changed_certificate_never_activates(
        seed in any::<prop::sample::Index>(),
        changes in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
        cut in prop::option::weighted(0.2, any::<prop::sample::Index>()),
    ) {
        let seeds = activating();
        let (der, ca, source) = &seeds[seed.index(seeds.len())];
        let mut changed = der.clone();
        for (at, flip) in &changes {
            let at = at.index(changed.len());
            changed[at] ^= flip;
        }
        if let Some(cut) = cut {
            changed.truncate(cut.index(changed.len()));
        }
        // Two changes at one place may cancel out.
        prop_assume!(changed != *der);
        let config = JitrConfig { device_id_source: *source, ..JitrConfig::default() };
        let event = event_at("cert-1", "ca-1", time::OffsetDateTime::now_utc());
        let pem = to_pem(&changed);
        let entry = device_id_of(&pem, &config).ok().map(|id| sold(&id));
        let decision = decide(&event, &pem, Some(ca), entry.as_ref(), &config);
        let activated = matches!(decision, Decision::Activate { .. });
        prop_assert!(!activated, "a changed certificate activated");
    }
}
