//! The simulated SE05x IoT applet: command APDU parsing, dispatch on the full
//! `CLA INS P1 P2` (so transient, authentication and attestation flags in INS are never
//! ignored), and the status words of the chip. The commands live in submodules: key pairs
//! (`keys`), binary files (`files`), and the inventory of the chip (`inventory`).

mod files;
mod inventory;
mod keys;

use std::collections::BTreeMap;

use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair};

use crate::apdu::{find_tlv, push_tlv};
use crate::se05x::APPLET_AID;
use crate::se05x::consts::*;

/// Version answered to SELECT and GetVersion: applet 3.1.1, configuration 0x6FFF, secure box
/// 1.11.
pub(crate) const SELECT_RESPONSE: [u8; 7] = [0x03, 0x01, 0x01, 0x6F, 0xFF, 0x01, 0x0B];

const SW_OK: [u8; 2] = [0x90, 0x00];
const SW_WRONG_LENGTH: u16 = 0x6700;
const SW_CONDITIONS: u16 = 0x6985;
const SW_NOT_ALLOWED: u16 = 0x6986;
const SW_WRONG_DATA: u16 = 0x6A80;
const SW_NOT_FOUND: u16 = 0x6A82;
const SW_NOT_ENOUGH_MEMORY: u16 = 0x6A84;
const SW_INS_NOT_SUPPORTED: u16 = 0x6D00;
const SW_CLA_NOT_SUPPORTED: u16 = 0x6E00;
const SW_NO_DIAGNOSIS: u16 = 0x6F00;

/// A secure object.
pub(crate) enum SecureObject {
    /// A P-256 key pair; only its public half ever leaves the chip.
    EcKeyPair(EcdsaKeyPair),
    /// A binary file of fixed length (set when it was created).
    Binary(Vec<u8>),
}

impl SecureObject {
    /// The secure object type byte (ReadIDList filter, ReadType).
    pub(crate) fn type_byte(&self) -> u8 {
        match self {
            Self::EcKeyPair(_) => OBJECT_TYPE_EC_KEY_PAIR,
            Self::Binary(_) => OBJECT_TYPE_BINARY_FILE,
        }
    }
}

/// Result of one command: did the object store change (so it must be persisted)?
pub(crate) struct Outcome {
    pub(crate) store_changed: bool,
}

/// Applet state.
pub(crate) struct Applet {
    pub(crate) objects: BTreeMap<u32, SecureObject>,
    selected: bool,
}

struct Apdu<'a> {
    cla: u8,
    ins: u8,
    p1: u8,
    p2: u8,
    data: &'a [u8],
}

/// Splits a command APDU (short or extended); `None` when the lengths do not add up.
fn parse_apdu(bytes: &[u8]) -> Option<Apdu<'_>> {
    let [cla, ins, p1, p2, body @ ..] = bytes else {
        return None;
    };
    let data: &[u8] = match body {
        [] | [_] | [0, _, _] => &[],
        [lc, rest @ ..] if *lc != 0 => {
            let lc = usize::from(*lc);
            if rest.len() != lc && rest.len() != lc + 1 {
                return None;
            }
            &rest[..lc]
        }
        [0, hi, lo, rest @ ..] => {
            let lc = usize::from(u16::from_be_bytes([*hi, *lo]));
            if lc == 0 || (rest.len() != lc && rest.len() != lc + 2) {
                return None;
            }
            &rest[..lc]
        }
        _ => return None,
    };
    Some(Apdu {
        cla: *cla,
        ins: *ins,
        p1: *p1,
        p2: *p2,
        data,
    })
}

fn status(response: &mut Vec<u8>, sw: u16) {
    response.extend_from_slice(&sw.to_be_bytes());
}

fn object_id(data: &[u8]) -> Option<u32> {
    let id: [u8; 4] = find_tlv(data, TAG_1).ok()?.try_into().ok()?;
    Some(u32::from_be_bytes(id))
}

/// An optional two-byte TLV: `Ok(None)` when absent, wrong data when another length.
fn optional_u16(data: &[u8], tag: u8) -> Result<Option<u16>, u16> {
    match find_tlv(data, tag) {
        Err(_) => Ok(None),
        Ok(&[hi, lo]) => Ok(Some(u16::from_be_bytes([hi, lo]))),
        Ok(_) => Err(SW_WRONG_DATA),
    }
}

fn result_tlv(response: &mut Vec<u8>, ok: bool) {
    push_tlv(
        response,
        TAG_1,
        &[if ok { RESULT_SUCCESS } else { RESULT_FAILURE }],
    );
    response.extend_from_slice(&SW_OK);
}

impl Applet {
    pub(crate) fn new(objects: BTreeMap<u32, SecureObject>) -> Self {
        // The IoT applet is the default-selected applet after power-on.
        Self {
            objects,
            selected: true,
        }
    }

