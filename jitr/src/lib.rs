//! Just-in-time registration: decide whether a newly registered device certificate may join
//! the fleet, then apply that decision idempotently.

pub mod event;
