//! Key-pair commands of the simulated applet: generate a P-256 key pair, sign a digest the
//! host computed, verify a signature.

use aws_lc_rs::digest::{Digest, SHA256};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};

use super::{
    Applet, SW_CONDITIONS, SW_NO_DIAGNOSIS, SW_NOT_ALLOWED, SW_NOT_FOUND, SW_OK, SW_WRONG_DATA,
    SecureObject, object_id, result_tlv,
};
use crate::apdu::{find_tlv, push_tlv};
use crate::se05x::consts::*;

impl Applet {
    pub(super) fn generate(&mut self, data: &[u8]) -> Result<(), u16> {
        let id = object_id(data).ok_or(SW_WRONG_DATA)?;
        if find_tlv(data, TAG_2) != Ok(&[CURVE_NIST_P256][..]) {
            return Err(SW_WRONG_DATA);
        }
        if find_tlv(data, TAG_3).is_ok() || find_tlv(data, TAG_4).is_ok() {
            // Key import is not simulated; generation only.
            return Err(SW_CONDITIONS);
        }
        if matches!(self.objects.get(&id), Some(SecureObject::Binary(_))) {
            return Err(SW_NOT_ALLOWED);
        }
        let key =
            EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).map_err(|_| SW_NO_DIAGNOSIS)?;
        self.objects.insert(id, SecureObject::EcKeyPair(key));
        Ok(())
    }

    fn digest_and_key(&self, data: &[u8]) -> Result<(&EcdsaKeyPair, Digest), u16> {
        let id = object_id(data).ok_or(SW_WRONG_DATA)?;
        if find_tlv(data, TAG_2) != Ok(&[SIG_ECDSA_SHA_256][..]) {
            return Err(SW_WRONG_DATA);
        }
        let digest = find_tlv(data, TAG_3).map_err(|_| SW_WRONG_DATA)?;
        let digest = Digest::import_less_safe(digest, &SHA256).map_err(|_| SW_WRONG_DATA)?;
        match self.objects.get(&id).ok_or(SW_NOT_FOUND)? {
            SecureObject::EcKeyPair(key) => Ok((key, digest)),
            SecureObject::Binary(_) => Err(SW_NOT_ALLOWED),
        }
    }

    pub(super) fn sign(&self, data: &[u8], response: &mut Vec<u8>) -> Result<(), u16> {
        let (key, digest) = self.digest_and_key(data)?;
        let signature = key.sign_digest(&digest).map_err(|_| SW_NO_DIAGNOSIS)?;
        push_tlv(response, TAG_1, signature.as_ref());
        response.extend_from_slice(&SW_OK);
        Ok(())
    }

    pub(super) fn verify(&self, data: &[u8], response: &mut Vec<u8>) -> Result<(), u16> {
        let (key, digest) = self.digest_and_key(data)?;
        let signature = find_tlv(data, TAG_5).map_err(|_| SW_WRONG_DATA)?;
        let public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, key.public_key().as_ref());
        result_tlv(response, public.verify_digest(&digest, signature).is_ok());
        Ok(())
    }
}
