//! The fleetid lab: a local AWS-IoT-like cloud on loopback with a fleet of real agents.

pub mod pki;
