//! The fleetid device agent.
//!
//! `wire` holds the messages the agent and the console exchange; it needs nothing but serde,
//! so the console uses this crate with default features off.

pub mod wire;
