//! `ca list` and `ca tree`: registered CAs with the active device certificates under each.

use serde_json::{Value, json};

use super::{Report, Table, freshness};
use crate::model::{CaNode, FleetState, UnixTime};
use crate::safe_text::SafeText;

fn node_json(node: &CaNode) -> Value {
    json!({
        "id": node.id.to_string(),
        "subject": node.subject,
        "status": node.status.as_aws_str(),
        "registered": node.registered,
        "not_after": node.not_after.map(UnixTime::rfc3339),
        "active_direct": node.active_direct,
        "active_total": node.active_total,
        "children": node.children.iter().map(node_json).collect::<Vec<_>>(),
    })
}

fn rows(tree: &[CaNode], indent: bool) -> Table {
    let mut table = Table::new(&[
        "ID",
        "STATUS",
        "SUBJECT",
        "EXPIRES",
        "ACTIVE",
        "ACTIVE_TREE",
    ]);
    for root in tree {
        for (depth, node) in root.flatten() {
            let subject = if indent && depth > 0 {
                format!("{}└─ {}", "   ".repeat(depth - 1), node.subject)
            } else {
                node.subject.clone()
            };
            table.push(
                [
                    node.id.short(16),
                    node.status.as_aws_str().to_owned(),
                    subject,
                    node.not_after.map_or_else(String::new, |t| t.day().iso()),
                    node.active_direct.to_string(),
                    node.active_total.to_string(),
                ]
                .map(SafeText::from_string),
            );
        }
    }
    table
}

/// `ca list`: one row per CA (flat JSON list, no children).
#[must_use]
pub fn ca_list_report(state: &FleetState, now: UnixTime) -> Report {
    let tree = state.ca_tree();
    let flat: Vec<Value> = tree
        .iter()
        .flat_map(CaNode::flatten)
        .map(|(_, node)| {
            let mut value = node_json(node);
            if let Value::Object(map) = &mut value {
                map.remove("children");
                if let Some(record) = state.cas().get(&node.id) {
                    map.insert("auto_registration".into(), record.auto_registration.into());
                }
            }
            value
        })
        .collect();
    Report {
        kind: "cas",
        data: Value::Array(flat),
        table: rows(&tree, false),
        text: None,
        freshness: freshness(state, now),
        generated_at: now,
    }
}

/// `ca tree`: nested JSON, indented subjects in the table.
#[must_use]
pub fn ca_tree_report(state: &FleetState, now: UnixTime) -> Report {
    let tree = state.ca_tree();
    Report {
        kind: "ca-tree",
        data: Value::Array(tree.iter().map(node_json).collect()),
        table: rows(&tree, true),
        text: None,
        freshness: freshness(state, now),
        generated_at: now,
    }
}
