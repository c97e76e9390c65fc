//! Driver for the NXP SE05x secure element: the only code in fleetid that talks to the chip.
//!
//! Layers, bottom up:
//! - [`crc`], [`frame`], [`atr`]: T=1 over I2C blocks (UM11225).
//! - [`t1`]: the link — chaining, retransmission, WTX, busy polling bounded by BWT.
//! - [`apdu`], [`status`]: command/response APDUs, TLVs, typed status words.
//! - [`se05x`]: [`Se05x`], the applet commands (AN12413), generic over `embedded_hal` 1.0
//!   [`I2c`](embedded_hal::i2c::I2c) and [`DelayNs`](embedded_hal::delay::DelayNs).
//! - [`secure_element`]: [`SecureElement`], the object-safe trait `Se05x` implements, and under
//!   `std` the shareable handle [`SharedSe`] (`Arc<Mutex<dyn SecureElement + Send>>`).
//!
//! With `std` (default): [`sim`] — `SimulatedSe`, a byte-exact simulated chip with fault
//! injection and file persistence; `sim::simulated_se05x()` gives a ready driver over it.
//! Feature `rustls`: [`tls`] — `SeSigningKey` and `client_cert_resolver`. Feature `csr`:
//! [`csr`] — `csr_pem` for a key held in the SE. Feature `linux`: [`linux`] — an i2c-dev bus
//! that reports the SE's busy NACK as "poll again".
//!
//! The core is `no_std` with `alloc` when the `std` feature is off.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub mod apdu;
pub mod atr;
pub mod crc;
pub mod frame;
pub mod se05x;
pub mod secure_element;
pub mod spki;
pub mod status;
pub mod t1;

#[cfg(feature = "csr")]
pub mod csr;
#[cfg(feature = "linux")]
pub mod linux;
#[cfg(feature = "std")]
pub mod sim;
#[cfg(feature = "rustls")]
pub mod tls;

pub use atr::Atr;
pub use se05x::{
    AppletVersion, IdListPage, MemoryKind, ObjectFilter, ObjectId, P256PublicKey, Se05x, Se05xError,
};
pub use secure_element::SecureElement;
#[cfg(feature = "std")]
pub use secure_element::{SharedSe, share, with_shared};
pub use status::StatusError;
pub use t1::{LinkConfig, LinkStats, TransportError};
