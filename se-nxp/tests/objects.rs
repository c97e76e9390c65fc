//! Binary files, the object inventory and unmodelled commands, each through the driver's real
//! APDU and T=1 path over the simulator (chained frames, extended APDUs, status words).

use se_nxp::sim::{SimulatedSe, simulated_se05x};
use se_nxp::{MemoryKind, ObjectFilter, ObjectId, Se05xError, StatusError};

const FILE: ObjectId = ObjectId(0x7000_1001);
const KEY: ObjectId = ObjectId(0x7000_0001);

fn status_of<T: std::fmt::Debug>(result: Result<T, Se05xError>) -> StatusError {
    match result {
        Err(Se05xError::Status { source, .. }) => source,
        other => panic!("expected a status error, got {other:?}"),
    }
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| u8::try_from(i % 251).unwrap_or(0).wrapping_add(seed))
        .collect()
}

#[test]
fn binary_files_are_created_written_at_offsets_read_in_parts_sized_and_deleted() {
    let mut se = simulated_se05x(SimulatedSe::new()).expect("ready");
    let first = pattern(300, 7);
    // 300 bytes of data: an extended APDU, chained over two T=1 blocks.
    se.write_binary(FILE, 0, &first, Some(300)).expect("create");
    assert!(se.exists(FILE).expect("exists"));
    assert_eq!(se.read_size(FILE).expect("size"), 300);
    assert_eq!(se.read_binary(FILE, 0, None).expect("read"), first);
    assert_eq!(
        se.read_binary(FILE, 100, Some(20)).expect("read part"),
        first[100..120]
    );
    assert_eq!(
        se.read_binary(FILE, 290, None).expect("read tail"),
        first[290..]
    );

    let patch = pattern(50, 99);
    se.write_binary(FILE, 100, &patch, None)
        .expect("write at offset");
    let mut expected = first.clone();
    expected[100..150].copy_from_slice(&patch);
    assert_eq!(se.read_binary(FILE, 0, None).expect("read"), expected);
    // Naming the file's own length again is accepted.
    se.write_binary(FILE, 0, &[1], Some(300))
        .expect("same length");

    se.delete(FILE).expect("delete");
    assert!(!se.exists(FILE).expect("exists"));
    assert_eq!(
        status_of(se.read_binary(FILE, 0, None)),
        StatusError::NotFound
    );
    assert_eq!(status_of(se.read_size(FILE)), StatusError::NotFound);
}

#[test]
fn a_file_created_empty_is_zero_filled_and_large_files_round_trip() {
    let mut se = simulated_se05x(SimulatedSe::new()).expect("ready");
    se.write_binary(FILE, 0, &[], Some(16))
        .expect("create empty");
    assert_eq!(se.read_binary(FILE, 0, None).expect("read"), [0u8; 16]);

    let big = ObjectId(0x7000_1002);
    let contents = pattern(4000, 3);
    se.write_binary(big, 0, &[], Some(4000)).expect("create");
    for (index, chunk) in contents.chunks(800).enumerate() {
        let offset = u16::try_from(index * 800).expect("offset");
        se.write_binary(big, offset, chunk, None)
            .expect("write chunk");
    }
    assert_eq!(se.read_binary(big, 0, None).expect("read all"), contents);
}

