//! Fault injection for benchmarks and drills, and the count that judges them: cut the power of
//! agents in the middle of a rotation (each boots again after a while from what it persisted
//! and the keys in its secure element, as a device that lost power does), restart the
//! gateway while sessions exist (listener closed, every session dropped, the same address
//! listening again after a while), and count the devices that do not connect with the
//! certificate they report. [`serve`] offers the same over HTTP, for scripts; the demo binds
//! it on loopback only (`fleetid demo --headless --fault-admin`). Agents in a device process
//! (`crate::fleet::process`) are cut and reported there, asked over its pipe.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use fleetid_agent::core::{PersistedState, Purpose};
use fleetid_agent::wire::RotationStep;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

use crate::fleet::process::DeviceProcess;
use crate::fleet::{AgentStores, agent_state};
use crate::gateway::Restarter;
use crate::registry::{CertStatus, Registry};

/// How many devices without a working certificate a report names (the count is exact).
const NAMED_AT_MOST: usize = 50;

/// The lab's hold on its fleet and gateway for fault injection (cheap to clone).
#[derive(Clone)]
pub struct Faults {
    agents: Agents,
    gateway: Restarter,
    registry: Registry,
}

/// Where the fleet's agents run.
#[derive(Clone)]
pub(crate) enum Agents {
    /// In this process.
    Here(Arc<AgentStores>),
    /// In a device process, asked over its pipe.
    Elsewhere(Arc<DeviceProcess>),
}

impl Agents {
    /// [`cut_power`] wherever the agents run.
    fn cut_power(&self, count: usize, down: Duration, seed: u64) -> PowerCut {
        match self {
            Self::Here(agents) => cut_power(agents, count, down, seed),
            Self::Elsewhere(process) => process.cut_power(count, down, seed),
        }
    }

    /// [`agent_reports`] wherever the agents run.
    fn reports(&self) -> Vec<AgentReport> {
        match self {
            Self::Here(agents) => agent_reports(agents),
            Self::Elsewhere(process) => process.agents(),
        }
    }
}

/// What fault injection knows of one agent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AgentReport {
    /// Its thing.
    pub thing: String,
    /// The certificate id it reports (its persisted active certificate).
    pub reported: Option<String>,
    /// In the middle of a rotation now ([`rotating`]).
    pub rotating: bool,
    /// Booted more than once (power cuts).
    pub rebooted: bool,
}

/// What a power cut did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PowerCut {
    /// Agents asked for.
    pub requested: usize,
    /// Agents in the middle of a rotation when asked (the candidates).
    pub rotating: usize,
    /// The agents whose power was cut (at most `requested`, all of them mid-rotation).
    pub cut: Vec<String>,
}

/// One device that does not connect with the certificate it reports.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NotWorking {
    /// The thing.
    pub thing: String,
    /// The certificate id the agent reports (its persisted active certificate).
    pub reported: Option<String>,
    /// The certificate id of its session at the gateway, if it has one.
    pub connected_with: Option<String>,
    /// The reported certificate's status in the registry.
    pub status: Option<String>,
}

/// Every agent of the fleet, judged by the gateway's sessions and the registry.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IdentityReport {
    /// Agents in the fleet (run by this process).
    pub agents: usize,
    /// Agents connected now with the certificate they report, that certificate ACTIVE.
    pub working: usize,
    /// Agents that are not (`agents - working`).
    pub not_working: usize,
    /// Agents in the middle of a rotation now.
    pub rotating: usize,
    /// Agents that booted more than once (power cuts).
    pub rebooted: usize,
    /// Up to [`NAMED_AT_MOST`] of the agents that are not working, by name.
    pub named: Vec<NotWorking>,
}

/// The jobs of the lab, for "no job was created twice".
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct JobsReport {
    /// Job id -> its executions by status.
    pub jobs: BTreeMap<String, BTreeMap<String, usize>>,
    /// Executions over every job.
    pub executions: usize,
    /// Things with an execution in more than one job.
    pub things_in_several_jobs: usize,
    /// CreateJob requests refused because the job id existed.
    pub create_refused_as_existing: u64,
}

