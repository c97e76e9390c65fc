//! The fleetid lab: a local AWS-IoT-like cloud on loopback with a fleet of real agents.
//!
//! - [`registry`]: the control plane in memory (CAs, certificates, things, groups, policies,
//!   jobs).
//! - [`api`]: the AWS IoT HTTP API (restJson1) over that registry, for aws-sdk-iot clients.
//! - [`policy`]: IoT policy evaluation.
//! - [`pki`]: the lab's certificate authorities.
//! - [`metrics`]: CloudWatch `AWS/IoT` metrics the gateway records.

pub mod api;
pub mod audit;
pub mod cert_facts;
pub mod certificate_provider;
pub mod detector;
pub mod faults;
pub mod fleet;
pub mod gateway;
pub mod jitr;
mod lab;
pub mod metrics;
pub mod pki;
pub mod policy;
pub mod registry;
pub mod state_files;

pub use lab::{
    DeviceHost, Lab, LabError, LabHandle, LabOptions, OPERATOR_CLIENT_ID, OPERATOR_POLICY,
    OperatorFiles,
};
