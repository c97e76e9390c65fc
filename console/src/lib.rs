//! fleetid: the on-call console for device identity across an AWS IoT fleet.
//!
//! `main.rs` is thin; everything it calls lives here so tests can reach it.

// Messages go to stderr through `stderr`, which writes only sanitized text.
#![deny(clippy::print_stderr)]

pub mod app;
pub mod backend;
pub mod cli;
pub mod commands;
pub mod config;
pub mod context;
#[cfg(feature = "lab")]
pub mod demo;
pub mod doctor;
pub mod exit;
pub mod feed;
pub mod human;
pub mod interactive;
pub mod model;
pub mod ops;
pub mod refresh;
pub mod render;
pub mod safe_text;
pub mod stderr;
pub mod store;
pub mod tui;
