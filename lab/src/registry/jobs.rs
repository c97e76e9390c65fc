//! IoT jobs and their executions: creation against things and thing groups, cancellation,
//! device updates, and the abort criteria a rotation stage relies on.

use serde_json::Value;
use std::collections::BTreeMap;
use time::OffsetDateTime;

use super::job_status::{ExecutionStatus, JobStatus};
use super::{Registry, RegistryError, RegistryEvent, arn, now, page};

/// One thing's execution of a job.
#[derive(Debug, Clone)]
pub struct JobExecution {
    /// The thing.
    pub thing_name: String,
    /// Status.
    pub status: ExecutionStatus,
    /// Device-reported details.
    pub status_details: BTreeMap<String, String>,
    /// Queued at.
    pub queued_at: OffsetDateTime,
    /// Started at.
    pub started_at: Option<OffsetDateTime>,
    /// Last update.
    pub last_updated_at: OffsetDateTime,
    /// Execution number (1 per job and thing in the lab).
    pub execution_number: i64,
    /// Bumped on every update (`expectedVersion`).
    pub version: i64,
}

/// What `CreateJob` asked for.
#[derive(Debug, Clone, Default)]
pub struct NewJob {
    /// Job id.
    pub job_id: String,
    /// Thing and thing-group ARNs.
    pub targets: Vec<String>,
    /// The job document (JSON text).
    pub document: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// CONTINUOUS or SNAPSHOT.
    pub target_selection: Option<String>,
    /// `abortConfig`, as sent.
    pub abort_config: Option<Value>,
    /// `timeoutConfig`, as sent.
    pub timeout_config: Option<Value>,
    /// `jobExecutionsRolloutConfig`, as sent.
    pub rollout_config: Option<Value>,
}

/// A thing's execution of a job with what the device's Jobs API shows of the job: its id and
/// document, not the other things' executions.
#[derive(Debug, Clone)]
pub struct DeviceExecution {
    /// The job.
    pub job_id: String,
    /// The job document (JSON text).
    pub document: Option<String>,
    /// The execution.
    pub execution: JobExecution,
}

/// A job.
#[derive(Debug, Clone)]
pub struct JobRecord {
    /// What it was created with.
    pub spec: NewJob,
    /// ARN.
    pub arn: String,
    /// Status.
    pub status: JobStatus,
    /// Whether a forced cancel ended it.
    pub force_canceled: bool,
    /// Cancel reason code.
    pub reason_code: Option<String>,
    /// Cancel comment.
    pub comment: Option<String>,
    /// Created at.
    pub created: OffsetDateTime,
    /// Last update.
    pub last_updated: OffsetDateTime,
    /// Completed at.
    pub completed: Option<OffsetDateTime>,
    /// Executions by thing name.
    pub executions: BTreeMap<String, JobExecution>,
}

impl JobRecord {
    /// `thing`'s execution of this job, if it has one.
    #[must_use]
    pub fn device_execution(&self, thing: &str) -> Option<DeviceExecution> {
        Some(DeviceExecution {
            job_id: self.spec.job_id.clone(),
            document: self.spec.document.clone(),
            execution: self.executions.get(thing)?.clone(),
        })
    }

    /// Number of executions in `status`.
    #[must_use]
    pub fn count(&self, status: ExecutionStatus) -> usize {
        self.executions
            .values()
            .filter(|e| e.status == status)
            .count()
    }

    fn settle(&mut self, at: OffsetDateTime) {
        if self.status == JobStatus::InProgress && self.aborted() {
            self.status = JobStatus::Canceled;
            self.reason_code = Some("ABORTED".into());
            self.cancel_open(false, at);
        }
        if self.status == JobStatus::InProgress
            && self.executions.values().all(|e| e.status.is_terminal())
        {
            self.status = JobStatus::Completed;
            self.completed = Some(at);
        }
        self.last_updated = at;
    }

    fn cancel_open(&mut self, force: bool, at: OffsetDateTime) {
        for e in self.executions.values_mut() {
            if e.status == ExecutionStatus::Queued
                || (force && e.status == ExecutionStatus::InProgress)
            {
                e.status = ExecutionStatus::Canceled;
                e.last_updated_at = at;
                e.version += 1;
            }
        }
    }

