//! Finds the AWS operations in fleetid's sources: the SDK builder calls on the clients
//! (`.update_ca_certificate()`, a zero-argument method named after an operation of an SDK crate
//! the file uses), the `"iot:…"` action strings, and the MQTT actions of its MQTT clients.
//! Test code (`tests.rs`, `tests/`, `#[cfg(test)]` items) is left out: it is not a code path
//! of any role.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::sdk::Service;

/// One SDK call in the sources.
#[derive(Debug, Clone)]
pub struct SdkCall {
    /// The IAM action (`iot:UpdateCACertificate`).
    pub action: String,
    /// The builder method (`update_ca_certificate`).
    pub method: String,
    /// The function whose body makes the call.
    pub function: String,
}

/// A Rust source file without its test items.
pub struct Source {
    /// The path, relative to the workspace.
    pub path: PathBuf,
    /// The text with `#[cfg(test)]` items removed.
    pub text: String,
}

/// Every non-test `.rs` file under `dir` (relative to `workspace`).
pub fn sources(workspace: &Path, dir: &str) -> Vec<Source> {
    let mut files = Vec::new();
    let mut pending = vec![workspace.join(dir)];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "tests" {
                    pending.push(path);
                }
            } else if name.ends_with(".rs") && name != "tests.rs" {
                let text = std::fs::read_to_string(&path).unwrap();
                files.push(Source {
                    path: path.strip_prefix(workspace).unwrap().to_owned(),
                    text: without_test_items(&text),
                });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// Removes each item marked `#[cfg(test)]` (up to its `;` or its matching `}`).
pub fn without_test_items(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        let end = match (item.find('{'), item.find(';')) {
            (Some(open), Some(semi)) if semi < open => semi + 1,
            (Some(open), _) => open + matching_brace(&item[open..]),
            (None, Some(semi)) => semi + 1,
            (None, None) => item.len(),
        };
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// The length of the block that starts with the `{` at the start of `text`.
fn matching_brace(text: &str) -> usize {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    text.len()
}

/// The zero-argument method calls `.name()` in `text`, with their byte offsets.
fn zero_argument_calls(text: &str) -> Vec<(usize, &str)> {
    let bytes = text.as_bytes();
    let mut calls = Vec::new();
    for (dot, _) in text.match_indices('.') {
        let start = dot + 1;
        let len = bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || **b == b'_')
            .count();
        if len > 0 && bytes[start + len..].starts_with(b"()") {
            calls.push((dot, &text[start..start + len]));
        }
    }
    calls
}

/// The SDK calls of one file: methods named after an operation of an SDK crate the file
/// names (any SDK crate when it names none of those that have the operation).
pub fn sdk_calls(source: &Source, services: &[Service]) -> Vec<SdkCall> {
    let mut calls = Vec::new();
    if !source.text.contains("aws_sdk_") {
        return calls;
    }
    for (at, method) in zero_argument_calls(&source.text) {
        let offering: Vec<&Service> = services
            .iter()
            .filter(|s| s.operations.contains_key(method))
            .collect();
        let named: Vec<&Service> = offering
            .iter()
            .copied()
            .filter(|s| source.text.contains(&s.rust_name))
            .collect();
        let chosen = if named.is_empty() { offering } else { named };
        for service in chosen {
            calls.push(SdkCall {
                action: format!("{}:{}", service.prefix, service.operations[method]),
                method: method.to_owned(),
                function: enclosing_function(&source.text[..at]),
            });
        }
    }
    calls
}

/// The name of the last `fn` before the end of `before`.
fn enclosing_function(before: &str) -> String {
    before
        .rmatch_indices("fn ")
        .map(|(at, _)| &before[at + 3..])
        .find_map(|rest| {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty()).then_some(name)
        })
        .unwrap_or_default()
}

/// Whether `text` calls a function or method `name` with arguments (`name(x)`, `.name(x)`),
/// as product code calls the backend's and the control plane's methods.
pub fn calls_with_arguments(text: &str, name: &str) -> bool {
    let pattern = format!("{name}(");
    text.match_indices(&pattern).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let boundary = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let definition = text[..at].ends_with("fn ");
        let no_arguments = text[at + pattern.len()..].starts_with(')');
        boundary && !definition && !no_arguments
    })
}

/// The `"iot:Action"` string literals in `text` (IAM actions the code names).
pub fn action_strings(text: &str) -> BTreeSet<String> {
    text.match_indices("\"iot:")
        .filter_map(|(at, _)| {
            let literal = text[at + 1..].split('"').next()?;
            let action = &literal[4..];
            let ok = !action.is_empty() && action.chars().all(|c| c.is_ascii_alphanumeric());
            ok.then(|| literal.to_owned())
        })
        .collect()
}

/// The MQTT actions an rumqttc client in `text` needs: connecting, subscribing (and so
/// receiving), publishing.
pub fn mqtt_actions(text: &str) -> BTreeSet<String> {
    let mut actions = BTreeSet::new();
    if !text.contains("rumqttc") {
        return actions;
    }
    if text.contains("AsyncClient::new(") {
        actions.insert("iot:Connect".to_owned());
    }
    let calls = |methods: &[&str]| methods.iter().any(|m| text.contains(&format!(".{m}(")));
    if calls(&[
        "subscribe",
        "try_subscribe",
        "subscribe_many",
        "try_subscribe_many",
    ]) {
        actions.insert("iot:Subscribe".to_owned());
        actions.insert("iot:Receive".to_owned());
    }
    if calls(&[
        "publish",
        "try_publish",
        "publish_bytes",
        "try_publish_bytes",
    ]) {
        actions.insert("iot:Publish".to_owned());
    }
    actions
}
