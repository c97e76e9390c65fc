//! MQTT 3.1.1 packets, just what a broker reads from clients and writes back to them.

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Largest packet the gateway accepts (AWS IoT: 128 KB payload, plus headers).
pub const MAX_PACKET: usize = 132 * 1024;

/// Why a byte stream is not valid MQTT 3.1.1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MqttError {
    /// The remaining-length field is malformed.
    #[error("malformed remaining length")]
    Length,
    /// Larger than [`MAX_PACKET`].
    #[error("packet of {0} bytes is larger than the {MAX_PACKET}-byte limit")]
    TooLarge(usize),
    /// A packet type a client may not send, or a malformed packet.
    #[error("malformed or unexpected {0} packet")]
    Malformed(&'static str),
}

/// A packet from a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// CONNECT.
    Connect {
        /// Protocol level (4 = 3.1.1).
        level: u8,
        /// Client id.
        client_id: String,
        /// Keep-alive, seconds.
        keep_alive: u16,
        /// Clean-session flag.
        clean_session: bool,
    },
    /// PUBLISH.
    Publish(Publish),
    /// PUBACK.
    PubAck(u16),
    /// SUBSCRIBE: packet id and (filter, QoS) pairs.
    Subscribe(u16, Vec<(String, u8)>),
    /// UNSUBSCRIBE.
    Unsubscribe(u16, Vec<String>),
    /// PINGREQ.
    PingReq,
    /// DISCONNECT.
    Disconnect,
}

/// A PUBLISH in either direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    /// Topic.
    pub topic: String,
    /// Payload.
    pub payload: Bytes,
    /// QoS 0 or 1.
    pub qos: u8,
    /// Packet id (QoS 1).
    pub pkid: u16,
    /// Retain flag.
    pub retain: bool,
}

/// Reads one packet from the front of `buf`; `Ok(None)` when more bytes are needed.
///
/// # Errors
/// Malformed or oversized packets.
pub fn decode(buf: &mut BytesMut) -> Result<Option<Incoming>, MqttError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let mut length = 0usize;
    let mut header_len = 1;
    loop {
        let Some(&byte) = buf.get(header_len) else {
            return Ok(None);
        };
        length |= usize::from(byte & 0x7f) << (7 * (header_len - 1));
        header_len += 1;
        if byte & 0x80 == 0 {
            break;
        }
        if header_len > 4 {
            return Err(MqttError::Length);
        }
    }
    if length > MAX_PACKET {
        return Err(MqttError::TooLarge(length));
    }
    if buf.len() < header_len + length {
        return Ok(None);
    }
    buf.advance(header_len);
    let mut body = buf.split_to(length).freeze();
    let flags = first & 0x0f;
    let packet = match first >> 4 {
        1 => read_connect(&mut body)?,
        3 => {
            let qos = (flags >> 1) & 0x03;
            let topic = string(&mut body).ok_or(MqttError::Malformed("PUBLISH"))?;
            let pkid = if qos > 0 {
                u16_of(&mut body).ok_or(MqttError::Malformed("PUBLISH"))?
            } else {
                0
            };
            if qos > 2 {
                return Err(MqttError::Malformed("PUBLISH"));
            }
            Incoming::Publish(Publish {
                topic,
                payload: body,
                qos,
                pkid,
                retain: flags & 1 == 1,
            })
        }
        4 => Incoming::PubAck(u16_of(&mut body).ok_or(MqttError::Malformed("PUBACK"))?),
        8 => {
            let pkid = u16_of(&mut body).ok_or(MqttError::Malformed("SUBSCRIBE"))?;
            let mut filters = Vec::new();
            while body.has_remaining() {
                let filter = string(&mut body).ok_or(MqttError::Malformed("SUBSCRIBE"))?;
                if !body.has_remaining() {
                    return Err(MqttError::Malformed("SUBSCRIBE"));
                }
                filters.push((filter, body.get_u8() & 0x03));
            }
            if filters.is_empty() {
                return Err(MqttError::Malformed("SUBSCRIBE"));
            }
            Incoming::Subscribe(pkid, filters)
        }
        10 => {
            let pkid = u16_of(&mut body).ok_or(MqttError::Malformed("UNSUBSCRIBE"))?;
            let mut filters = Vec::new();
            while body.has_remaining() {
                filters.push(string(&mut body).ok_or(MqttError::Malformed("UNSUBSCRIBE"))?);
            }
            Incoming::Unsubscribe(pkid, filters)
        }
        12 => Incoming::PingReq,
        14 => Incoming::Disconnect,
        _ => return Err(MqttError::Malformed("client")),
    };
    Ok(Some(packet))
}