    /// Whether an abort criterion of `abortConfig` is met.
    fn aborted(&self) -> bool {
        let Some(criteria) = self
            .spec
            .abort_config
            .as_ref()
            .and_then(|c| c.get("criteriaList"))
            .and_then(Value::as_array)
        else {
            return false;
        };
        let executed = self
            .executions
            .values()
            .filter(|e| e.status.is_terminal())
            .count();
        criteria.iter().any(|c| {
            let failed = match c.get("failureType").and_then(Value::as_str) {
                Some("FAILED") => self.count(ExecutionStatus::Failed),
                Some("REJECTED") => self.count(ExecutionStatus::Rejected),
                Some("TIMED_OUT") => self.count(ExecutionStatus::TimedOut),
                Some("ALL") => {
                    self.count(ExecutionStatus::Failed)
                        + self.count(ExecutionStatus::Rejected)
                        + self.count(ExecutionStatus::TimedOut)
                }
                _ => return false,
            };
            let min = c
                .get("minNumberOfExecutedThings")
                .and_then(Value::as_u64)
                .unwrap_or(1);
            let threshold = c
                .get("thresholdPercentage")
                .and_then(Value::as_f64)
                .unwrap_or(100.0);
            #[allow(clippy::cast_precision_loss)] // counts of things are far below 2^52
            let rate = if executed == 0 {
                0.0
            } else {
                failed as f64 * 100.0 / executed as f64
            };
            executed as u64 >= min && rate >= threshold
        })
    }
}

fn job_not_found(id: &str) -> RegistryError {
    RegistryError::NotFound {
        kind: "job",
        id: id.to_owned(),
    }
}

impl Registry {
    /// `CreateJob`: one execution per targeted thing (groups are expanded recursively).
    ///
    /// # Errors
    /// `AlreadyExists`, `NotFound` for a target, `InvalidRequest` for a bad id.
    pub fn create_job(&self, spec: NewJob) -> Result<JobRecord, RegistryError> {
        let valid_id = !spec.job_id.is_empty()
            && spec.job_id.len() <= 64
            && spec
                .job_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid_id {
            return Err(RegistryError::InvalidRequest(format!(
                "invalid job id {:?}",
                spec.job_id
            )));
        }
        let mut things: Vec<String> = Vec::new();
        for target in &spec.targets {
            if let Some((_, group)) = target.split_once(":thinggroup/") {
                things.extend(self.things_in_group(group, true)?);
            } else if let Some((_, thing)) = target.split_once(":thing/") {
                things.push(self.thing(thing)?.name);
            } else {
                return Err(RegistryError::InvalidRequest(format!(
                    "invalid job target {target}"
                )));
            }
        }
        let at = now();
        let record = {
            let mut state = self.lock();
            if state.jobs.contains_key(&spec.job_id) {
                state.job_create_conflicts += 1;
                return Err(RegistryError::AlreadyExists {
                    kind: "job",
                    id: spec.job_id,
                });
            }
            let executions = things
                .iter()
                .map(|t| {
                    (
                        t.clone(),
                        JobExecution {
                            thing_name: t.clone(),
                            status: ExecutionStatus::Queued,
                            status_details: BTreeMap::new(),
                            queued_at: at,
                            started_at: None,
                            last_updated_at: at,
                            execution_number: 1,
                            version: 1,
                        },
                    )
                })
                .collect();
            let record = JobRecord {
                arn: arn(&format!("job/{}", spec.job_id)),
                spec,
                status: JobStatus::InProgress,
                force_canceled: false,
                reason_code: None,
                comment: None,
                created: at,
                last_updated: at,
                completed: None,
                executions,
            };
            state
                .jobs
                .insert(record.spec.job_id.clone(), record.clone());
            record
        };
        for thing in things {
            self.emit(RegistryEvent::JobQueued {
                thing_name: thing,
                job_id: record.spec.job_id.clone(),
            });
        }
        Ok(record)
    }

    /// A copy of a job with every execution: for tests and reports; the APIs read what they
    /// need under the lock instead ([`Self::with_job`]), since a job of a large stage has
    /// thousands of executions.
    ///
    /// # Errors
    /// `NotFound`.
    pub fn job(&self, id: &str) -> Result<JobRecord, RegistryError> {
        self.with_job(id, JobRecord::clone)
    }

    /// `read` applied to a job, under the registry's lock.
    ///
    /// # Errors
    /// `NotFound`.
    pub fn with_job<T>(
        &self,
        id: &str,
        read: impl FnOnce(&JobRecord) -> T,
    ) -> Result<T, RegistryError> {
        self.lock()
            .jobs
            .get(id)
            .map(read)
            .ok_or_else(|| job_not_found(id))
    }

    /// `read` applied to every job (in job id order), under the registry's lock.
    pub fn with_jobs<T>(&self, read: impl FnOnce(&mut dyn Iterator<Item = &JobRecord>) -> T) -> T {
        read(&mut self.lock().jobs.values())
    }

    /// One thing's execution of a job (`DescribeJobExecution`, the Jobs API's `<jobId>/get`).
    ///
    /// # Errors
    /// `NotFound`: no such job, or no execution of it for the thing.
    pub fn execution(&self, job_id: &str, thing: &str) -> Result<DeviceExecution, RegistryError> {
        self.with_job(job_id, |job| job.device_execution(thing))?
            .ok_or_else(|| RegistryError::NotFound {
                kind: "job execution",
                id: format!("{job_id}/{thing}"),
            })
    }

