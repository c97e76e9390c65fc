//! Certificate rotation campaigns (docs/rotation.md): the campaign file, its stages chosen
//! reproducibly from the model, the persisted state and its gate, the engine that drives it
//! against AWS IoT (thing groups, jobs, executions, presence), and the `rotate` commands.

pub mod anchor;
mod anchor_step;
pub mod command;
pub mod engine;
pub mod file;
pub mod presence;
pub mod report;
pub mod stages;
pub mod state;