/// Whether `state` is in the middle of a rotation: a new key, CSR, certificate or its
/// verification under way, not yet committed or rolled back.
#[must_use]
pub fn rotating(state: &PersistedState) -> bool {
    state.rotation.as_ref().is_some_and(|r| {
        r.purpose == Purpose::Rotate
            && matches!(
                r.step,
                RotationStep::GeneratingKey
                    | RotationStep::SigningCsr
                    | RotationStep::CreatingCertificate
                    | RotationStep::Provisioning
                    | RotationStep::Verifying
            )
    })
}

/// A stable order of `name` for `seed` (FNV-1a), so a cut picks the same agents for the same
/// seed and state.
fn rank(seed: u64, name: &str) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325_u64 ^ seed;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// Cuts the power of up to `count` of `agents` that are in the middle of a rotation now and
/// on (chosen by `seed`); each boots again `down` later. An agent that is off already is not
/// a candidate, so the agents cut are distinct until they boot again.
#[must_use]
pub(crate) fn cut_power(agents: &AgentStores, count: usize, down: Duration, seed: u64) -> PowerCut {
    let mut candidates: Vec<&String> = agents
        .keys()
        .filter(|thing| !agents[*thing].off.load(Ordering::SeqCst))
        .filter(|thing| agent_state(agents, thing).is_some_and(|s| rotating(&s)))
        .collect();
    let rotating = candidates.len();
    candidates.sort_by_key(|thing| rank(seed, thing));
    let mut cut = Vec::new();
    for thing in candidates {
        if cut.len() == count {
            break;
        }
        let agent = &agents[thing];
        // Whoever sets `off` first cuts it; a closed switch is an agent that stopped.
        if !agent.off.swap(true, Ordering::SeqCst) {
            if agent.power.send(down).is_ok() {
                cut.push(thing.clone());
            } else {
                agent.off.store(false, Ordering::SeqCst);
            }
        }
    }
    PowerCut {
        requested: count,
        rotating,
        cut,
    }
}

/// Every one of `agents`, by thing name.
#[must_use]
pub(crate) fn agent_reports(agents: &AgentStores) -> Vec<AgentReport> {
    let mut things: Vec<&String> = agents.keys().collect();
    things.sort();
    things
        .into_iter()
        .map(|thing| {
            let state = agent_state(agents, thing);
            AgentReport {
                thing: thing.clone(),
                reported: state
                    .as_ref()
                    .and_then(|s| s.active.as_ref())
                    .map(|c| c.fingerprint.clone()),
                rotating: state.as_ref().is_some_and(rotating),
                rebooted: state.as_ref().is_some_and(|s| s.boot_count > 1),
            }
        })
        .collect()
}

impl Faults {
    pub(crate) fn new(agents: Agents, gateway: Restarter, registry: Registry) -> Self {
        Self {
            agents,
            gateway,
            registry,
        }
    }

    /// Cuts the power of up to `count` agents that are in the middle of a rotation now and
    /// on (chosen by `seed`); each boots again `down` later. An agent that is off already is
    /// not a candidate, so the agents cut are distinct until they boot again.
    #[must_use]
    pub fn cut_power(&self, count: usize, down: Duration, seed: u64) -> PowerCut {
        self.agents.cut_power(count, down, seed)
    }

    /// Restarts the gateway (see [`crate::gateway::Gateway::restart`]); returns the restarts
    /// begun before this one.
    pub fn restart_gateway(&self, down: Duration) -> u64 {
        let before = self.gateway.restarts();
        self.gateway.restart(down);
        before
    }

    /// Restarts of the gateway begun so far.
    #[must_use]
    pub fn gateway_restarts(&self) -> u64 {
        self.gateway.restarts()
    }

