//! Certificate rotation campaigns (docs/rotation.md): a campaign file, its stages chosen
//! reproducibly from the model, and the CLI that plans them.

pub mod command;
pub mod file;
pub mod stages;
