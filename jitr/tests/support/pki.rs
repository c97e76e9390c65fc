//! Test PKI made with rcgen: CAs, device certificates with chosen keys, names and validity,
//! and a certificate with a damaged signature.

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, IsCa, Issuer,
    KeyPair, KeyUsagePurpose, PublicKeyData, SerialNumber, SignatureAlgorithm,
};
use time::{Duration, OffsetDateTime};

/// A CA: its parameters, key and PEM.
pub struct TestCa {
    pub params: CertificateParams,
    pub key: KeyPair,
    pub pem: String,
}

impl TestCa {
    /// A self-signed EC CA with subject CN `name`.
    pub fn new(name: &str, alg: &'static SignatureAlgorithm) -> Self {
        let key = KeyPair::generate_for(alg).expect("CA key");
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "fleetid test");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = OffsetDateTime::now_utc() - Duration::days(30);
        params.not_after = OffsetDateTime::now_utc() + Duration::days(3650);
        let pem = params.self_signed(&key).expect("CA certificate").pem();
        Self { params, key, pem }
    }

    /// A P-256 CA.
    pub fn p256(name: &str) -> Self {
        Self::new(name, &rcgen::PKCS_ECDSA_P256_SHA256)
    }

    /// Issues a device certificate for `spec`, returning its PEM.
    pub fn issue(&self, spec: &DeviceSpec) -> String {
        let issuer = Issuer::from_params(&self.params, &self.key);
        let mut params = CertificateParams::default();
        // The default holds a CN ("rcgen self signed cert"); start from an empty name.
        params.distinguished_name = DistinguishedName::new();
        if let Some(cn) = &spec.common_name {
            params
                .distinguished_name
                .push(DnType::CommonName, cn.as_str());
        }
        params
            .distinguished_name
            .push(DnType::OrganizationName, "fleetid devices");
        params.not_before = spec.not_before;
        params.not_after = spec.not_after;
        params.serial_number = spec.serial.as_deref().map(SerialNumber::from_slice);
        params.use_authority_key_identifier_extension = spec.with_aki;
        params.custom_extensions = spec.custom_extensions.clone();
        if spec.is_ca {
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        }
        let cert = match &spec.key {
            DeviceKey::Generated(alg) => {
                let key = generate(alg);
                params.signed_by(&key, &issuer)
            }
            DeviceKey::Rsa1024PublicOnly => params.signed_by(&Rsa1024Public::new(), &issuer),
        };
        cert.expect("device certificate").pem()
    }
}

fn generate(alg: &'static SignatureAlgorithm) -> KeyPair {
    if *alg == rcgen::PKCS_RSA_SHA256 {
        KeyPair::generate_rsa_for(alg, rcgen::RsaKeySize::_2048).expect("RSA key")
    } else {
        KeyPair::generate_for(alg).expect("device key")
    }
}

/// Which key a device certificate carries.
pub enum DeviceKey {
    /// A fresh key pair of this algorithm.
    Generated(&'static SignatureAlgorithm),
    /// A 1024-bit RSA public key (aws-lc-rs will not generate one; only the public half is
    /// needed for the certificate).
    Rsa1024PublicOnly,
}

/// A device certificate to issue.
pub struct DeviceSpec {
    pub common_name: Option<String>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub serial: Option<Vec<u8>>,
    pub key: DeviceKey,
    pub with_aki: bool,
    /// Extensions added as given (rcgen writes their bytes unchecked).
    pub custom_extensions: Vec<CustomExtension>,
    /// basicConstraints cA = TRUE.
    pub is_ca: bool,
}

impl DeviceSpec {
    /// A P-256 device valid from a day before `now` for a year, CN = `device_id`.
    pub fn new(device_id: &str, now: OffsetDateTime) -> Self {
        Self {
            common_name: Some(device_id.to_owned()),
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(365),
            serial: None,
            key: DeviceKey::Generated(&rcgen::PKCS_ECDSA_P256_SHA256),
            with_aki: false,
            custom_extensions: Vec::new(),
            is_ca: false,
        }
    }
}

/// A PKCS#1 RSAPublicKey with a 1024-bit modulus.
struct Rsa1024Public {
    der: Vec<u8>,
}

impl Rsa1024Public {
    fn new() -> Self {
        let mut der = vec![0x30, 0x81, 0x89, 0x02, 0x81, 0x81, 0x00];
        der.extend([0xc5; 127]);
        der.push(0x01);
        der.extend([0x02, 0x03, 0x01, 0x00, 0x01]);
        Self { der }
    }
}

impl PublicKeyData for Rsa1024Public {
    fn der_bytes(&self) -> &[u8] {
        &self.der
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_RSA_SHA256
    }
}

/// The same certificate with the last byte of its signature changed.
pub fn damage_signature(pem: &str) -> String {
    let mut der = pem_body(pem);
    let last = der.len() - 1;
    der[last] ^= 0x01;
    to_pem(&der)
}

/// Decodes the base64 body of a single PEM block.
pub fn pem_body(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let bytes: Vec<u8> = b64.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c) << (18 - 6 * i);
        }
        let n = chunk.len() * 6 / 8;
        out.extend(&acc.to_be_bytes()[1..=n]);
    }
    out
}

/// Encodes DER as a CERTIFICATE PEM block.
pub fn to_pem(der: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for chunk in der.chunks(3) {
        let mut acc = 0u32;
        for (i, &b) in chunk.iter().enumerate() {
            acc |= u32::from(b) << (16 - 8 * i);
        }
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(ALPHABET[((acc >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                b64.push('=');
            }
        }
    }
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("ascii"));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}
