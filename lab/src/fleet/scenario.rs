//! The demo scenario: a deterministic (seeded) plan of the fleet that gives every console
//! view something to show — expiries over the coming year with a cohort inside 7 days, a
//! recalled batch that JITR rejects, four firmware versions (old, previous, current and a
//! canary), devices in site thing groups under region groups, one device publishing to a
//! debug topic, one flapping device, and one certificate shared by two devices.

/// Firmware of most devices.
pub const CURRENT_FIRMWARE: &str = "2.4.1";
/// Firmware of the devices the last rollout has not reached yet.
pub const PREVIOUS_FIRMWARE: &str = "2.3.0";
/// Firmware of the canary ring (thing group [`CANARY_GROUP`]).
pub const CANARY_FIRMWARE: &str = "2.5.0";
/// Firmware of the old cohort.
pub const OLD_FIRMWARE: &str = "1.0.3";

/// The thing group of the canary ring.
pub const CANARY_GROUP: &str = "ring-canary";

/// Site thing groups and the region group each is a child of.
pub const SITES: [(&str, &str); 4] = [
    ("site-berlin", "region-eu"),
    ("site-lyon", "region-eu"),
    ("site-austin", "region-us"),
    ("site-singapore", "region-apac"),
];

/// Which scenario to run (by the names [`Scenario::parse`] reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    /// Everything listed in the module doc.
    #[default]
    Demo,
    /// Healthy devices only (benchmarks).
    Quiet,
}

impl Scenario {
    /// Parses a scenario name (`demo`, `quiet`).
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "demo" => Some(Self::Demo),
            "quiet" => Some(Self::Quiet),
            _ => None,
        }
    }
}

/// What a simulated device does besides reporting status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Connects and reports.
    Normal,
    /// On the recall list: JITR rejects it.
    Recalled,
    /// Also publishes to `fleetid/v1/<thing>/debug`.
    Debug,
    /// Disconnects and reconnects every few seconds.
    Flapping,
    /// Connects with the certificate of the named device.
    SharesCertificateOf(String),
}

/// One planned device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceSpec {
    /// Thing name, client id and certificate common name.
    pub name: String,
    /// Days from now until its certificate expires.
    pub expires_in_days: i64,
    /// Firmware version it reports.
    pub firmware: &'static str,
    /// Manufacturing batch (the recalled batch is `B7`).
    pub batch: &'static str,
    /// Its site's thing group (one of [`SITES`]).
    pub site: &'static str,
    /// What it does.
    pub role: Role,
}

/// A small deterministic generator (xorshift64*), so a seed always gives the same fleet.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The plan for `devices` devices.
#[must_use]
pub fn plan(devices: usize, seed: u64, scenario: Scenario) -> Vec<DeviceSpec> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut specs: Vec<DeviceSpec> = (1..=devices)
        .map(|i| {
            let soon = rng.below(100) < 5;
            let expires_in_days = if soon {
                1 + i64::try_from(rng.below(7)).unwrap_or(0)
            } else {
                8 + i64::try_from(rng.below(358)).unwrap_or(0)
            };
            let firmware = match scenario {
                Scenario::Quiet => CURRENT_FIRMWARE,
                Scenario::Demo => match rng.below(100) {
                    0..10 => OLD_FIRMWARE,
                    10..35 => PREVIOUS_FIRMWARE,
                    35..40 => CANARY_FIRMWARE,
                    _ => CURRENT_FIRMWARE,
                },
            };
            let site = SITES[usize::try_from(rng.below(SITES.len() as u64)).unwrap_or(0)].0;
            DeviceSpec {
                name: format!("dev-{i:05}"),
                expires_in_days,
                firmware,
                batch: "B1",
                site,
                role: Role::Normal,
            }
        })
        .collect();
    if scenario == Scenario::Quiet || devices < 10 {
        return specs;
    }
    // The recalled batch: 2 % of the fleet (at least one device), at the end of the list.
    let recalled = (devices / 50).max(1);
    for spec in specs.iter_mut().rev().take(recalled) {
        spec.role = Role::Recalled;
        spec.batch = "B7";
    }
    specs[0].role = Role::Debug;
    specs[1].role = Role::Flapping;
    let owner = specs[2].name.clone();
    specs[3].role = Role::SharesCertificateOf(owner);
    specs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_plan_has_every_ingredient_and_is_deterministic() {
        let a = plan(200, 7, Scenario::Demo);
        assert_eq!(a, plan(200, 7, Scenario::Demo));
        assert_ne!(a, plan(200, 8, Scenario::Demo));
        assert_eq!(a.iter().filter(|s| s.role == Role::Recalled).count(), 4);
        assert!(a.iter().any(|s| s.role == Role::Debug));
        assert!(a.iter().any(|s| s.role == Role::Flapping));
        assert!(
            a.iter()
                .any(|s| matches!(s.role, Role::SharesCertificateOf(_)))
        );
        let soon = a.iter().filter(|s| s.expires_in_days <= 7).count();
        assert!((1..40).contains(&soon), "{soon}");
        assert!(a.iter().all(|s| (1..=365).contains(&s.expires_in_days)));
        for firmware in [
            OLD_FIRMWARE,
            PREVIOUS_FIRMWARE,
            CURRENT_FIRMWARE,
            CANARY_FIRMWARE,
        ] {
            assert!(a.iter().any(|s| s.firmware == firmware), "{firmware}");
        }
        let old = a.iter().filter(|s| s.firmware == OLD_FIRMWARE).count();
        assert!((5..40).contains(&old), "about 10 % on old firmware: {old}");
        for (site, _) in SITES {
            assert!(a.iter().any(|s| s.site == site), "{site}");
        }
        assert!(
            plan(50, 1, Scenario::Quiet)
                .iter()
                .all(|s| s.role == Role::Normal && s.firmware == CURRENT_FIRMWARE)
        );
    }
}
