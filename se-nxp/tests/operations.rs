//! Driver and simulator together: key life cycle, signatures checked with an independent
//! verifier against the public key read back, status words as typed errors, every fault kind,
//! persistence across a restart, and the per-instance state size.

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1, UnparsedPublicKey};
use se_nxp::sim::{Fault, SimulatedSe, simulated_se05x};
use se_nxp::{ObjectId, Se05xError, SecureElement, StatusError, share, with_shared};

const KEY: ObjectId = ObjectId(0x7000_0001);

fn sha256(message: &[u8]) -> [u8; 32] {
    digest(&SHA256, message)
        .as_ref()
        .try_into()
        .expect("32 bytes")
}

fn status_of<T: std::fmt::Debug>(result: Result<T, Se05xError>) -> StatusError {
    match result {
        Err(Se05xError::Status { source, .. }) => source,
        other => panic!("expected a status error, got {other:?}"),
    }
}

#[test]
fn key_life_cycle_and_signatures_verify_with_the_public_key_read_back() {
    let mut se = simulated_se05x(SimulatedSe::new()).expect("ready");
    assert!(!se.exists(KEY).expect("exists"));
    se.generate_p256(KEY).expect("generate");
    assert!(se.exists(KEY).expect("exists"));
    let public = se.read_public_key(KEY).expect("public key");
    assert_eq!(public[0], 0x04);

    let message = b"fleetid device identity";
    let digest = sha256(message);
    let signature = se.sign_sha256_digest(KEY, &digest).expect("sign");
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &public)
        .verify(message, &signature)
        .expect("signature verifies with an independent verifier");
    assert!(se.verify(KEY, &digest, &signature).expect("verify in SE"));
    assert!(
        !se.verify(KEY, &sha256(b"other"), &signature)
            .expect("verify in SE")
    );

    se.delete(KEY).expect("delete");
    assert!(!se.exists(KEY).expect("exists"));
    assert_eq!(status_of(se.delete(KEY)), StatusError::NotFound);
    assert_eq!(status_of(se.read_public_key(KEY)), StatusError::NotFound);
    assert_eq!(
        status_of(se.sign_sha256_digest(KEY, &digest)),
        StatusError::NotFound
    );
}

#[test]
fn random_bytes_of_every_size_class_arrive_complete() {
    let mut se = simulated_se05x(SimulatedSe::new()).expect("ready");
    for len in [0u16, 1, 16, 240, 250, 254, 255, 600, 2000] {
        let bytes = se.random(len).expect("random");
        assert_eq!(bytes.len(), usize::from(len));
    }
    assert_ne!(
        se.random(32).expect("random"),
        se.random(32).expect("random")
    );
}

#[test]
fn unknown_instructions_and_garbage_get_status_words() {
    let mut se = simulated_se05x(SimulatedSe::new()).expect("ready");
    let response = se
        .transmit_raw(&[0x80, 0x7F, 0x00, 0x00])
        .expect("exchange");
    assert_eq!(response, [0x6D, 0x00]);
    let response = se
        .transmit_raw(&[0x80, 0x01, 0x61, 0x00, 0x05, 0x41])
        .expect("exchange");
    assert_eq!(response, [0x67, 0x00]);
    let response = se.transmit_raw(&[0x42]).expect("exchange");
    assert_eq!(response, [0x67, 0x00]);
}

#[test]
fn every_fault_kind_is_survived() {
    let faults = [
        Fault::Busy { polls: 50 },
        Fault::Wtx {
            count: 3,
            multiplier: 2,
        },
        Fault::CorruptAnswer,
        Fault::LoseAnswer,
        Fault::LoseRequest,
        Fault::CorruptRequest,
        Fault::ChipReset,
    ];
    for fault in faults {
        // Frames 0..=3 carry the chained random exchange, 4 the signature, 5 the verification.
        for after in [0, 1, 3, 5] {
            let sim = SimulatedSe::new();
            let injector = sim.fault_injector();
            let mut se = simulated_se05x(sim).expect("ready");
            se.generate_p256(KEY).expect("generate");
            injector.schedule(after, fault);
            let bytes = se
                .random(1000)
                .unwrap_or_else(|err| panic!("{fault:?} at +{after}: {err}"));
            assert_eq!(bytes.len(), 1000);
            let digest = sha256(b"after the fault");
            let signature = se
                .sign_sha256_digest(KEY, &digest)
                .expect("sign after fault");
            assert!(se.verify(KEY, &digest, &signature).expect("verify"));
            assert_eq!(injector.pending(), 0, "{fault:?} at +{after} was applied");
        }
    }
}