fn read_connect(body: &mut Bytes) -> Result<Incoming, MqttError> {
    let bad = MqttError::Malformed("CONNECT");
    let name = string(body).ok_or(bad.clone())?;
    if name != "MQTT" && name != "MQIsdp" {
        return Err(bad);
    }
    if body.remaining() < 4 {
        return Err(bad);
    }
    let level = body.get_u8();
    let flags = body.get_u8();
    let keep_alive = body.get_u16();
    let client_id = string(body).ok_or(bad.clone())?;
    if flags & 0x04 != 0 {
        string(body).ok_or(bad.clone())?; // will topic
        bytes_field(body).ok_or(bad.clone())?; // will message
    }
    if flags & 0x80 != 0 {
        string(body).ok_or(bad.clone())?; // user name
    }
    if flags & 0x40 != 0 {
        bytes_field(body).ok_or(bad)?; // password
    }
    Ok(Incoming::Connect {
        level,
        client_id,
        keep_alive,
        clean_session: flags & 0x02 != 0,
    })
}

fn u16_of(body: &mut Bytes) -> Option<u16> {
    (body.remaining() >= 2).then(|| body.get_u16())
}

fn bytes_field(body: &mut Bytes) -> Option<Bytes> {
    let len = usize::from(u16_of(body)?);
    (body.remaining() >= len).then(|| body.split_to(len))
}

fn string(body: &mut Bytes) -> Option<String> {
    String::from_utf8(bytes_field(body)?.to_vec()).ok()
}

fn header(out: &mut BytesMut, first: u8, length: usize) {
    out.put_u8(first);
    let mut rest = length;
    loop {
        let mut byte = u8::try_from(rest % 128).unwrap_or(0);
        rest /= 128;
        if rest > 0 {
            byte |= 0x80;
        }
        out.put_u8(byte);
        if rest == 0 {
            break;
        }
    }
}

/// CONNECT (clean session, no will, no credentials), as the lab's simulated devices send it.
pub fn connect(out: &mut BytesMut, client_id: &str, keep_alive: u16) {
    let id = client_id.as_bytes();
    header(out, 0x10, 10 + 2 + id.len());
    out.put_slice(&[0, 4, b'M', b'Q', b'T', b'T', 4, 0x02]);
    out.put_u16(keep_alive);
    out.put_u16(u16::try_from(id.len()).unwrap_or(u16::MAX));
    out.put_slice(id);
}

/// DISCONNECT.
pub fn disconnect(out: &mut BytesMut) {
    out.put_slice(&[0xe0, 0x00]);
}

/// CONNACK with a return code (0 accepted, 1 bad protocol, 2 bad client id, 5 not authorized).
pub fn connack(out: &mut BytesMut, code: u8) {
    out.put_slice(&[0x20, 0x02, 0x00, code]);
}

/// PUBLISH.
pub fn publish(out: &mut BytesMut, p: &Publish) {
    let topic = p.topic.as_bytes();
    let length = 2 + topic.len() + if p.qos > 0 { 2 } else { 0 } + p.payload.len();
    header(out, 0x30 | (p.qos << 1) | u8::from(p.retain), length);
    out.put_u16(u16::try_from(topic.len()).unwrap_or(u16::MAX));
    out.put_slice(topic);
    if p.qos > 0 {
        out.put_u16(p.pkid);
    }
    out.put_slice(&p.payload);
}

