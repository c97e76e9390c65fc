//! What must hold for any text read as a rotation campaign file: parsing never panics (an
//! error is a value naming the file), and a campaign that parses keeps the file's promises —
//! an id AWS names can derive from, stages increasing to 100, percentages from 0 to 100,
//! durations not negative, a job timeout AWS accepts — and survives the JSON the campaign's
//! state is stored as. Shared by the fuzz target and the corpus replay test
//! (`tests/fuzz_corpus.rs`).

use std::path::Path;

use fleetid::ops::rotation::file::Campaign;

/// Checks one input; panics on a violation.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let path = Path::new("fuzz/campaign.toml");
    let campaign = match Campaign::parse(path, &text) {
        Ok(campaign) => campaign,
        Err(error) => {
            assert!(error.to_string().contains("campaign.toml"), "{error}");
            return;
        }
    };
    assert!((1..=32).contains(&campaign.id.len()), "{:?}", campaign.id);
    assert!(
        campaign
            .id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
    assert_eq!(campaign.stages.last(), Some(&100));
    assert!(campaign.stages.windows(2).all(|w| w[0] < w[1]));
    assert!(campaign.stages[0] > 0);
    for share in [campaign.gate.min_success, campaign.gate.max_failure] {
        assert!((0.0..=100.0).contains(&share), "{share}");
    }
    assert!(campaign.gate.soak_seconds >= 0 && campaign.grace_seconds >= 0);
    assert!((1..=10_080).contains(&campaign.job.timeout_minutes));
    assert!((1..=1000).contains(&campaign.job.rollout_per_minute));
    let stored = serde_json::to_string(&campaign).expect("a campaign serializes");
    let back: Campaign = serde_json::from_str(&stored).expect("and reads back");
    assert_eq!(back, campaign);
    let _ = (
        campaign.stage_group(campaign.stages.len()),
        campaign.stage_job(1),
    );
}
