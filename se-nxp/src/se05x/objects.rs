//! Object inventory and binary-file commands of the driver (AN12413): WriteBinary, ReadObject
//! of part of a file, ReadSize, ReadIDList with paging, GetVersion and GetFreeMemory.

use alloc::vec::Vec;

use embedded_hal::delay::DelayNs;
use embedded_hal::i2c::I2c;

use super::consts::*;
use super::{AppletVersion, ObjectId, Se05x, Se05xError};
use crate::apdu::{self, Command};

/// Which memory [`Se05x::free_memory`] asks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryKind {
    /// Persistent (flash) memory, where objects live.
    Persistent,
    /// Transient memory cleared on reset.
    TransientReset,
    /// Transient memory cleared when the applet is deselected.
    TransientDeselect,
}

impl MemoryKind {
    const fn wire(self) -> u8 {
        match self {
            Self::Persistent => MEMORY_PERSISTENT,
            Self::TransientReset => MEMORY_TRANSIENT_RESET,
            Self::TransientDeselect => MEMORY_TRANSIENT_DESELECT,
        }
    }
}

/// Which objects [`Se05x::read_id_list`] lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectFilter {
    /// Every object.
    All,
    /// EC key pairs.
    EcKeyPair,
    /// Binary files.
    BinaryFile,
}

impl ObjectFilter {
    const fn wire(self) -> u8 {
        match self {
            Self::All => OBJECT_FILTER_ALL,
            Self::EcKeyPair => OBJECT_TYPE_EC_KEY_PAIR,
            Self::BinaryFile => OBJECT_TYPE_BINARY_FILE,
        }
    }
}

/// One answer of ReadIDList.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdListPage {
    /// The identifiers in this answer.
    pub ids: Vec<ObjectId>,
    /// Whether more follow (ask again at the next offset).
    pub more: bool,
}

fn tlv_u16(command: &'static str, field: &'static str, value: &[u8]) -> Result<u16, Se05xError> {
    match *value {
        [hi, lo] => Ok(u16::from_be_bytes([hi, lo])),
        _ => Err(Se05xError::bad_field(command, field, "not 2 bytes")),
    }
}

impl<I2C: I2c, D: DelayNs> Se05x<I2C, D> {
    /// WriteBinary: writes `data` at `offset` of binary file `id`. `create_length` creates the
    /// file with that length (zero-filled) when it does not exist yet; an existing file keeps
    /// its length.
    ///
    /// # Errors
    /// [`Se05xError`] on failure (`WrongData` outside the file or without a length for a new
    /// file, `NotEnoughMemory` when it does not fit).
    pub fn write_binary(
        &mut self,
        id: ObjectId,
        offset: u16,
        data: &[u8],
        create_length: Option<u16>,
    ) -> Result<(), Se05xError> {
        let mut body = Vec::with_capacity(18 + data.len());
        apdu::push_tlv(&mut body, TAG_1, &id.0.to_be_bytes());
        if offset != 0 {
            apdu::push_tlv(&mut body, TAG_2, &offset.to_be_bytes());
        }
        if let Some(length) = create_length {
            apdu::push_tlv(&mut body, TAG_3, &length.to_be_bytes());
        }
        if !data.is_empty() {
            apdu::push_tlv(&mut body, TAG_4, data);
        }
        let command = Command {
            cla: CLA,
            ins: INS_WRITE,
            p1: P1_BINARY,
            p2: P2_DEFAULT,
            data: &body,
            ne: 0,
        };
        self.run("write binary", &command).map(|_| ())
    }

    /// ReadObject of a binary file: `length` bytes from `offset` (`None`: to the end).
    ///
    /// # Errors
    /// [`Se05xError`] on failure (`WrongData` for a range outside the file).
    pub fn read_binary(
        &mut self,
        id: ObjectId,
        offset: u16,
        length: Option<u16>,
    ) -> Result<Vec<u8>, Se05xError> {
        let mut body = Vec::with_capacity(14);
        apdu::push_tlv(&mut body, TAG_1, &id.0.to_be_bytes());
        if offset != 0 {
            apdu::push_tlv(&mut body, TAG_2, &offset.to_be_bytes());
        }
        if let Some(length) = length {
            apdu::push_tlv(&mut body, TAG_3, &length.to_be_bytes());
        }
        let command = Command {
            cla: CLA,
            ins: INS_READ,
            p1: P1_DEFAULT,
            p2: P2_DEFAULT,
            data: &body,
            ne: 65_536,
        };
        let bytes = self.run_tag1("read binary", &command)?;
        if length.is_some_and(|l| usize::from(l) != bytes.len()) {
            return Err(Se05xError::bad_field(
                "read binary",
                "data",
                "length differs from request",
            ));
        }
        Ok(bytes.to_vec())
    }

