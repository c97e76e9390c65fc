//! SE05x status words (AN12413): every value other than 0x9000 is a typed error.

/// A status word other than success.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum StatusError {
    /// 0x6700.
    #[error("wrong length (SW 6700)")]
    WrongLength,
    /// 0x6581.
    #[error("memory failure (SW 6581)")]
    MemoryFailure,
    /// 0x6982.
    #[error("security status not satisfied (SW 6982)")]
    SecurityStatusNotSatisfied,
    /// 0x6985: e.g. reading a private key.
    #[error("conditions of use not satisfied (SW 6985)")]
    ConditionsNotSatisfied,
    /// 0x6986: blocked by the object's policy.
    #[error("command not allowed (SW 6986)")]
    CommandNotAllowed,
    /// 0x6A80.
    #[error("wrong data (SW 6A80)")]
    WrongData,
    /// 0x6A82.
    #[error("object or applet not found (SW 6A82)")]
    NotFound,
    /// 0x6A84.
    #[error("not enough memory (SW 6A84)")]
    NotEnoughMemory,
    /// 0x6A86.
    #[error("incorrect P1 or P2 (SW 6A86)")]
    IncorrectP1P2,
    /// 0x6D00.
    #[error("instruction not supported (SW 6D00)")]
    InsNotSupported,
    /// 0x6E00.
    #[error("class not supported (SW 6E00)")]
    ClaNotSupported,
    /// 0x6F00.
    #[error("no precise diagnosis (SW 6F00)")]
    NoPreciseDiagnosis,
    /// Any other value.
    #[error("unexpected status word {0:04X}")]
    Other(u16),
}

/// The success status word.
pub const SW_OK: u16 = 0x9000;

impl StatusError {
    /// Maps a status word: `Ok` for 0x9000, the typed error otherwise.
    ///
    /// # Errors
    /// The [`StatusError`] for every status word except 0x9000.
    pub const fn check(sw: u16) -> Result<(), Self> {
        Err(match sw {
            SW_OK => return Ok(()),
            0x6700 => Self::WrongLength,
            0x6581 => Self::MemoryFailure,
            0x6982 => Self::SecurityStatusNotSatisfied,
            0x6985 => Self::ConditionsNotSatisfied,
            0x6986 => Self::CommandNotAllowed,
            0x6A80 => Self::WrongData,
            0x6A82 => Self::NotFound,
            0x6A84 => Self::NotEnoughMemory,
            0x6A86 => Self::IncorrectP1P2,
            0x6D00 => Self::InsNotSupported,
            0x6E00 => Self::ClaNotSupported,
            0x6F00 => Self::NoPreciseDiagnosis,
            other => Self::Other(other),
        })
    }

    /// The status word this error stands for.
    #[must_use]
    pub const fn sw(self) -> u16 {
        match self {
            Self::WrongLength => 0x6700,
            Self::MemoryFailure => 0x6581,
            Self::SecurityStatusNotSatisfied => 0x6982,
            Self::ConditionsNotSatisfied => 0x6985,
            Self::CommandNotAllowed => 0x6986,
            Self::WrongData => 0x6A80,
            Self::NotFound => 0x6A82,
            Self::NotEnoughMemory => 0x6A84,
            Self::IncorrectP1P2 => 0x6A86,
            Self::InsNotSupported => 0x6D00,
            Self::ClaNotSupported => 0x6E00,
            Self::NoPreciseDiagnosis => 0x6F00,
            Self::Other(sw) => sw,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_word_round_trips() {
        for sw in 0..=u16::MAX {
            match StatusError::check(sw) {
                Ok(()) => assert_eq!(sw, SW_OK),
                Err(err) => assert_eq!(err.sw(), sw),
            }
        }
    }
}
