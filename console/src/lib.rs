//! fleetid: the on-call console for device identity across an AWS IoT fleet.
//!
//! `main.rs` is thin; everything it calls lives here so tests can reach it.

pub mod cli;
pub mod model;
pub mod render;