    /// Judges every agent: working when a session of its thing is connected now with the
    /// certificate the agent reports, and that certificate is ACTIVE.
    #[must_use]
    pub fn identities(&self) -> IdentityReport {
        let sessions: HashMap<String, String> = self.gateway.sessions().into_iter().collect();
        let mut report = IdentityReport {
            agents: 0,
            working: 0,
            not_working: 0,
            rotating: 0,
            rebooted: 0,
            named: Vec::new(),
        };
        let agents = self.agents.reports();
        report.agents = agents.len();
        for agent in agents {
            let AgentReport {
                thing,
                reported,
                rotating,
                rebooted,
            } = agent;
            let status = reported
                .as_deref()
                .and_then(|id| self.registry.certificate(id).ok())
                .map(|c| c.status);
            let connected_with = sessions.get(thing.as_str()).cloned();
            report.rotating += usize::from(rotating);
            report.rebooted += usize::from(rebooted);
            let working = reported.is_some()
                && connected_with == reported
                && status == Some(CertStatus::Active);
            if working {
                report.working += 1;
                continue;
            }
            report.not_working += 1;
            if report.named.len() < NAMED_AT_MOST {
                report.named.push(NotWorking {
                    thing,
                    reported,
                    connected_with,
                    status: status.map(|s| s.as_str().to_owned()),
                });
            }
        }
        report
    }

    /// Every job of the lab with its executions by status.
    #[must_use]
    pub fn jobs(&self) -> JobsReport {
        let mut jobs = BTreeMap::new();
        let mut per_thing: HashMap<String, usize> = HashMap::new();
        let mut executions = 0;
        self.registry.with_jobs(|all| {
            for job in all {
                let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
                for (thing, execution) in &job.executions {
                    *by_status
                        .entry(execution.status.as_str().to_owned())
                        .or_default() += 1;
                    *per_thing.entry(thing.clone()).or_default() += 1;
                    executions += 1;
                }
                jobs.insert(job.spec.job_id.clone(), by_status);
            }
        });
        JobsReport {
            jobs,
            executions,
            things_in_several_jobs: per_thing.values().filter(|n| **n > 1).count(),
            create_refused_as_existing: self.registry.job_create_conflicts(),
        }
    }
}

/// `?count=N&down_ms=M&seed=S` and `?down_ms=M`.
#[derive(Debug, serde::Deserialize)]
struct CutQuery {
    count: usize,
    #[serde(default)]
    down_ms: u64,
    #[serde(default)]
    seed: u64,
}

#[derive(Debug, serde::Deserialize)]
struct RestartQuery {
    #[serde(default)]
    down_ms: u64,
}

/// The HTTP routes: `POST /faults/power-cut?count=N&down_ms=M&seed=S`,
/// `POST /faults/gateway-restart?down_ms=M`, `GET /faults/identities`, `GET /faults/jobs`.
pub fn router(faults: Faults) -> Router {
    Router::new()
        .route(
            "/faults/power-cut",
            post(
                |State(f): State<Faults>, Query(q): Query<CutQuery>| async move {
                    // Agents in a device process are asked over a blocking pipe.
                    let cut = tokio::task::spawn_blocking(move || {
                        f.cut_power(q.count, Duration::from_millis(q.down_ms), q.seed)
                    });
                    cut.await.map(Json).map_err(|e| e.to_string())
                },
            ),
        )
        .route(
            "/faults/gateway-restart",
            post(
                |State(f): State<Faults>, Query(q): Query<RestartQuery>| async move {
                    let before = f.restart_gateway(Duration::from_millis(q.down_ms));
                    Json(serde_json::json!({ "restarts_before": before }))
                },
            ),
        )
        .route(
            "/faults/identities",
            get(|State(f): State<Faults>| async move {
                let report = tokio::task::spawn_blocking(move || f.identities());
                report.await.map(Json).map_err(|e| e.to_string())
            }),
        )
        .route(
            "/faults/jobs",
            get(|State(f): State<Faults>| async move { Json(f.jobs()) }),
        )
        .with_state(faults)
}

/// Serves [`router`] on `listener` (bind it on loopback) until `shutdown` resolves.
///
/// # Errors
/// When accepting connections fails.
pub async fn serve(
    listener: TcpListener,
    faults: Faults,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(faults))
        .with_graceful_shutdown(shutdown)
        .await
}
