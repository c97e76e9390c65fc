//! The views: each owns its state, interprets keymap commands, and renders from the
//! snapshot it is given.

pub mod anomalies;
pub mod audit;
pub mod cas;
pub mod dashboard;
pub mod detail;
pub mod devices;
pub mod heatmap;
pub mod operations;
pub mod rotation;