    /// CreateJob requests refused so far because the job id existed.
    #[must_use]
    pub fn job_create_conflicts(&self) -> u64 {
        self.lock().job_create_conflicts
    }

    /// A copy of every job with its executions (see [`Self::job`]).
    #[must_use]
    pub fn jobs(&self) -> Vec<JobRecord> {
        self.with_jobs(|jobs| jobs.cloned().collect())
    }

    /// `CancelJob`: queued executions are cancelled, in-progress ones too when `force`.
    ///
    /// # Errors
    /// `NotFound`; `InvalidRequest` when the job already completed.
    pub fn cancel_job(
        &self,
        id: &str,
        force: bool,
        reason_code: Option<String>,
        comment: Option<String>,
    ) -> Result<JobRecord, RegistryError> {
        let mut state = self.lock();
        let job = state.jobs.get_mut(id).ok_or_else(|| job_not_found(id))?;
        if job.status == JobStatus::Completed {
            return Err(RegistryError::InvalidRequest(format!(
                "job {id} has completed"
            )));
        }
        let at = now();
        job.status = JobStatus::Canceled;
        job.force_canceled |= force;
        job.reason_code = reason_code;
        job.comment = comment;
        job.cancel_open(force, at);
        job.last_updated = at;
        Ok(job.clone())
    }

    /// `ListJobExecutionsForJob`: one page, optionally only one status.
    ///
    /// # Errors
    /// `NotFound`, a malformed token.
    pub fn job_executions(
        &self,
        id: &str,
        status: Option<ExecutionStatus>,
        token: Option<&str>,
        max_results: Option<usize>,
    ) -> Result<(Vec<JobExecution>, Option<String>), RegistryError> {
        self.with_job(id, |job| {
            let matching: Vec<&JobExecution> = job
                .executions
                .values()
                .filter(|e| status.is_none_or(|s| e.status == s))
                .collect();
            let (items, next) = page(&matching, token, max_results, 50)?;
            Ok((items.into_iter().cloned().collect(), next))
        })?
    }

    /// The open (queued or in-progress) executions of a thing, oldest job first.
    #[must_use]
    pub fn open_executions(&self, thing: &str) -> Vec<DeviceExecution> {
        let state = self.lock();
        let mut open: Vec<(OffsetDateTime, DeviceExecution)> = state
            .jobs
            .values()
            .filter(|j| {
                j.executions
                    .get(thing)
                    .is_some_and(|e| !e.status.is_terminal())
            })
            .filter_map(|j| Some((j.created, j.device_execution(thing)?)))
            .collect();
        open.sort_by_key(|(created, _)| *created);
        open.into_iter().map(|(_, e)| e).collect()
    }

    /// The things whose next open execution (oldest job first) is still QUEUED.
    #[must_use]
    pub fn things_next_queued(&self) -> Vec<String> {
        let state = self.lock();
        let mut jobs: Vec<&JobRecord> = state.jobs.values().collect();
        jobs.sort_by_key(|j| j.created);
        // Each thing's first open execution decides.
        let mut next: BTreeMap<&str, ExecutionStatus> = BTreeMap::new();
        for job in jobs {
            for (thing, e) in &job.executions {
                if !e.status.is_terminal() {
                    next.entry(thing.as_str()).or_insert(e.status);
                }
            }
        }
        next.into_iter()
            .filter(|(_, status)| *status == ExecutionStatus::Queued)
            .map(|(thing, _)| thing.to_owned())
            .collect()
    }

    /// A device's update of its execution (Jobs MQTT API `update`).
    ///
    /// # Errors
    /// `NotFound`; `InvalidRequest("VersionMismatch")` on a stale `expected_version`;
    /// `InvalidRequest` when the execution has ended.
    pub fn update_execution(
        &self,
        job_id: &str,
        thing: &str,
        status: ExecutionStatus,
        details: BTreeMap<String, String>,
        expected_version: Option<i64>,
    ) -> Result<JobExecution, RegistryError> {
        let mut state = self.lock();
        let job = state
            .jobs
            .get_mut(job_id)
            .ok_or_else(|| job_not_found(job_id))?;
        let execution = job
            .executions
            .get_mut(thing)
            .ok_or_else(|| RegistryError::NotFound {
                kind: "job execution",
                id: format!("{job_id}/{thing}"),
            })?;
        if expected_version.is_some_and(|v| v != execution.version) {
            return Err(RegistryError::InvalidRequest("VersionMismatch".into()));
        }
        if execution.status.is_terminal() {
            return Err(RegistryError::InvalidRequest(format!(
                "job execution {job_id}/{thing} is {}",
                execution.status.as_str()
            )));
        }
        let at = now();
        if status == ExecutionStatus::InProgress && execution.started_at.is_none() {
            execution.started_at = Some(at);
        }
        execution.status = status;
        execution.status_details.extend(details);
        execution.last_updated_at = at;
        execution.version += 1;
        let updated = execution.clone();
        job.settle(at);
        Ok(updated)
    }
}
