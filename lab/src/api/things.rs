//! Things, thing groups and thing principals.

use std::collections::BTreeMap;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, put};
use bytes::Bytes;
use serde_json::{Value, json};

use super::wire::{
    Paging, Query, answer, body, epoch, flag, number, principal, query_page, string,
};
use super::{Api, ApiError, ApiState};
use crate::registry::{GroupProperties, GroupRecord, ThingRecord};

pub(super) fn routes() -> Router<ApiState> {
    Router::new()
        .route("/things", get(list_things))
        .route("/things/{name}", get(describe_thing).post(create_thing))
        .route(
            "/things/{name}/principals",
            get(list_thing_principals)
                .put(attach_principal)
                .delete(detach_principal),
        )
        .route("/things/{name}/thing-groups", get(list_groups_for_thing))
        .route("/principals/things", get(list_principal_things))
        .route("/thing-groups", get(list_groups))
        .route("/thing-groups/addThingToThingGroup", put(add_to_group))
        .route(
            "/thing-groups/removeThingFromThingGroup",
            put(remove_from_group),
        )
        .route(
            "/thing-groups/{name}",
            get(describe_group).post(create_group),
        )
        .route("/thing-groups/{name}/things", get(list_things_in_group))
}

fn thing_attribute(t: &ThingRecord) -> Value {
    json!({
        "thingName": t.name,
        "thingTypeName": t.thing_type,
        "thingArn": t.arn,
        "attributes": t.attributes,
        "version": t.version,
    })
}