#[test]
fn a_chip_that_stays_busy_is_a_typed_timeout_within_the_bound() {
    let sim = SimulatedSe::new();
    let injector = sim.fault_injector();
    let mut se = simulated_se05x(sim).expect("ready");
    injector.schedule(0, Fault::Busy { polls: u32::MAX });
    let before = se.stats().waited_us;
    let err = se.random(16).expect_err("busy forever");
    assert!(matches!(err, Se05xError::Transport { .. }), "{err}");
    let waited = se.stats().waited_us - before;
    let bound = se.link().config().worst_case_us(9, 20);
    assert!(waited <= bound, "waited {waited} us, bound {bound} us");
}

#[test]
fn persistence_survives_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("se.store");
    let public = {
        let mut se = simulated_se05x(SimulatedSe::open(&path).expect("open")).expect("ready");
        se.generate_p256(KEY).expect("generate");
        se.generate_p256(ObjectId(2)).expect("generate");
        se.delete(ObjectId(2)).expect("delete");
        se.read_public_key(KEY).expect("public key")
    };
    let sim = SimulatedSe::open(&path).expect("reopen");
    assert_eq!(sim.object_count(), 1);
    let mut se = simulated_se05x(sim).expect("ready");
    assert_eq!(se.read_public_key(KEY).expect("public key"), public);
    assert!(!se.exists(ObjectId(2)).expect("exists"));
    let digest = sha256(b"after restart");
    let signature = se.sign_sha256_digest(KEY, &digest).expect("sign");
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, &public)
        .verify_digest(
            &aws_lc_rs::digest::Digest::import_less_safe(&digest, &SHA256).expect("digest"),
            &signature,
        )
        .expect("the restarted chip signs with the same key");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left behind");
}

#[test]
fn a_corrupt_store_is_a_typed_error_naming_the_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("se.store");
    std::fs::write(&path, "fleetid-se05x-sim v1\n70000001 ec-p256 zz\n").expect("write");
    let err = SimulatedSe::open(&path).err().expect("rejected");
    assert!(err.to_string().contains("line 2"), "{err}");
}

#[test]
fn state_per_instance_stays_small_after_large_exchanges() {
    let mut se = simulated_se05x(SimulatedSe::new()).expect("ready");
    se.generate_p256(KEY).expect("generate");
    se.random(2000).expect("random");
    se.transmit_raw(&vec![0x80; 1800]).expect("exchange");
    se.sign_sha256_digest(KEY, &sha256(b"x")).expect("sign");
    let bytes = se.link_mut().i2c_mut().state_bytes();
    assert!(bytes < 4096, "simulator state {bytes} bytes");
}

#[test]
fn the_shared_handle_is_usable_from_threads() {
    let shared = share(simulated_se05x(SimulatedSe::new()).expect("ready"));
    with_shared(&shared, |se| se.generate_p256(KEY)).expect("generate");
    let handles: Vec<_> = (0..4u8)
        .map(|i| {
            let shared = shared.clone();
            std::thread::spawn(move || {
                let digest = sha256(&[i]);
                let signature =
                    with_shared(&shared, |se| se.sign_sha256_digest(KEY, &digest)).expect("sign");
                with_shared(&shared, |se| se.verify(KEY, &digest, &signature)).expect("verify")
            })
        })
        .collect();
    for handle in handles {
        assert!(handle.join().expect("thread"));
    }
    let stats = with_shared(&shared, |se: &mut (dyn SecureElement + Send)| {
        se.link_stats()
    });
    assert!(stats.frames_sent > 10);
}

#[test]
fn ifs_negotiation_makes_the_chip_chain_smaller_blocks_and_sessions_end() {
    let mut se = simulated_se05x(SimulatedSe::new()).expect("ready");
    let frames_before = se.link_mut().i2c_mut().frames_received();
    se.random(200).expect("random");
    let with_254 = se.link_mut().i2c_mut().frames_received() - frames_before;
    se.link_mut().negotiate_ifsd(32).expect("IFS confirmed");
    let frames_before = se.link_mut().i2c_mut().frames_received();
    assert_eq!(se.random(200).expect("random").len(), 200);
    let with_32 = se.link_mut().i2c_mut().frames_received() - frames_before;
    // 206 response bytes: one block at IFSD 254; seven blocks (six acknowledgements) at 32.
    assert_eq!((with_254, with_32), (1, 7));
    se.link_mut().end_apdu_session().expect("session ended");
    assert!(se.random(8).is_ok());
}
