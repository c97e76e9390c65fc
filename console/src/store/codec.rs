//! The snapshot's binary encoding: little-endian integers, LEB128 lengths, and strings that
//! repeat (issuers, group names, firmware versions, policy names) written once per block and
//! referred to by number afterwards. A block decodes on its own, so blocks decode in parallel.

use std::collections::HashMap;
use std::sync::Arc;

/// Why a block could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub &'static str);

/// Writes one block.
#[derive(Debug, Default)]
pub struct Writer {
    bytes: Vec<u8>,
    shared: HashMap<Box<str>, u32>,
}

impl Writer {
    /// The encoded block.
    #[must_use]
    pub fn finish(self) -> Vec<u8> {
        self.bytes
    }

    pub fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }

    pub fn i64(&mut self, v: i64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }

    pub fn len(&mut self, mut v: usize) {
        while v >= 0x80 {
            // The low seven bits with the continuation bit.
            self.bytes.push(u8::try_from(v & 0x7f).unwrap_or(0) | 0x80);
            v >>= 7;
        }
        self.bytes.push(u8::try_from(v).unwrap_or(0));
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.bytes.extend_from_slice(b);
    }

    pub fn str(&mut self, s: &str) {
        self.len(s.len());
        self.bytes.extend_from_slice(s.as_bytes());
    }

    pub fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
            None => self.u8(0),
        }
    }

    /// A string that repeats across records: 0 and the text the first time, its number + 1
    /// after that.
    pub fn shared(&mut self, s: &str) {
        if let Some(&n) = self.shared.get(s) {
            self.len(n as usize + 1);
            return;
        }
        let n = u32::try_from(self.shared.len()).unwrap_or(u32::MAX);
        self.shared.insert(s.into(), n);
        self.len(0);
        self.str(s);
    }
}

/// Reads one block.
#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    shared: Vec<&'a str>,
    /// The shared strings handed out as one allocation each.
    owned: Vec<Option<Arc<str>>>,
}

const TRUNCATED: DecodeError = DecodeError("the block ends early");

impl<'a> Reader<'a> {
    #[must_use]
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            shared: Vec::new(),
            owned: Vec::new(),
        }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Bytes not read yet.
    #[must_use]
    pub fn remaining(&self) -> usize {
        self.bytes.len()
    }

    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.bytes.len() < n {
            return Err(TRUNCATED);
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    pub fn i64(&mut self) -> Result<i64, DecodeError> {
        let b = self.take(8)?;
        Ok(i64::from_le_bytes(b.try_into().map_err(|_| TRUNCATED)?))
    }

    pub fn len(&mut self) -> Result<usize, DecodeError> {
        let mut v = 0_usize;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(DecodeError("a length is too long"))
    }

    pub fn str(&mut self) -> Result<&'a str, DecodeError> {
        let n = self.len()?;
        std::str::from_utf8(self.take(n)?).map_err(|_| DecodeError("a string is not UTF-8"))
    }

    pub fn opt_str(&mut self) -> Result<Option<&'a str>, DecodeError> {
        match self.u8()? {
            0 => Ok(None),
            _ => self.str().map(Some),
        }
    }

    pub fn shared(&mut self) -> Result<&'a str, DecodeError> {
        self.shared_index().map(|n| self.shared[n])
    }

    /// A shared string as one allocation for every record of the block that names it.
    pub fn shared_arc(&mut self) -> Result<Arc<str>, DecodeError> {
        let n = self.shared_index()?;
        if self.owned.len() <= n {
            self.owned.resize(n + 1, None);
        }
        Ok(self.owned[n]
            .get_or_insert_with(|| Arc::from(self.shared[n]))
            .clone())
    }

    fn shared_index(&mut self) -> Result<usize, DecodeError> {
        match self.len()? {
            0 => {
                let s = self.str()?;
                self.shared.push(s);
                Ok(self.shared.len() - 1)
            }
            n if n <= self.shared.len() => Ok(n - 1),
            _ => Err(DecodeError("a shared string is not defined")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_shared_strings_and_long_lengths() {
        let mut w = Writer::default();
        w.shared("eu-west");
        w.shared("us-east");
        w.shared("eu-west");
        w.str(&"x".repeat(300));
        w.i64(-5);
        w.opt_str(None);
        w.opt_str(Some("fw"));
        let bytes = w.finish();
        let mut r = Reader::new(&bytes);
        assert_eq!(r.shared().unwrap(), "eu-west");
        assert_eq!(r.shared().unwrap(), "us-east");
        assert_eq!(r.shared().unwrap(), "eu-west");
        assert_eq!(r.str().unwrap().len(), 300);
        assert_eq!(r.i64().unwrap(), -5);
        assert_eq!(r.opt_str().unwrap(), None);
        assert_eq!(r.opt_str().unwrap(), Some("fw"));
        assert!(r.is_empty());
        assert_eq!(Reader::new(&bytes[..3]).shared(), Err(TRUNCATED));
    }
}