/// The string members of a JSON object (`attributes`).
fn string_map(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

fn group_name_and_arn(g: &GroupRecord) -> Value {
    json!({ "groupName": g.name, "groupArn": g.arn })
}

async fn list_things(State(api): Api, query: Query) -> Result<Json<Value>, ApiError> {
    let attribute = match (query.get("attributeName"), query.get("attributeValue")) {
        (Some(k), Some(v)) => Some((k.as_str(), v.as_str())),
        _ => None,
    };
    let (things, next) = api.registry.list_things(
        attribute,
        query.get("nextToken").map(String::as_str),
        number(&query, "maxResults")?,
    )?;
    Ok(answer(json!({
        "things": things.iter().map(thing_attribute).collect::<Vec<_>>(),
        "nextToken": next,
    })))
}

async fn describe_thing(
    State(api): Api,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let t = api.registry.thing(&name)?;
    Ok(answer(json!({
        "defaultClientId": t.name,
        "thingName": t.name,
        "thingId": t.id,
        "thingArn": t.arn,
        "thingTypeName": t.thing_type,
        "attributes": t.attributes,
        "version": t.version,
    })))
}

async fn create_thing(
    State(api): Api,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request = body(&bytes)?;
    let attributes = string_map(request.pointer("/attributePayload/attributes"));
    let t = api
        .registry
        .create_thing(&name, string(&request, "thingTypeName"), attributes)?;
    Ok(answer(
        json!({ "thingName": t.name, "thingArn": t.arn, "thingId": t.id }),
    ))
}

async fn list_thing_principals(
    State(api): Api,
    Path(name): Path<String>,
    query: Query,
) -> Result<Json<Value>, ApiError> {
    let principals: Vec<String> = api.registry.thing(&name)?.principals.into_iter().collect();
    let (items, next) = query_page(&principals, &query, Paging::Token, 25)?;
    Ok(answer(json!({ "principals": items, "nextToken": next })))
}

async fn attach_principal(
    State(api): Api,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    api.registry
        .attach_thing_principal(&name, &principal(&headers)?)?;
    Ok(answer(json!({})))
}

async fn detach_principal(
    State(api): Api,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    api.registry
        .detach_thing_principal(&name, &principal(&headers)?)?;
    Ok(answer(json!({})))
}

async fn list_principal_things(
    State(api): Api,
    headers: HeaderMap,
    query: Query,
) -> Result<Json<Value>, ApiError> {
    let principal = principal(&headers)?;
    api.registry
        .certificate(crate::registry::cert_id_of(&principal))?;
    let things = api.registry.principal_things(&principal);
    let (items, next) = query_page(&things, &query, Paging::Token, 25)?;
    Ok(answer(json!({ "things": items, "nextToken": next })))
}

async fn list_groups(State(api): Api, query: Query) -> Result<Json<Value>, ApiError> {
    let mut groups = api
        .registry
        .groups(None, query.get("namePrefixFilter").map(String::as_str));
    if let Some(parent) = query.get("parentGroup") {
        let recursive = flag(&query, "recursive", true);
        let under: Vec<String> = api.registry.group_descendants(parent, recursive)?;
        groups.retain(|g| under.contains(&g.name));
    }
    let (items, next) = query_page(&groups, &query, Paging::Token, 25)?;
    Ok(answer(json!({
        "thingGroups": items.iter().map(group_name_and_arn).collect::<Vec<_>>(),
        "nextToken": next,
    })))
}

async fn list_groups_for_thing(
    State(api): Api,
    Path(name): Path<String>,
    query: Query,
) -> Result<Json<Value>, ApiError> {
    let thing = api.registry.thing(&name)?;
    let groups: Vec<Value> = thing
        .groups
        .iter()
        .filter_map(|g| api.registry.group(g).ok())
        .map(|g| group_name_and_arn(&g))
        .collect();
    let (items, next) = query_page(&groups, &query, Paging::Token, 25)?;
    Ok(answer(json!({ "thingGroups": items, "nextToken": next })))
}

async fn describe_group(
    State(api): Api,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let g = api.registry.group(&name)?;
    Ok(answer(json!({
        "thingGroupName": g.name,
        "thingGroupId": g.id,
        "thingGroupArn": g.arn,
        "version": 1,
        "thingGroupProperties": {
            "thingGroupDescription": g.properties.description,
            "attributePayload": { "attributes": g.properties.attributes },
        },
        "thingGroupMetadata": {
            "parentGroupName": g.parent,
            "creationDate": epoch(g.created),
        },
    })))
}

async fn create_group(
    State(api): Api,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let request = body(&bytes)?;
    let parent = string(&request, "parentGroupName");
    let properties = GroupProperties {
        description: request
            .pointer("/thingGroupProperties/thingGroupDescription")
            .and_then(Value::as_str)
            .map(str::to_owned),
        attributes: string_map(
            request.pointer("/thingGroupProperties/attributePayload/attributes"),
        ),
    };
    let g = api
        .registry
        .create_group_with(&name, parent.as_deref(), properties)?;
    Ok(answer(
        json!({ "thingGroupName": g.name, "thingGroupArn": g.arn, "thingGroupId": g.id }),
    ))
}

fn membership_target(request: &Value) -> Result<(String, String), ApiError> {
    let group = string(request, "thingGroupName")
        .or_else(|| string(request, "thingGroupArn"))
        .ok_or_else(|| ApiError::invalid("thingGroupName or thingGroupArn is required"))?;
    let thing = string(request, "thingName")
        .or_else(|| string(request, "thingArn"))
        .ok_or_else(|| ApiError::invalid("thingName or thingArn is required"))?;
    Ok((group, thing))
}

async fn add_to_group(State(api): Api, bytes: Bytes) -> Result<Json<Value>, ApiError> {
    let (group, thing) = membership_target(&body(&bytes)?)?;
    api.registry.set_group_membership(&group, &thing, true)?;
    Ok(answer(json!({})))
}

async fn remove_from_group(State(api): Api, bytes: Bytes) -> Result<Json<Value>, ApiError> {
    let (group, thing) = membership_target(&body(&bytes)?)?;
    api.registry.set_group_membership(&group, &thing, false)?;
    Ok(answer(json!({})))
}

async fn list_things_in_group(
    State(api): Api,
    Path(name): Path<String>,
    query: Query,
) -> Result<Json<Value>, ApiError> {
    let things = api
        .registry
        .things_in_group(&name, flag(&query, "recursive", false))?;
    let (items, next) = query_page(&things, &query, Paging::Token, 25)?;
    Ok(answer(json!({ "things": items, "nextToken": next })))
}
