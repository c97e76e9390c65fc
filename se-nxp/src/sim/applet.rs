//! The simulated SE05x IoT applet: command APDU parsing, an object store of P-256 key pairs
//! whose private halves never leave it, and the answers (data and status words) of the chip.

use std::collections::BTreeMap;

use aws_lc_rs::digest::{Digest, SHA256};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};

use crate::apdu::{find_tlv, push_tlv};
use crate::se05x::APPLET_AID;
use crate::se05x::consts::*;

/// Version answered to SELECT: applet 3.1.1, configuration 0x6FFF, secure box 1.11.
pub(crate) const SELECT_RESPONSE: [u8; 7] = [0x03, 0x01, 0x01, 0x6F, 0xFF, 0x01, 0x0B];

const SW_OK: [u8; 2] = [0x90, 0x00];
const SW_WRONG_LENGTH: u16 = 0x6700;
const SW_CONDITIONS: u16 = 0x6985;
const SW_WRONG_DATA: u16 = 0x6A80;
const SW_NOT_FOUND: u16 = 0x6A82;
const SW_WRONG_P1P2: u16 = 0x6A86;
const SW_INS_NOT_SUPPORTED: u16 = 0x6D00;
const SW_CLA_NOT_SUPPORTED: u16 = 0x6E00;
const SW_NO_DIAGNOSIS: u16 = 0x6F00;

/// A secure object.
pub(crate) struct KeyObject {
    pub(crate) key: EcdsaKeyPair,
}

impl KeyObject {
    pub(crate) fn public_point(&self) -> &[u8] {
        self.key.public_key().as_ref()
    }
}

/// Result of one command: did the object store change (so it must be persisted)?
pub(crate) struct Outcome {
    pub(crate) store_changed: bool,
}

/// Applet state.
pub(crate) struct Applet {
    pub(crate) objects: BTreeMap<u32, KeyObject>,
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

fn result_tlv(response: &mut Vec<u8>, ok: bool) {
    push_tlv(
        response,
        TAG_1,
        &[if ok { RESULT_SUCCESS } else { RESULT_FAILURE }],
    );
    response.extend_from_slice(&SW_OK);
}

impl Applet {
    pub(crate) fn new(objects: BTreeMap<u32, KeyObject>) -> Self {
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
        let sw = match (apdu.ins & 0x1F, apdu.p1, apdu.p2) {
            (INS_WRITE, P1_EC_KEY_PAIR, P2_DEFAULT) => {
                let result = self.generate(apdu.data);
                outcome.store_changed = result.is_ok();
                result
            }
            (INS_READ, P1_DEFAULT, P2_DEFAULT) => self.read(apdu.data, response),
            (INS_CRYPTO, P1_SIGNATURE, P2_SIGN) => self.sign(apdu.data, response),
            (INS_CRYPTO, P1_SIGNATURE, P2_VERIFY) => self.verify(apdu.data, response),
            (INS_MGMT, P1_DEFAULT, P2_RANDOM) => random(apdu.data, response),
            (INS_MGMT, P1_DEFAULT, P2_EXIST) => match object_id(apdu.data) {
                Some(id) => {
                    result_tlv(response, self.objects.contains_key(&id));
                    Ok(())
                }
                None => Err(SW_WRONG_DATA),
            },
            (INS_MGMT, P1_DEFAULT, P2_DELETE_OBJECT) => {
                let result = self.delete(apdu.data, response);
                outcome.store_changed = result.is_ok();
                result
            }
            (INS_WRITE | INS_READ | INS_CRYPTO | INS_MGMT, _, _) => Err(SW_WRONG_P1P2),
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

    fn generate(&mut self, data: &[u8]) -> Result<(), u16> {
        let id = object_id(data).ok_or(SW_WRONG_DATA)?;
        if find_tlv(data, TAG_2) != Ok(&[CURVE_NIST_P256][..]) {
            return Err(SW_WRONG_DATA);
        }
        if find_tlv(data, TAG_3).is_ok() || find_tlv(data, TAG_4).is_ok() {
            // Key import is not simulated; generation only.
            return Err(SW_CONDITIONS);
        }
        let key =
            EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).map_err(|_| SW_NO_DIAGNOSIS)?;
        self.objects.insert(id, KeyObject { key });
        Ok(())
    }

    fn delete(&mut self, data: &[u8], response: &mut Vec<u8>) -> Result<(), u16> {
        let id = object_id(data).ok_or(SW_WRONG_DATA)?;
        self.objects.remove(&id).ok_or(SW_NOT_FOUND)?;
        response.extend_from_slice(&SW_OK);
        Ok(())
    }

    fn read(&self, data: &[u8], response: &mut Vec<u8>) -> Result<(), u16> {
        let id = object_id(data).ok_or(SW_WRONG_DATA)?;
        let object = self.objects.get(&id).ok_or(SW_NOT_FOUND)?;
        push_tlv(response, TAG_1, object.public_point());
        response.extend_from_slice(&SW_OK);
        Ok(())
    }

    fn digest_and_key(&self, data: &[u8]) -> Result<(&KeyObject, Digest), u16> {
        let id = object_id(data).ok_or(SW_WRONG_DATA)?;
        if find_tlv(data, TAG_2) != Ok(&[SIG_ECDSA_SHA_256][..]) {
            return Err(SW_WRONG_DATA);
        }
        let digest = find_tlv(data, TAG_3).map_err(|_| SW_WRONG_DATA)?;
        let digest = Digest::import_less_safe(digest, &SHA256).map_err(|_| SW_WRONG_DATA)?;
        let object = self.objects.get(&id).ok_or(SW_NOT_FOUND)?;
        Ok((object, digest))
    }

    fn sign(&self, data: &[u8], response: &mut Vec<u8>) -> Result<(), u16> {
        let (object, digest) = self.digest_and_key(data)?;
        let signature = object
            .key
            .sign_digest(&digest)
            .map_err(|_| SW_NO_DIAGNOSIS)?;
        push_tlv(response, TAG_1, signature.as_ref());
        response.extend_from_slice(&SW_OK);
        Ok(())
    }

    fn verify(&self, data: &[u8], response: &mut Vec<u8>) -> Result<(), u16> {
        let (object, digest) = self.digest_and_key(data)?;
        let signature = find_tlv(data, TAG_5).map_err(|_| SW_WRONG_DATA)?;
        let public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, object.public_point());
        result_tlv(response, public.verify_digest(&digest, signature).is_ok());
        Ok(())
    }
}

fn random(data: &[u8], response: &mut Vec<u8>) -> Result<(), u16> {
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
