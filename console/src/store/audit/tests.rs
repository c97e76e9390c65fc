//! The audit log against a real SQLite file: round trip, paging, tampering, reopening.

use super::*;

const NOW: UnixTime = UnixTime(1_795_593_600);

fn entry(n: i64, environment: &str, decision: Decision) -> NewAuditEntry {
    NewAuditEntry {
        at: UnixTime(NOW.0 + n),
        os_user: "oncall".into(),
        principal: Some("arn:aws:iam::123456789012:user/oncall".into()),
        account: Some("123456789012".into()),
        environment: environment.into(),
        action: "revoke".into(),
        targets: vec![format!("dev-{n:04}"), "dev-9999".into()],
        plan: format!("revoke 2 certificates, 2 things ({n})"),
        decision,
        outcome: "not applied".into(),
    }
}

fn open(dir: &tempfile::TempDir) -> Store {
    Store::open(&dir.path().join("fleetid.sqlite3")).unwrap()
}

#[test]
fn appended_entries_list_newest_first_in_pages() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let mut appended = Vec::new();
    for n in 1..=5 {
        let env = if n % 2 == 0 { "lab" } else { "prod" };
        appended.push(
            store
                .append_audit(entry(n, env, Decision::Cancelled))
                .unwrap(),
        );
    }
    assert_eq!(
        appended.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(appended[0].prev_hash, GENESIS);
    assert_eq!(appended[1].prev_hash, appended[0].hash);

    let page = |environment, before, limit| AuditPage {
        environment,
        before,
        limit,
    };
    let all = store.list_audit(&page(None, None, 10)).unwrap();
    let mut newest_first = appended.clone();
    newest_first.reverse();
    assert_eq!(all, newest_first, "every field survives the round trip");

    let first = store.list_audit(&page(None, None, 2)).unwrap();
    assert_eq!(first.iter().map(|e| e.sequence).collect::<Vec<_>>(), [5, 4]);
    let second = store.list_audit(&page(None, Some(4), 2)).unwrap();
    assert_eq!(
        second.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        [3, 2]
    );
    let prod = store.list_audit(&page(Some("prod"), None, 10)).unwrap();
    assert_eq!(
        prod.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        [5, 3, 1]
    );
    assert_eq!(store.verify_audit().unwrap(), 5);
}

#[test]
fn an_empty_log_verifies_with_no_entries() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(open(&dir).verify_audit().unwrap(), 0);
}

#[test]
fn the_store_refuses_to_update_or_delete_entries() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    store
        .append_audit(entry(1, "prod", Decision::Confirmed))
        .unwrap();
    for statement in [
        "UPDATE audit_log SET decision = 'cancelled'",
        "DELETE FROM audit_log",
    ] {
        let error = store.connection.execute(statement, []).unwrap_err();
        assert!(error.to_string().contains("append-only"), "{error}");
    }
    assert_eq!(store.verify_audit().unwrap(), 1);
}

/// What someone with the file can do: drop the triggers, then edit.
fn drop_triggers(store: &Store) {
    store
        .connection
        .execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
        .unwrap();
}

/// `rows` cancelled entries in `prod`, then `sql` run past the triggers.
fn tampered(dir: &tempfile::TempDir, rows: i64, sql: &str) -> Store {
    let mut store = open(dir);
    for n in 1..=rows {
        store
            .append_audit(entry(n, "prod", Decision::Cancelled))
            .unwrap();
    }
    drop_triggers(&store);
    store.connection.execute(sql, []).unwrap();
    store
}

#[test]
fn a_changed_row_is_found_by_verify() {
    let dir = tempfile::tempdir().unwrap();
    let store = tampered(
        &dir,
        4,
        "UPDATE audit_log SET decision = 'confirmed' WHERE seq = 3",
    );
    match store.verify_audit() {
        Err(VerifyError::Broken { sequence, reason }) => {
            assert_eq!(sequence, 3);
            assert!(reason.contains("changed"), "{reason}");
        }
        other => panic!("tampering not detected: {other:?}"),
    }
}

#[test]
fn a_rehashed_row_breaks_the_next_link_and_a_removed_row_leaves_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    for n in 1..=4 {
        store
            .append_audit(entry(n, "prod", Decision::Cancelled))
            .unwrap();
    }
    drop_triggers(&store);
    // Entry 2 changed and given a hash that matches its new contents: entry 3 no longer links.
    let mut forged = entry(2, "prod", Decision::Confirmed);
    forged.outcome = "ok".into();
    let prev = store
        .list_audit(&AuditPage {
            environment: None,
            before: Some(2),
            limit: 1,
        })
        .unwrap()[0]
        .hash;
    let hash = chain::link(&prev, 2, &forged);
    store
        .connection
        .execute(
            "UPDATE audit_log SET decision = 'confirmed', outcome = 'ok', hash = ?1 WHERE seq = 2",
            [hex::encode(hash)],
        )
        .unwrap();
    match store.verify_audit() {
        Err(VerifyError::Broken { sequence, reason }) => {
            assert_eq!(sequence, 3);
            assert!(reason.contains("prev_hash"), "{reason}");
        }
        other => panic!("forged link not detected: {other:?}"),
    }
    // A removed entry is a gap.
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    for n in 1..=3 {
        store
            .append_audit(entry(n, "prod", Decision::Cancelled))
            .unwrap();
    }
    drop_triggers(&store);
    store
        .connection
        .execute("DELETE FROM audit_log WHERE seq = 2", [])
        .unwrap();
    let error = store.verify_audit().unwrap_err();
    assert!(
        matches!(error, VerifyError::Broken { sequence: 2, .. }),
        "{error}"
    );
}

#[test]
fn reopening_the_store_continues_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let last = {
        let mut store = open(&dir);
        store
            .append_audit(entry(1, "prod", Decision::Confirmed))
            .unwrap();
        store
            .append_audit(entry(2, "prod", Decision::RefusedReadOnly))
            .unwrap()
    };
    let mut store = open(&dir);
    let next = store
        .append_audit(entry(3, "prod", Decision::RefusedAccountMismatch))
        .unwrap();
    assert_eq!(next.sequence, 3);
    assert_eq!(next.prev_hash, last.hash);
    assert_eq!(store.verify_audit().unwrap(), 3);
}

#[test]
fn an_unreadable_row_breaks_the_chain_and_is_named_when_listed() {
    let dir = tempfile::tempdir().unwrap();
    let store = tampered(
        &dir,
        2,
        "UPDATE audit_log SET decision = 'approved' WHERE seq = 1",
    );
    match store.verify_audit() {
        Err(VerifyError::Broken { sequence, reason }) => {
            assert_eq!(sequence, 1);
            assert!(reason.contains("unknown decision \"approved\""), "{reason}");
        }
        other => panic!("unreadable row not reported: {other:?}"),
    }
    let page = AuditPage {
        environment: Some("prod"),
        before: None,
        limit: 10,
    };
    let error = store.list_audit(&page).unwrap_err().to_string();
    assert!(
        error.contains("entry 1") && error.contains("approved"),
        "{error}"
    );
}
