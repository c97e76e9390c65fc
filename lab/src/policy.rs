//! IoT policy documents: parsing and IAM-style evaluation (default deny, an explicit Deny
//! beats every Allow), with the policy variables devices commonly use.

use serde_json::Value;

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Grants.
    Allow,
    /// Forbids, overriding any Allow.
    Deny,
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Allow or Deny.
    pub effect: Effect,
    /// Action patterns (`iot:Publish`, `iot:*`).
    pub actions: Vec<String>,
    /// Resource patterns (ARNs with `*` and `?`, policy variables).
    pub resources: Vec<String>,
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicyDocument {
    /// Its statements.
    pub statements: Vec<Statement>,
}

/// The outcome of evaluating policies for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Some Allow matched and no Deny did.
    Allow,
    /// A Deny matched.
    ExplicitDeny,
    /// Nothing matched.
    ImplicitDeny,
}

impl Decision {
    /// Whether the request may go ahead.
    #[must_use]
    pub fn allowed(self) -> bool {
        self == Self::Allow
    }
}

/// The values of the policy variables for one connection.
#[derive(Debug, Clone, Default)]
pub struct PolicyContext<'a> {
    /// `${iot:ClientId}`.
    pub client_id: &'a str,
    /// `${iot:Connection.Thing.ThingName}` (only when the certificate has one thing).
    pub thing_name: Option<&'a str>,
}

fn strings(value: Option<&Value>, what: &str) -> Result<Vec<String>, String> {
    match value {
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{what} must hold strings"))
            })
            .collect(),
        _ => Err(format!("statement has no {what}")),
    }
}

impl PolicyDocument {
    /// Parses a policy document.
    ///
    /// # Errors
    /// Not JSON, no statements, or a statement without Effect/Action/Resource.
    pub fn parse(text: &str) -> Result<Self, String> {
        let doc: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let statements = match doc.get("Statement") {
            Some(Value::Array(items)) => items.clone(),
            Some(item @ Value::Object(_)) => vec![item.clone()],
            _ => return Err("document has no Statement".into()),
        };
        let statements = statements
            .iter()
            .map(|s| {
                let effect = match s.get("Effect").and_then(Value::as_str) {
                    Some("Allow") => Effect::Allow,
                    Some("Deny") => Effect::Deny,
                    other => return Err(format!("unknown Effect {other:?}")),
                };
                Ok(Statement {
                    effect,
                    actions: strings(s.get("Action"), "Action")?,
                    resources: strings(s.get("Resource"), "Resource")?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Self { statements })
    }
}

/// Evaluates `action` on `resource` against all `documents`.
#[must_use]
pub fn evaluate<'a>(
    documents: impl IntoIterator<Item = &'a PolicyDocument>,
    action: &str,
    resource: &str,
    ctx: &PolicyContext<'_>,
) -> Decision {
    let mut allowed = false;
    for doc in documents {
        for statement in &doc.statements {
            let action_matches = statement
                .actions
                .iter()
                .any(|a| glob(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()));
            if !action_matches {
                continue;
            }
            let resource_matches = statement
                .resources
                .iter()
                .any(|pattern| substitute(pattern, ctx).is_some_and(|p| glob(&p, resource)));
            if !resource_matches {
                continue;
            }
            match statement.effect {
                Effect::Deny => return Decision::ExplicitDeny,
                Effect::Allow => allowed = true,
            }
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

/// Replaces the policy variables; `None` when one has no value (the statement then does
/// not apply).
fn substitute(pattern: &str, ctx: &PolicyContext<'_>) -> Option<String> {
    let mut out = pattern.replace("${iot:ClientId}", ctx.client_id);
    if out.contains("${iot:Connection.Thing.ThingName}") {
        out = out.replace("${iot:Connection.Thing.ThingName}", ctx.thing_name?);
    }
    (!out.contains("${")).then_some(out)
}

/// `*` matches any run of characters, `?` any one character.
#[must_use]
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// The deny-all document the console attaches to revoke.
pub const DENY_ALL: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iot:*","Resource":"*"}]}"#;

#[cfg(test)]
mod tests {
    use super::*;

    const DEVICE: &str = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:*:*:client/${iot:Connection.Thing.ThingName}"},
        {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"arn:aws:iot:*:*:topic/fleetid/v1/${iot:Connection.Thing.ThingName}/*"}]}"#;

    #[test]
    fn glob_matches_like_iam() {
        assert!(glob("a*c", "abbbc"));
        assert!(glob("*", ""));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "ac"));
        assert!(!glob("abc", "abcd"));
        assert!(glob("topic/*/status", "topic/x/y/status"));
    }

    #[test]
    fn device_policy_allows_own_topics_only() {
        let doc = PolicyDocument::parse(DEVICE).unwrap();
        let ctx = PolicyContext {
            client_id: "dev-1",
            thing_name: Some("dev-1"),
        };
        let topic = |t: &str| format!("arn:aws:iot:us-east-1:123456789012:topic/{t}");
        assert_eq!(
            evaluate(
                [&doc],
                "iot:Publish",
                &topic("fleetid/v1/dev-1/status"),
                &ctx
            ),
            Decision::Allow
        );
        assert_eq!(
            evaluate(
                [&doc],
                "iot:Publish",
                &topic("fleetid/v1/dev-2/status"),
                &ctx
            ),
            Decision::ImplicitDeny
        );
        assert_eq!(
            evaluate(
                [&doc],
                "iot:Subscribe",
                &topic("fleetid/v1/dev-1/status"),
                &ctx
            ),
            Decision::ImplicitDeny
        );
        let no_thing = PolicyContext {
            client_id: "dev-1",
            thing_name: None,
        };
        assert_eq!(
            evaluate(
                [&doc],
                "iot:Connect",
                "arn:aws:iot:us-east-1:123456789012:client/dev-1",
                &no_thing
            ),
            Decision::ImplicitDeny
        );
    }

    #[test]
    fn explicit_deny_beats_allow() {
        let allow = PolicyDocument::parse(DEVICE).unwrap();
        let deny = PolicyDocument::parse(DENY_ALL).unwrap();
        let ctx = PolicyContext {
            client_id: "dev-1",
            thing_name: Some("dev-1"),
        };
        let resource = "arn:aws:iot:us-east-1:123456789012:topic/fleetid/v1/dev-1/status";
        assert_eq!(
            evaluate([&allow, &deny], "iot:Publish", resource, &ctx),
            Decision::ExplicitDeny
        );
    }

    #[test]
    fn malformed_documents_are_refused() {
        assert!(PolicyDocument::parse("{").is_err());
        assert!(
            PolicyDocument::parse(
                r#"{"Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}"#
            )
            .is_err()
        );
        assert!(
            PolicyDocument::parse(r#"{"Statement":[{"Effect":"Allow","Resource":"*"}]}"#).is_err()
        );
    }
}
