//! Tests of the core: scenarios, every state against every event, and a property test with
//! crashes between events.

mod connection;
mod matrix;
mod property;
mod scenarios;
mod support;
