//! The fleetid device agent.
//!
//! - [`wire`]: the messages the agent, the cloud and the console exchange. It needs nothing but
//!   serde, so the console uses this crate with default features off.
//! - `core` (feature `core`): the sans-IO identity state machine, `Agent::handle(Event)`.
//! - `driver` (feature `driver`, default): tokio + rumqttc + the secure element, the TOML
//!   configuration, LEDs and the library entry point `driver::run`.

#[cfg(feature = "core")]
pub mod core;
#[cfg(feature = "driver")]
pub mod driver;
pub mod wire;