#[test]
fn wrong_binary_requests_get_the_chips_status_words() {
    let mut se = simulated_se05x(SimulatedSe::new()).expect("ready");
    assert_eq!(
        status_of(se.write_binary(FILE, 0, b"no length", None)),
        StatusError::WrongData,
        "a new file needs its length"
    );
    assert_eq!(
        status_of(se.write_binary(FILE, 0, &[0; 10], Some(0))),
        StatusError::WrongData
    );
    assert_eq!(
        status_of(se.write_binary(FILE, 0, &[0; 10], Some(0x8000))),
        StatusError::WrongData
    );
    assert_eq!(
        status_of(se.write_binary(FILE, 5, &[0; 10], Some(10))),
        StatusError::WrongData,
        "data beyond the new file"
    );
    assert!(
        !se.exists(FILE).expect("exists"),
        "a refused write creates nothing"
    );

    se.write_binary(FILE, 0, &[0; 10], Some(10))
        .expect("create");
    assert_eq!(
        status_of(se.write_binary(FILE, 8, &[0; 3], None)),
        StatusError::WrongData
    );
    assert_eq!(
        status_of(se.write_binary(FILE, 0, &[0; 3], Some(11))),
        StatusError::WrongData,
        "a file's length is fixed"
    );
    assert_eq!(
        status_of(se.read_binary(FILE, 8, Some(3))),
        StatusError::WrongData
    );
    assert_eq!(
        status_of(se.read_binary(FILE, 11, None)),
        StatusError::WrongData
    );

    se.generate_p256(KEY).expect("generate");
    assert_eq!(
        status_of(se.write_binary(KEY, 0, &[1], None)),
        StatusError::CommandNotAllowed
    );
    assert_eq!(
        status_of(se.generate_p256(FILE)),
        StatusError::CommandNotAllowed
    );
    assert_eq!(
        status_of(se.sign_sha256_digest(FILE, &[0; 32])),
        StatusError::CommandNotAllowed
    );
    assert_eq!(
        status_of(se.read_binary(KEY, 0, Some(4))),
        StatusError::WrongData
    );
    assert_eq!(se.read_size(KEY).expect("key size"), 32);
    assert_eq!(se.read_public_key(KEY).expect("public key")[0], 0x04);

    // A policy is refused, not ignored: the simulator does not enforce policies.
    let with_policy = [
        0x80, 0x01, 0x06, 0x00, 0x0E, 0x11, 0x02, 0x00, 0x00, 0x41, 0x04, 0x70, 0x00, 0x10, 0x09,
        0x43, 0x02, 0x00, 0x01,
    ];
    assert_eq!(
        se.transmit_raw(&with_policy).expect("exchange"),
        [0x69, 0x85]
    );
}

#[test]
fn the_id_list_pages_by_offset_and_filters_by_type() {
    let mut se = simulated_se05x(SimulatedSe::new()).expect("ready");
    let mut keys = Vec::new();
    let mut files = Vec::new();
    for n in 0..70u32 {
        let id = ObjectId(0x7000_0000 + n * 3);
        if n % 4 == 0 {
            se.generate_p256(id).expect("generate");
            keys.push(id);
        } else {
            se.write_binary(id, 0, &n.to_be_bytes(), Some(4))
                .expect("create");
            files.push(id);
        }
    }
    let mut all: Vec<ObjectId> = keys.iter().chain(&files).copied().collect();
    all.sort();

    let first = se.read_id_list(0, ObjectFilter::All).expect("page 1");
    assert_eq!((first.ids.len(), first.more), (32, true));
    assert_eq!(first.ids, all[..32]);
    let second = se.read_id_list(32 * 4, ObjectFilter::All).expect("page 2");
    assert_eq!((second.ids.as_slice(), second.more), (&all[32..64], true));
    let last = se.read_id_list(64 * 4, ObjectFilter::All).expect("page 3");
    assert_eq!((last.ids.as_slice(), last.more), (&all[64..], false));
    let beyond = se.read_id_list(80 * 4, ObjectFilter::All).expect("beyond");
    assert_eq!((beyond.ids.len(), beyond.more), (0, false));

    assert_eq!(se.list_objects(ObjectFilter::All).expect("all"), all);
    assert_eq!(
        se.list_objects(ObjectFilter::EcKeyPair).expect("keys"),
        keys
    );
    assert_eq!(
        se.list_objects(ObjectFilter::BinaryFile).expect("files"),
        files
    );

    // An offset inside an identifier is wrong data.
    let odd = [
        0x80, 0x02, 0x00, 0x25, 0x07, 0x41, 0x02, 0x00, 0x02, 0x42, 0x01, 0xFF, 0x00,
    ];
    assert_eq!(se.transmit_raw(&odd).expect("exchange"), [0x6A, 0x80]);
    let empty = simulated_se05x(SimulatedSe::new())
        .expect("ready")
        .read_id_list(0, ObjectFilter::All)
        .expect("empty chip");
    assert_eq!((empty.ids.len(), empty.more), (0, false));
}