    /// After a chip reset the default applet is selected again.
    pub(crate) fn power_on(&mut self) {
        self.selected = true;
    }

    /// Runs one command APDU; the response APDU (data and status word) goes to `response`.
    pub(crate) fn process(&mut self, command: &[u8], response: &mut Vec<u8>) -> Outcome {
        response.clear();
        let mut outcome = Outcome {
            store_changed: false,
        };
        let Some(apdu) = parse_apdu(command) else {
            status(response, SW_WRONG_LENGTH);
            return outcome;
        };
        if apdu.cla == 0x00 && apdu.ins == 0xA4 {
            if apdu.p1 == 0x04 && apdu.p2 == 0x00 && apdu.data == APPLET_AID {
                self.selected = true;
                response.extend_from_slice(&SELECT_RESPONSE);
                response.extend_from_slice(&SW_OK);
            } else {
                self.selected = false;
                status(response, SW_NOT_FOUND);
            }
            return outcome;
        }
        if apdu.cla != CLA {
            status(response, SW_CLA_NOT_SUPPORTED);
            return outcome;
        }
        if !self.selected {
            status(response, SW_INS_NOT_SUPPORTED);
            return outcome;
        }
        let data = apdu.data;
        // The whole INS byte: a command with the transient, authentication-object or
        // attestation flag set is another command, which this simulator does not model.
        let sw = match (apdu.ins, apdu.p1, apdu.p2) {
            (INS_WRITE, P1_EC_KEY_PAIR, P2_DEFAULT) => {
                let result = self.generate(data);
                outcome.store_changed = result.is_ok();
                result
            }
            (INS_WRITE, P1_BINARY, P2_DEFAULT) => {
                let result = self.write_binary(data);
                outcome.store_changed = result.is_ok();
                result
            }
            (INS_READ, P1_DEFAULT, P2_DEFAULT) => self.read_object(data, response),
            (INS_READ, P1_DEFAULT, P2_SIZE) => self.read_size(data, response),
            (INS_READ, P1_DEFAULT, P2_LIST) => self.read_id_list(data, response),
            (INS_CRYPTO, P1_SIGNATURE, P2_SIGN) => self.sign(data, response),
            (INS_CRYPTO, P1_SIGNATURE, P2_VERIFY) => self.verify(data, response),
            (INS_MGMT, P1_DEFAULT, P2_RANDOM) => inventory::random(data, response),
            (INS_MGMT, P1_DEFAULT, P2_VERSION) => inventory::version(data, response),
            (INS_MGMT, P1_DEFAULT, P2_MEMORY) => self.free_memory(data, response),
            (INS_MGMT, P1_DEFAULT, P2_EXIST) => match object_id(data) {
                Some(id) => {
                    result_tlv(response, self.objects.contains_key(&id));
                    Ok(())
                }
                None => Err(SW_WRONG_DATA),
            },
            (INS_MGMT, P1_DEFAULT, P2_DELETE_OBJECT) => {
                let result = self.delete(data, response);
                outcome.store_changed = result.is_ok();
                result
            }
            _ => Err(SW_INS_NOT_SUPPORTED),
        };
        match sw {
            Err(sw) => {
                response.clear();
                status(response, sw);
            }
            Ok(()) if response.is_empty() => response.extend_from_slice(&SW_OK),
            Ok(()) => {}
        }
        outcome
    }

    fn delete(&mut self, data: &[u8], response: &mut Vec<u8>) -> Result<(), u16> {
        let id = object_id(data).ok_or(SW_WRONG_DATA)?;
        self.objects.remove(&id).ok_or(SW_NOT_FOUND)?;
        response.extend_from_slice(&SW_OK);
        Ok(())
    }

    /// ReadObject: the public point of a key pair, or (part of) a binary file.
    fn read_object(&self, data: &[u8], response: &mut Vec<u8>) -> Result<(), u16> {
        let id = object_id(data).ok_or(SW_WRONG_DATA)?;
        let offset = optional_u16(data, TAG_2)?;
        let length = optional_u16(data, TAG_3)?;
        if find_tlv(data, TAG_4).is_ok() {
            // An RSA key component: there are no RSA keys here.
            return Err(SW_WRONG_DATA);
        }
        match self.objects.get(&id).ok_or(SW_NOT_FOUND)? {
            SecureObject::EcKeyPair(key) => {
                if offset.is_some() || length.is_some() {
                    return Err(SW_WRONG_DATA);
                }
                push_tlv(response, TAG_1, key.public_key().as_ref());
            }
            SecureObject::Binary(bytes) => {
                let part = files::slice(bytes, offset, length)?;
                push_tlv(response, TAG_1, part);
            }
        }
        response.extend_from_slice(&SW_OK);
        Ok(())
    }
}