    /// ReadSize: a binary file's length, or a key's size in bytes.
    ///
    /// # Errors
    /// [`Se05xError`] on failure.
    pub fn read_size(&mut self, id: ObjectId) -> Result<u16, Se05xError> {
        const NAME: &str = "read size";
        let mut body = Vec::with_capacity(6);
        apdu::push_tlv(&mut body, TAG_1, &id.0.to_be_bytes());
        let command = Command {
            cla: CLA,
            ins: INS_READ,
            p1: P1_DEFAULT,
            p2: P2_SIZE,
            data: &body,
            ne: 256,
        };
        let size = self.run_tag1(NAME, &command)?;
        tlv_u16(NAME, "size", size)
    }

    /// ReadIDList: one page of object identifiers from `offset` (the number of identifier
    /// bytes already received: 4 per identifier).
    ///
    /// # Errors
    /// [`Se05xError`] on failure.
    pub fn read_id_list(
        &mut self,
        offset: u16,
        filter: ObjectFilter,
    ) -> Result<IdListPage, Se05xError> {
        const NAME: &str = "read id list";
        let mut body = Vec::with_capacity(7);
        apdu::push_tlv(&mut body, TAG_1, &offset.to_be_bytes());
        apdu::push_tlv(&mut body, TAG_2, &[filter.wire()]);
        let command = Command {
            cla: CLA,
            ins: INS_READ,
            p1: P1_DEFAULT,
            p2: P2_LIST,
            data: &body,
            ne: 65_536,
        };
        let data = self.run(NAME, &command)?;
        let response = |source| Se05xError::Response {
            command: NAME,
            source,
        };
        let more = match apdu::find_tlv(data, TAG_1).map_err(response)? {
            [MORE_YES] => true,
            [MORE_NO] => false,
            _ => return Err(Se05xError::bad_field(NAME, "more", "neither 01 nor 02")),
        };
        let ids = apdu::find_tlv(data, TAG_2).map_err(response)?;
        if ids.len() % 4 != 0 {
            return Err(Se05xError::bad_field(NAME, "ids", "not 4 bytes each"));
        }
        let ids = ids
            .chunks_exact(4)
            .map(|id| ObjectId(u32::from_be_bytes([id[0], id[1], id[2], id[3]])))
            .collect();
        Ok(IdListPage { ids, more })
    }

    /// Every object identifier matching `filter`, reading page after page.
    ///
    /// # Errors
    /// [`Se05xError`] on failure, or when the list does not fit the 16-bit offset.
    pub fn list_objects(&mut self, filter: ObjectFilter) -> Result<Vec<ObjectId>, Se05xError> {
        let mut all = Vec::new();
        loop {
            let offset = u16::try_from(all.len() * 4)
                .map_err(|_| Se05xError::bad_field("read id list", "offset", "beyond 0xFFFF"))?;
            let page = self.read_id_list(offset, filter)?;
            let empty = page.ids.is_empty();
            all.extend(page.ids);
            if !page.more || empty {
                return Ok(all);
            }
        }
    }

    /// GetVersion: the applet version (as SELECT answers it).
    ///
    /// # Errors
    /// [`Se05xError`] on failure.
    pub fn get_version(&mut self) -> Result<AppletVersion, Se05xError> {
        const NAME: &str = "get version";
        let command = Command {
            cla: CLA,
            ins: INS_MGMT,
            p1: P1_DEFAULT,
            p2: P2_VERSION,
            data: &[],
            ne: 256,
        };
        let version = self.run_tag1(NAME, &command)?;
        AppletVersion::from_bytes(version)
            .ok_or_else(|| Se05xError::bad_field(NAME, "version", "shorter than 7 bytes"))
    }

    /// GetFreeMemory: free bytes of `kind` (the chip caps the answer at 0x7FFF).
    ///
    /// # Errors
    /// [`Se05xError`] on failure.
    pub fn free_memory(&mut self, kind: MemoryKind) -> Result<u16, Se05xError> {
        const NAME: &str = "get free memory";
        let mut body = Vec::with_capacity(3);
        apdu::push_tlv(&mut body, TAG_1, &[kind.wire()]);
        let command = Command {
            cla: CLA,
            ins: INS_MGMT,
            p1: P1_DEFAULT,
            p2: P2_MEMORY,
            data: &body,
            ne: 256,
        };
        let free = self.run_tag1(NAME, &command)?;
        tlv_u16(NAME, "free memory", free)
    }
}