#[test]
fn version_and_free_memory() {
    let mut se = simulated_se05x(SimulatedSe::new()).expect("ready");
    let selected = se.select().expect("select");
    let version = se.get_version().expect("version");
    assert_eq!(version, selected);
    assert_eq!((version.major, version.minor, version.patch), (3, 1, 1));

    assert_eq!(
        se.free_memory(MemoryKind::TransientReset).expect("reset"),
        4096
    );
    assert_eq!(
        se.free_memory(MemoryKind::TransientDeselect)
            .expect("deselect"),
        4096
    );
    // 50,000 bytes free, answered capped at 0x7FFF.
    assert_eq!(
        se.free_memory(MemoryKind::Persistent).expect("free"),
        0x7FFF
    );
    // Fill 20,000 bytes (+32 per file) to get below the cap: 50,000 - 20,064 = 29,936.
    se.write_binary(ObjectId(1), 0, &[], Some(10_000))
        .expect("file 1");
    se.write_binary(ObjectId(2), 0, &[], Some(10_000))
        .expect("file 2");
    assert_eq!(
        se.free_memory(MemoryKind::Persistent).expect("free"),
        29_936
    );
    se.generate_p256(KEY).expect("key");
    assert_eq!(
        se.free_memory(MemoryKind::Persistent).expect("free"),
        29_936 - 129
    );
    assert_eq!(
        status_of(se.write_binary(ObjectId(3), 0, &[], Some(29_936 - 129 - 31))),
        StatusError::NotEnoughMemory
    );
    se.write_binary(ObjectId(3), 0, &[], Some(29_936 - 129 - 32))
        .expect("exactly fits");
    assert_eq!(se.free_memory(MemoryKind::Persistent).expect("free"), 0);
    se.delete(ObjectId(3)).expect("delete");
    assert_eq!(
        se.free_memory(MemoryKind::Persistent).expect("free"),
        29_936 - 129
    );

    let unknown_kind = [0x80, 0x04, 0x00, 0x22, 0x03, 0x41, 0x01, 0x04, 0x00];
    assert_eq!(
        se.transmit_raw(&unknown_kind).expect("exchange"),
        [0x6A, 0x80]
    );
}

#[test]
fn instruction_flags_are_matched_not_masked_and_unmodelled_commands_answer_6d00() {
    let mut se = simulated_se05x(SimulatedSe::new()).expect("ready");
    se.write_binary(FILE, 0, &[1, 2, 3], Some(3))
        .expect("create");
    let id = [0x41, 0x04, 0x70, 0x00, 0x10, 0x01];
    let with = |header: [u8; 4], data: &[u8]| {
        let mut apdu = header.to_vec();
        apdu.push(u8::try_from(data.len()).expect("short"));
        apdu.extend(data);
        apdu.push(0x00);
        apdu
    };
    let cases: [(&str, [u8; 4]); 8] = [
        ("transient WriteBinary", [0x80, 0x81, 0x06, 0x00]),
        ("auth-object WriteBinary", [0x80, 0x41, 0x06, 0x00]),
        ("attested ReadObject", [0x80, 0x22, 0x00, 0x00]),
        ("transient generate", [0x80, 0x81, 0x61, 0x00]),
        ("ReadType", [0x80, 0x02, 0x00, 0x26]),
        ("GetVersion extended", [0x80, 0x04, 0x00, 0x21]),
        ("DeleteAll", [0x80, 0x04, 0x00, 0x2A]),
        ("ReadObject with another P1", [0x80, 0x02, 0x06, 0x00]),
    ];
    for (name, header) in cases {
        let response = se.transmit_raw(&with(header, &id)).expect("exchange");
        assert_eq!(response, [0x6D, 0x00], "{name}");
    }
    // Nothing was changed by the refused transient write.
    assert_eq!(se.read_binary(FILE, 0, None).expect("read"), [1, 2, 3]);

    // No combination answers "incorrect P1/P2": the simulator either runs a command or says
    // it does not support it.
    for ins in 0..=0xFFu8 {
        for p1 in [0x00, 0x01, 0x06, 0x0C, 0x61, 0xFF] {
            for p2 in [0x00, 0x07, 0x20, 0x22, 0x25, 0x26, 0x7F] {
                let response = se
                    .transmit_raw(&with([0x80, ins, p1, p2], &id))
                    .expect("exchange");
                assert_ne!(response, [0x6A, 0x86], "{ins:02X} {p1:02X} {p2:02X}");
            }
        }
    }
}

#[test]
fn binary_files_survive_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("se.store");
    let contents = pattern(700, 1);
    {
        let mut se = simulated_se05x(SimulatedSe::open(&path).expect("open")).expect("ready");
        se.generate_p256(KEY).expect("generate");
        se.write_binary(FILE, 0, &contents, Some(700))
            .expect("create");
        se.write_binary(FILE, 10, &[0xEE; 5], None).expect("patch");
    }
    let mut expected = contents;
    expected[10..15].fill(0xEE);
    let sim = SimulatedSe::open(&path).expect("reopen");
    assert_eq!(sim.object_count(), 2);
    let mut se = simulated_se05x(sim).expect("ready");
    assert_eq!(se.read_binary(FILE, 0, None).expect("read"), expected);
    assert_eq!(
        se.list_objects(ObjectFilter::All).expect("list"),
        [KEY, FILE]
    );
}
