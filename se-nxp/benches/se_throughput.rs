//! Throughput of the driver over the simulator (signatures per second) and of the frame codec.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use se_nxp::ObjectId;
use se_nxp::frame::{self, NAD_HOST_TO_SE, Pcb};
use se_nxp::sim::{SimulatedSe, simulated_se05x};

fn signatures(c: &mut Criterion) {
    let mut se = simulated_se05x(SimulatedSe::new()).expect("simulator answers");
    let key = ObjectId(0x7000_0001);
    se.generate_p256(key).expect("key generated");
    let digest = [0x5A; 32];
    let mut group = c.benchmark_group("simulator");
    group.throughput(Throughput::Elements(1));
    group.bench_function("sign_sha256_digest", |b| {
        b.iter(|| {
            se.sign_sha256_digest(key, black_box(&digest))
                .expect("signed")
        });
    });
    group.finish();
}

fn frames(c: &mut Criterion) {
    let inf = [0xA5u8; 254];
    let mut encoded = Vec::with_capacity(frame::MAX_FRAME_LEN);
    let mut group = c.benchmark_group("frame");
    group.throughput(Throughput::Bytes(frame::MAX_FRAME_LEN as u64));
    group.bench_function("encode_254", |b| {
        b.iter(|| {
            encoded.clear();
            frame::encode_into(
                NAD_HOST_TO_SE,
                Pcb::I {
                    ns: true,
                    more: true,
                },
                black_box(&inf),
                &mut encoded,
            )
            .expect("fits");
        });
    });
    let full = frame::encode(
        NAD_HOST_TO_SE,
        Pcb::I {
            ns: true,
            more: true,
        },
        &inf,
    )
    .expect("fits");
    group.bench_function("decode_254", |b| {
        b.iter(|| frame::decode(black_box(&full)).expect("valid").inf.len());
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = signatures, frames
}
criterion_main!(benches);
