//! Linux i2c-dev bus for the SE05x: an `embedded_hal` 1.0 `I2c` over `/dev/i2c-N` that reports
//! the SE's address NACK (it NACKs while busy) as `NoAcknowledge(Address)`, which the driver
//! treats as "busy, poll again". Kernel bus drivers differ in the errno they use for an
//! address NACK: ENXIO (documented in the kernel's i2c fault codes) or EREMOTEIO (e.g.
//! DesignWare, some i.MX kernels); both are mapped.
//!
//! Each operation of a transaction is its own read or write: the SE05x protocol never needs a
//! repeated start.

use std::path::Path;

use embedded_hal::i2c::{ErrorKind, ErrorType, I2c, NoAcknowledgeSource, Operation};
use i2cdev::core::I2CDevice;
use i2cdev::linux::{LinuxI2CDevice, LinuxI2CError};

const ENODEV: i32 = 19;
const ENXIO: i32 = 6;
const EREMOTEIO: i32 = 121;
const EIO: i32 = 5;
const EBUSY: i32 = 16;
const EAGAIN: i32 = 11;

/// An i2c-dev failure with the errno it carried.
#[derive(Debug, thiserror::Error)]
#[error("i2c-dev {operation} at address {address:#04x}: {source}")]
pub struct LinuxI2cError {
    operation: &'static str,
    address: u8,
    errno: Option<i32>,
    source: LinuxI2CError,
}

impl embedded_hal::i2c::Error for LinuxI2cError {
    fn kind(&self) -> ErrorKind {
        match self.errno {
            Some(ENXIO | EREMOTEIO) => ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address),
            Some(ENODEV) => ErrorKind::NoAcknowledge(NoAcknowledgeSource::Data),
            Some(EAGAIN) => ErrorKind::ArbitrationLoss,
            Some(EIO | EBUSY) => ErrorKind::Bus,
            _ => ErrorKind::Other,
        }
    }
}

fn errno(error: &LinuxI2CError) -> Option<i32> {
    match error {
        LinuxI2CError::Errno(errno) => Some(*errno),
        LinuxI2CError::Io(io) => io.raw_os_error(),
    }
}

/// The SE's I2C bus on Linux.
pub struct LinuxI2c {
    device: LinuxI2CDevice,
    address: u8,
}

impl LinuxI2c {
    /// Opens `path` (e.g. `/dev/i2c-1`) for the device at 7-bit `address` (0x48 for the SE05x).
    ///
    /// # Errors
    /// [`LinuxI2cError`] when the device cannot be opened.
    pub fn open(path: impl AsRef<Path>, address: u8) -> Result<Self, LinuxI2cError> {
        let device =
            LinuxI2CDevice::new(path, u16::from(address)).map_err(|source| LinuxI2cError {
                operation: "open",
                address,
                errno: errno(&source),
                source,
            })?;
        Ok(Self { device, address })
    }

    fn select(&mut self, address: u8) -> Result<(), LinuxI2cError> {
        if address != self.address {
            self.device
                .set_slave_address(u16::from(address))
                .map_err(|source| LinuxI2cError {
                    operation: "select address",
                    address,
                    errno: errno(&source),
                    source,
                })?;
            self.address = address;
        }
        Ok(())
    }
}

impl ErrorType for LinuxI2c {
    type Error = LinuxI2cError;
}

impl I2c for LinuxI2c {
    fn transaction(
        &mut self,
        address: u8,
        operations: &mut [Operation<'_>],
    ) -> Result<(), Self::Error> {
        self.select(address)?;
        for operation in operations {
            let (name, result) = match operation {
                Operation::Read(buffer) => ("read", self.device.read(buffer)),
                Operation::Write(bytes) => ("write", self.device.write(bytes)),
            };
            result.map_err(|source| LinuxI2cError {
                operation: name,
                address,
                errno: errno(&source),
                source,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use embedded_hal::i2c::Error as _;

    use super::*;

    fn kind_of(errno: i32) -> ErrorKind {
        LinuxI2cError {
            operation: "read",
            address: 0x48,
            errno: Some(errno),
            source: LinuxI2CError::Errno(errno),
        }
        .kind()
    }

    #[test]
    fn address_nacks_mean_busy_and_other_errnos_do_not() {
        let busy = ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address);
        assert_eq!(kind_of(ENXIO), busy);
        assert_eq!(kind_of(EREMOTEIO), busy);
        assert_eq!(
            kind_of(ENODEV),
            ErrorKind::NoAcknowledge(NoAcknowledgeSource::Data)
        );
        assert_eq!(kind_of(EIO), ErrorKind::Bus);
        assert_eq!(kind_of(EAGAIN), ErrorKind::ArbitrationLoss);
        assert_eq!(kind_of(13), ErrorKind::Other);
    }

    #[test]
    fn opening_a_missing_bus_is_an_error_naming_the_operation() {
        let err = LinuxI2c::open("/nonexistent/i2c-99", 0x48)
            .err()
            .map(|err| err.to_string());
        assert!(err.is_some_and(|text| text.contains("open")));
    }
}
