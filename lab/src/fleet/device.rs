//! One simulated device: TLS with its certificate, MQTT CONNECT with its thing name as client
//! id, status messages in the agent's wire format, and retries with full-jitter backoff when
//! the gateway drops it (JITR's first connection, a revoked certificate). Until the real
//! fleetid-agent driver runs here, this is the lab's device.

use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use fleetid_agent::wire::{AgentState, StatusMessage, status_topic};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, watch};
use tokio_rustls::TlsConnector;

use super::FleetCounters;
use super::scenario::{DeviceSpec, Role};
use crate::gateway::mqtt::{self, Publish};

/// How a device reaches the gateway.
#[derive(Clone)]
pub(super) struct Link {
    pub addr: std::net::SocketAddr,
    pub connector: TlsConnector,
    /// Limits concurrent handshakes while the fleet boots.
    pub handshakes: Arc<Semaphore>,
    pub status_interval: Duration,
    pub stop: watch::Receiver<bool>,
    pub counters: Arc<FleetCounters>,
}

/// Why a connection ended.
enum Ended {
    /// The gateway closed it before or after CONNACK.
    Dropped { was_connected: bool },
    /// The device decided to reconnect (flapping).
    Flap,
    /// The lab is stopping.
    Stop,
}

/// Runs the device until the lab stops.
pub(super) async fn run(spec: DeviceSpec, mut link: Link, seed: u64) {
    let mut rng = seed | 1;
    let mut attempt: u32 = 0;
    let mut connects: u64 = 0;
    loop {
        if *link.stop.borrow() {
            return;
        }
        let ended = session(&spec, &link, &mut connects).await;
        match ended {
            Ended::Stop => return,
            Ended::Flap
            | Ended::Dropped {
                was_connected: true,
            } => attempt = 0,
            Ended::Dropped {
                was_connected: false,
            } => attempt = attempt.saturating_add(1),
        }
        // Full jitter: uniform in [0, min(cap, base * 2^attempt)]; revoked devices slow down.
        let cap_ms: u64 = if attempt > 6 { 60_000 } else { 5_000 };
        let ceiling = (250u64 << attempt.min(8)).min(cap_ms);
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let wait = Duration::from_millis(200 + rng % ceiling);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = link.stop.changed() => return,
        }
    }
}

async fn session(spec: &DeviceSpec, link: &Link, connects: &mut u64) -> Ended {
    let mut stop = link.stop.clone();
    let permit = tokio::select! {
        p = link.handshakes.clone().acquire_owned() => p,
        _ = stop.changed() => return Ended::Stop,
    };
    let Ok(_permit) = permit else {
        return Ended::Stop;
    };
    let Ok(Ok(tcp)) =
        tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(link.addr)).await
    else {
        return Ended::Dropped {
            was_connected: false,
        };
    };
    let _ = tcp.set_nodelay(true);
    let server = ServerName::IpAddress(link.addr.ip().into());
    let Ok(Ok(mut tls)) =
        tokio::time::timeout(Duration::from_secs(10), link.connector.connect(server, tcp)).await
    else {
        return Ended::Dropped {
            was_connected: false,
        };
    };
    let mut out = BytesMut::with_capacity(512);
    mqtt::connect(&mut out, &spec.name, 60);
    if tls.write_all(&out).await.is_err() {
        return Ended::Dropped {
            was_connected: false,
        };
    }
    let mut ack = [0u8; 4];
    let read = tokio::time::timeout(Duration::from_secs(10), tls.read_exact(&mut ack)).await;
    if !matches!(read, Ok(Ok(_))) || ack != [0x20, 0x02, 0x00, 0x00] {
        return Ended::Dropped {
            was_connected: false,
        };
    }
    drop(_permit);
    *connects += 1;
    link.counters
        .connected
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let ended = connected(spec, link, &mut tls, *connects, &mut stop).await;
    link.counters
        .connected
        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    if matches!(ended, Ended::Flap | Ended::Stop) {
        out.clear();
        mqtt::disconnect(&mut out);
        let _ = tls.write_all(&out).await;
    }
    ended
}

async fn connected<S: AsyncReadExt + AsyncWriteExt + Unpin>(
    spec: &DeviceSpec,
    link: &Link,
    tls: &mut S,
    connects: u64,
    stop: &mut watch::Receiver<bool>,
) -> Ended {
    let mut sequence: u64 = 0;
    let mut ticker = tokio::time::interval(link.status_interval);
    let flap_after = tokio::time::sleep(Duration::from_secs(if spec.role == Role::Flapping {
        2
    } else {
        u64::MAX / 4
    }));
    tokio::pin!(flap_after);
    let mut scratch = [0u8; 1024];
    let mut out = BytesMut::with_capacity(1024);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                sequence += 1;
                out.clear();
                let mut status = StatusMessage::new(spec.name.clone(), sequence, spec.firmware);
                status.state = AgentState::Active;
                status.connects = connects;
                status.disconnects = connects.saturating_sub(1);
                status.time = time::OffsetDateTime::now_utc().unix_timestamp();
                mqtt::publish(&mut out, &Publish {
                    topic: status_topic(&spec.name),
                    payload: Bytes::from(status.to_json()),
                    qos: 0,
                    pkid: 0,
                    retain: false,
                });
                if spec.role == Role::Debug {
                    mqtt::publish(&mut out, &Publish {
                        topic: format!("fleetid/v1/{}/debug", spec.name),
                        payload: Bytes::from_static(br#"{"heap_free":18220,"uart":"verbose"}"#),
                        qos: 0,
                        pkid: 0,
                        retain: false,
                    });
                }
                if tls.write_all(&out).await.is_err() {
                    return Ended::Dropped { was_connected: true };
                }
                link.counters.published.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            read = tls.read(&mut scratch) => {
                // The devices subscribe to nothing; anything else from the gateway is ignored.
                if !matches!(read, Ok(n) if n > 0) {
                    return Ended::Dropped { was_connected: true };
                }
            }
            () = &mut flap_after => return Ended::Flap,
            _ = stop.changed() => return Ended::Stop,
        }
    }
}
