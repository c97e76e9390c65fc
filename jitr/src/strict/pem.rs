//! Strict PEM (RFC 7468 §3, the strict grammar): exactly one `CERTIFICATE` block, matching
//! BEGIN and END labels, canonical base64, and nothing but whitespace around it.
//!
//! x509-parser's reader takes the first block it finds and ignores the END label and whatever
//! follows, so two texts that differ in those places would be decided alike; here they are
//! refused.

const BEGIN: &str = "-----BEGIN ";
const END: &str = "-----END ";
const DASHES: &str = "-----";

/// Decodes the single `CERTIFICATE` block of `text` to DER.
pub(crate) fn certificate_der(text: &str) -> Result<Vec<u8>, String> {
    let body = text.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let mut lines = body.lines();
    let first = lines.next().unwrap_or_default().trim_end();
    let Some(label) = first
        .strip_prefix(BEGIN)
        .and_then(|rest| rest.strip_suffix(DASHES))
    else {
        return Err(if first.starts_with(BEGIN) {
            "PEM BEGIN line not closed by dashes".into()
        } else if body.contains(BEGIN) {
            "text before the PEM block".into()
        } else {
            "not PEM: no BEGIN line".into()
        });
    };
    if label != "CERTIFICATE" {
        return Err(format!("PEM block is {label:?}, not CERTIFICATE"));
    }
    let mut base64 = String::new();
    let mut ended = false;
    for line in lines.by_ref() {
        let line = line.trim_end();
        if let Some(rest) = line.strip_prefix(END) {
            let end_label = rest.strip_suffix(DASHES).unwrap_or(rest);
            if end_label != label {
                return Err(format!(
                    "PEM END label {end_label:?} differs from BEGIN {label:?}"
                ));
            }
            if rest.strip_suffix(DASHES).is_none() {
                return Err("PEM END line not closed by dashes".into());
            }
            ended = true;
            break;
        }
        base64.push_str(line.trim_start());
    }
    if !ended {
        return Err("PEM block has no END line".into());
    }
    let trailing: usize = lines.map(|l| l.trim().len()).sum();
    if trailing > 0 {
        return Err(format!("{trailing} characters after the PEM block"));
    }
    decode_base64(&base64)
}

fn sextet(c: u8) -> Option<u32> {
    Some(u32::from(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    }))
}

/// Canonical base64 (RFC 4648 §4): padded to a multiple of 4, padding only at the end, unused
/// bits zero.
fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return Err("PEM block is empty".into());
    }
    if !bytes.len().is_multiple_of(4) {
        return Err("PEM base64 length is not a multiple of 4".into());
    }
    let data_end = bytes.iter().rposition(|&c| c != b'=').map_or(0, |i| i + 1);
    if bytes[..data_end].contains(&b'=') {
        return Err("PEM base64 padding in the middle".into());
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let chunks = bytes.len() / 4;
    for (index, chunk) in bytes.chunks(4).enumerate() {
        let padding = chunk.iter().rev().take_while(|&&c| c == b'=').count();
        if padding > 2 || (padding > 0 && index + 1 != chunks) {
            return Err("PEM base64 padding in the middle".into());
        }
        let mut acc = 0u32;
        for &c in &chunk[..4 - padding] {
            let value = sextet(c).ok_or_else(|| {
                format!(
                    "PEM body holds {:?}, not base64",
                    char::from(c).escape_default().to_string()
                )
            })?;
            acc = (acc << 6) | value;
        }
        acc <<= 6 * padding;
        let [_, b0, b1, b2] = acc.to_be_bytes();
        match padding {
            0 => out.extend([b0, b1, b2]),
            1 if b2 == 0 => out.extend([b0, b1]),
            2 if b1 == 0 && b2 == 0 => out.push(b0),
            _ => return Err("PEM base64 is not canonical (unused bits set)".into()),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCK: &str = "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n";

    #[test]
    fn one_block_with_whitespace_around_is_read() {
        assert_eq!(
            certificate_der(BLOCK).unwrap(),
            [0x30, 0x03, 0x02, 0x01, 0x01]
        );
        let crlf = format!("\r\n  {}\r\n\r\n", BLOCK.replace('\n', "\r\n"));
        assert_eq!(
            certificate_der(&crlf).unwrap(),
            [0x30, 0x03, 0x02, 0x01, 0x01]
        );
    }

    #[test]
    fn anything_else_is_refused() {
        let cases = [
            ("", "no BEGIN"),
            ("hello", "no BEGIN"),
            (&format!("intro\n{BLOCK}"), "before"),
            (&format!("{BLOCK}junk"), "after"),
            (&format!("{BLOCK}{BLOCK}"), "after"),
            (&BLOCK.replace("END CERTIFICATE", "END X509 CRL"), "differs"),
            (&BLOCK.replace("-----\n", "\n"), "not closed"),
            (&BLOCK.replace("MAMCAQE=", "MAMCAQF="), "canonical"),
            (&BLOCK.replace("MAMCAQE=", "MAMC=AQE"), "padding"),
            (&BLOCK.replace("MAMCAQE=", "MAMCAQE"), "multiple of 4"),
            (&BLOCK.replace("MAMCAQE=", "MA*CAQE="), "not base64"),
            (&BLOCK.replace("MAMCAQE=\n", ""), "empty"),
            (
                &BLOCK.replace("\n-----END CERTIFICATE-----\n", ""),
                "no END",
            ),
            (&BLOCK.replace("CERTIFICATE", "PRIVATE KEY"), "PRIVATE KEY"),
        ];
        for (text, expected) in cases {
            let error = certificate_der(text).unwrap_err();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }
}
