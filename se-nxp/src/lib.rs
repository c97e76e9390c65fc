//! Driver for the NXP SE05x secure element: the only code in fleetid that talks to the chip.
//!
//! The core is `no_std` (with `alloc`); the `std` feature adds the simulator and host helpers.
#![cfg_attr(not(feature = "std"), no_std)]

pub mod crc;
