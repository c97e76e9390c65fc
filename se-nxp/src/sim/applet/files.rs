//! Binary files of the simulated applet: WriteBinary (create with a length, write at an
//! offset), the part of a file ReadObject returns, and ReadSize.

use super::inventory::fits_in_memory;
use super::{
    Applet, SW_CONDITIONS, SW_NOT_ALLOWED, SW_NOT_ENOUGH_MEMORY, SW_NOT_FOUND, SW_OK,
    SW_WRONG_DATA, SecureObject, object_id, optional_u16,
};
use crate::apdu::{find_tlv, push_tlv};
use crate::se05x::consts::*;

/// Longest binary file (AN12413: the file length is at most 0x7FFF).
pub(crate) const MAX_FILE_LENGTH: u16 = 0x7FFF;

/// Size ReadSize reports for a NIST P-256 key pair: the key size in bytes.
const P256_KEY_SIZE: u16 = 32;

/// `bytes[offset..offset + length]`; no offset is 0, no length is "to the end". A range
/// outside the file, or an explicit length of zero, is wrong data.
pub(super) fn slice(bytes: &[u8], offset: Option<u16>, length: Option<u16>) -> Result<&[u8], u16> {
    let start = usize::from(offset.unwrap_or(0));
    let end = match length {
        Some(0) => return Err(SW_WRONG_DATA),
        Some(length) => start + usize::from(length),
        None => bytes.len(),
    };
    bytes.get(start..end).ok_or(SW_WRONG_DATA)
}

impl Applet {
    /// WriteBinary: TLV[TAG_1] id, TLV[TAG_2] offset, TLV[TAG_3] file length (only to create
    /// the file), TLV[TAG_4] data.
    pub(super) fn write_binary(&mut self, data: &[u8]) -> Result<(), u16> {
        if find_tlv(data, TAG_POLICY).is_ok() {
            // Object policies are not simulated: refuse rather than ignore them.
            return Err(SW_CONDITIONS);
        }
        let id = object_id(data).ok_or(SW_WRONG_DATA)?;
        let offset = usize::from(optional_u16(data, TAG_2)?.unwrap_or(0));
        let length = optional_u16(data, TAG_3)?;
        let bytes = find_tlv(data, TAG_4).unwrap_or(&[]);
        let end = offset + bytes.len();
        match self.objects.get_mut(&id) {
            Some(SecureObject::Binary(file)) => {
                if length.is_some_and(|l| usize::from(l) != file.len()) || end > file.len() {
                    return Err(SW_WRONG_DATA);
                }
                file[offset..end].copy_from_slice(bytes);
            }
            Some(SecureObject::EcKeyPair(_)) => return Err(SW_NOT_ALLOWED),
            None => {
                let length = length
                    .filter(|l| (1..=MAX_FILE_LENGTH).contains(l))
                    .ok_or(SW_WRONG_DATA)?;
                let mut file = vec![0u8; usize::from(length)];
                let target = file.get_mut(offset..end).ok_or(SW_WRONG_DATA)?;
                target.copy_from_slice(bytes);
                let object = SecureObject::Binary(file);
                if !fits_in_memory(&self.objects, &object) {
                    return Err(SW_NOT_ENOUGH_MEMORY);
                }
                self.objects.insert(id, object);
            }
        }
        Ok(())
    }

    /// ReadSize: the length of a binary file, the key size in bytes of a key pair.
    pub(super) fn read_size(&self, data: &[u8], response: &mut Vec<u8>) -> Result<(), u16> {
        let id = object_id(data).ok_or(SW_WRONG_DATA)?;
        let size = match self.objects.get(&id).ok_or(SW_NOT_FOUND)? {
            SecureObject::EcKeyPair(_) => P256_KEY_SIZE,
            SecureObject::Binary(file) => u16::try_from(file.len()).map_err(|_| SW_WRONG_DATA)?,
        };
        push_tlv(response, TAG_1, &size.to_be_bytes());
        response.extend_from_slice(&SW_OK);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_stay_inside_the_file() {
        let file = [1, 2, 3, 4];
        assert_eq!(slice(&file, None, None), Ok(&file[..]));
        assert_eq!(slice(&file, Some(1), Some(2)), Ok(&file[1..3]));
        assert_eq!(slice(&file, Some(4), None), Ok(&file[4..]));
        assert_eq!(slice(&file, Some(3), Some(2)), Err(SW_WRONG_DATA));
        assert_eq!(slice(&file, Some(5), None), Err(SW_WRONG_DATA));
        assert_eq!(slice(&file, None, Some(0)), Err(SW_WRONG_DATA));
    }
}