/// PUBACK.
pub fn puback(out: &mut BytesMut, pkid: u16) {
    out.put_slice(&[0x40, 0x02]);
    out.put_u16(pkid);
}

/// SUBACK with one return code per filter (0/1 granted QoS, 0x80 failure).
pub fn suback(out: &mut BytesMut, pkid: u16, codes: &[u8]) {
    header(out, 0x90, 2 + codes.len());
    out.put_u16(pkid);
    out.put_slice(codes);
}

/// UNSUBACK.
pub fn unsuback(out: &mut BytesMut, pkid: u16) {
    out.put_slice(&[0xb0, 0x02]);
    out.put_u16(pkid);
}

/// PINGRESP.
pub fn pingresp(out: &mut BytesMut) {
    out.put_slice(&[0xd0, 0x00]);
}

/// Whether a topic filter (with `+` and `#`) matches a topic name.
#[must_use]
pub fn filter_matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') != filter.starts_with('$') {
        return false;
    }
    let mut levels = topic.split('/');
    for part in filter.split('/') {
        match (part, levels.next()) {
            ("#", _) => return true,
            ("+", Some(_)) => {}
            (p, Some(l)) if p == l => {}
            _ => return false,
        }
    }
    levels.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_round_trips_and_waits_for_whole_packets() {
        let p = Publish {
            topic: "a/b".into(),
            payload: Bytes::from(vec![7u8; 300]),
            qos: 1,
            pkid: 9,
            retain: false,
        };
        let mut out = BytesMut::new();
        publish(&mut out, &p);
        let mut partial = BytesMut::from(&out[..10]);
        assert_eq!(decode(&mut partial), Ok(None));
        assert_eq!(decode(&mut out), Ok(Some(Incoming::Publish(p))));
        assert!(out.is_empty());
    }

    #[test]
    fn connect_with_username_and_password_is_read() {
        // CONNECT, MQTT level 4, flags user+password+clean, keepalive 30, "dev-1", "u", "p".
        let mut body = vec![0, 4, b'M', b'Q', b'T', b'T', 4, 0xc2, 0, 30, 0, 5];
        body.extend_from_slice(b"dev-1");
        body.extend_from_slice(&[0, 1, b'u', 0, 1, b'p']);
        let mut buf = BytesMut::new();
        header(&mut buf, 0x10, body.len());
        buf.extend_from_slice(&body);
        assert_eq!(
            decode(&mut buf),
            Ok(Some(Incoming::Connect {
                level: 4,
                client_id: "dev-1".into(),
                keep_alive: 30,
                clean_session: true
            }))
        );
    }

    #[test]
    fn our_connect_is_read_back() {
        let mut buf = BytesMut::new();
        connect(&mut buf, "dev-00001", 60);
        assert_eq!(
            decode(&mut buf),
            Ok(Some(Incoming::Connect {
                level: 4,
                client_id: "dev-00001".into(),
                keep_alive: 60,
                clean_session: true
            }))
        );
    }

    #[test]
    fn oversized_and_unknown_packets_are_errors() {
        let mut big = BytesMut::from(&[0x30u8, 0xff, 0xff, 0xff, 0x7f][..]);
        assert!(matches!(decode(&mut big), Err(MqttError::TooLarge(_))));
        let mut connack_from_client = BytesMut::from(&[0x20u8, 0x02, 0, 0][..]);
        assert!(decode(&mut connack_from_client).is_err());
    }

    #[test]
    fn filters_match_like_mqtt() {
        assert!(filter_matches(
            "fleetid/v1/+/status",
            "fleetid/v1/dev-1/status"
        ));
        assert!(!filter_matches(
            "fleetid/v1/+/status",
            "fleetid/v1/dev-1/x/status"
        ));
        assert!(filter_matches(
            "$aws/events/presence/+/+",
            "$aws/events/presence/connected/dev-1"
        ));
        assert!(filter_matches("a/#", "a/b/c"));
        assert!(!filter_matches("#", "$aws/events/x"));
        assert!(!filter_matches("a/b", "a/b/c"));
    }
}
