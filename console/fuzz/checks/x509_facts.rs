//! What must hold for the console's reading of any certificate PEM AWS hands back (a device
//! chose its subject): parsing never panics, the fingerprint is 64 lower-case hex digits, the
//! serial and key identifiers are lower-case hex, and the names the views show come out of
//! `SafeText` without a control, bidirectional or invisible character. Shared by the fuzz target and the corpus replay test
//! (`tests/fuzz_corpus.rs`).
//!
//! Input layout: one flags byte (bit 0: the rest is DER to armour as PEM; otherwise PEM text).

use fleetid::backend::x509::parse_certificate_pem;
use fleetid::safe_text::{SafeText, is_neutralized};

/// Checks one input; panics on a violation.
pub fn check(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let pem = if flags & 1 == 0 {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        armour(rest)
    };
    let Ok(facts) = parse_certificate_pem(&pem) else {
        return;
    };
    assert_eq!(facts.sha256_fingerprint.len(), 64);
    assert!(is_lower_hex(&facts.sha256_fingerprint));
    assert!(is_lower_hex(&facts.serial), "serial {:?}", facts.serial);
    for id in [&facts.authority_key_id, &facts.subject_key_id]
        .into_iter()
        .flatten()
    {
        assert!(is_lower_hex(id), "key id {id:?}");
    }
    for name in [
        Some(&facts.subject),
        Some(&facts.issuer),
        facts.common_name.as_ref(),
    ]
    .into_iter()
    .flatten()
    {
        let shown = SafeText::new(name);
        assert!(
            !shown.as_str().chars().any(is_neutralized),
            "shown name {shown:?} holds a character a terminal could act on"
        );
    }
}

fn is_lower_hex(text: &str) -> bool {
    text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn armour(der: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut body = String::with_capacity(der.len().div_ceil(3) * 4);
    for chunk in der.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                body.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                body.push('=');
            }
        }
    }
    format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n")
}
