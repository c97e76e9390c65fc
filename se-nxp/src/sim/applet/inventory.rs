//! What the simulated chip says about itself: GetVersion, GetFreeMemory, ReadIDList with
//! paging, and GetRandom.

use std::collections::BTreeMap;

use super::{Applet, SELECT_RESPONSE, SW_NO_DIAGNOSIS, SW_OK, SW_WRONG_DATA, SecureObject};
use crate::apdu::{find_tlv, push_tlv};
use crate::se05x::consts::*;

/// Persistent memory the simulated chip offers to objects (an SE050 has about 50 kB).
pub(crate) const PERSISTENT_BYTES: usize = 50_000;
/// Bookkeeping a stored object costs besides its value (a simulator figure).
pub(crate) const OBJECT_OVERHEAD: usize = 32;
/// Transient memory reported for the two transient kinds; no object uses it here.
pub(crate) const TRANSIENT_RESET_BYTES: u16 = 4_096;
pub(crate) const TRANSIENT_DESELECT_BYTES: u16 = 4_096;
/// GetFreeMemory answers in two bytes and caps the value at 0x7FFF.
const FREE_MEMORY_CAP: usize = 0x7FFF;
/// Identifiers per ReadIDList answer; the next page starts at the offset after them.
pub(crate) const IDS_PER_ANSWER: usize = 32;

/// Persistent bytes `object` takes.
fn footprint(object: &SecureObject) -> usize {
    OBJECT_OVERHEAD
        + match object {
            // Private scalar and public point.
            SecureObject::EcKeyPair(_) => 32 + 65,
            SecureObject::Binary(file) => file.len(),
        }
}

fn used(objects: &BTreeMap<u32, SecureObject>) -> usize {
    objects.values().map(footprint).sum()
}

/// Whether `object` fits into what is left of persistent memory.
pub(super) fn fits_in_memory(objects: &BTreeMap<u32, SecureObject>, object: &SecureObject) -> bool {
    used(objects) + footprint(object) <= PERSISTENT_BYTES
}

/// GetVersion: TLV[TAG_1] of 7 bytes, the same version SELECT answers.
pub(super) fn version(data: &[u8], response: &mut Vec<u8>) -> Result<(), u16> {
    if !data.is_empty() {
        return Err(SW_WRONG_DATA);
    }
    push_tlv(response, TAG_1, &SELECT_RESPONSE);
    response.extend_from_slice(&SW_OK);
    Ok(())
}

pub(super) fn random(data: &[u8], response: &mut Vec<u8>) -> Result<(), u16> {
    let len: [u8; 2] = find_tlv(data, TAG_1)
        .map_err(|_| SW_WRONG_DATA)?
        .try_into()
        .map_err(|_| SW_WRONG_DATA)?;
    let mut bytes = vec![0u8; usize::from(u16::from_be_bytes(len))];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| SW_NO_DIAGNOSIS)?;
    push_tlv(response, TAG_1, &bytes);
    response.extend_from_slice(&SW_OK);
    Ok(())
}

impl Applet {
    /// GetFreeMemory: TLV[TAG_1] memory type → TLV[TAG_1] two bytes, capped at 0x7FFF.
    pub(super) fn free_memory(&self, data: &[u8], response: &mut Vec<u8>) -> Result<(), u16> {
        let free = match find_tlv(data, TAG_1) {
            Ok(&[MEMORY_PERSISTENT]) => {
                let free = PERSISTENT_BYTES.saturating_sub(used(&self.objects));
                u16::try_from(free.min(FREE_MEMORY_CAP)).map_err(|_| SW_NO_DIAGNOSIS)?
            }
            Ok(&[MEMORY_TRANSIENT_RESET]) => TRANSIENT_RESET_BYTES,
            Ok(&[MEMORY_TRANSIENT_DESELECT]) => TRANSIENT_DESELECT_BYTES,
            _ => return Err(SW_WRONG_DATA),
        };
        push_tlv(response, TAG_1, &free.to_be_bytes());
        response.extend_from_slice(&SW_OK);
        Ok(())
    }

    /// ReadIDList: TLV[TAG_1] offset, TLV[TAG_2] type filter → TLV[TAG_1] more indicator,
    /// TLV[TAG_2] 4-byte identifiers in ascending order.
    ///
    /// The offset counts bytes of identifiers already received (4 per identifier), as NXP's
    /// host library pages (it passes the byte length of the list it got as the next offset).
    pub(super) fn read_id_list(&self, data: &[u8], response: &mut Vec<u8>) -> Result<(), u16> {
        let offset = match find_tlv(data, TAG_1) {
            Ok(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
            _ => return Err(SW_WRONG_DATA),
        };
        let Ok(&[filter]) = find_tlv(data, TAG_2) else {
            return Err(SW_WRONG_DATA);
        };
        if offset % 4 != 0 {
            return Err(SW_WRONG_DATA);
        }
        let mut matching = self
            .objects
            .iter()
            .filter(|(_, object)| filter == OBJECT_FILTER_ALL || object.type_byte() == filter)
            .map(|(id, _)| *id)
            .skip(offset / 4);
        let ids: Vec<u8> = matching
            .by_ref()
            .take(IDS_PER_ANSWER)
            .flat_map(u32::to_be_bytes)
            .collect();
        let more = if matching.next().is_some() {
            MORE_YES
        } else {
            MORE_NO
        };
        push_tlv(response, TAG_1, &[more]);
        push_tlv(response, TAG_2, &ids);
        response.extend_from_slice(&SW_OK);
        Ok(())
    }
}
