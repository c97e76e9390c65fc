//! CloudWatch's GetMetricData over the lab's [`Metrics`](crate::metrics::Metrics), in the
//! protocol aws-sdk-cloudwatch speaks (smithy RPC v2 CBOR):
//! `POST /service/GraniteServiceVersion20100801/operation/GetMetricData`. Queries are a
//! `MetricStat` (namespace, name, dimensions, period, statistic) or an expression of the forms
//! [`search`] evaluates; every series comes back in one page, `StatusCode` `Complete`.

mod cbor;
pub mod search;

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::post;
use ciborium::Value;

use super::ApiState;
use crate::metrics::{MetricId, Metrics, NAMESPACE, Statistic};
use cbor::{Cbor, CborError};
use search::Search;

/// GetMetricData's limit on queries per call.
const MAX_QUERIES: usize = 500;

/// Where every CloudWatch operation is posted.
pub(super) const PATH_PREFIX: &str = "/service/GraniteServiceVersion20100801/";

pub(super) fn routes() -> Router<ApiState> {
    Router::new().route(
        "/service/GraniteServiceVersion20100801/operation/{operation}",
        post(operation),
    )
}

/// The answer to a request not signed with the lab's credentials.
pub(super) fn invalid_client_token(message: String) -> CborError {
    CborError::invalid_client_token(message)
}

async fn operation(
    State(state): State<ApiState>,
    Path(operation): Path<String>,
    body: Bytes,
) -> Result<Cbor, CborError> {
    match operation.as_str() {
        "GetMetricData" => get_metric_data(&state.metrics, &body).map(Cbor),
        other => Err(CborError::unknown_operation(other)),
    }
}

/// One series of an answer.
struct Series {
    id: String,
    label: String,
    points: Vec<(i64, f64)>,
}

/// GetMetricData: the request's CBOR map in, the answer's out.
///
/// # Errors
/// A request that is not a CBOR map, misses a required member, or asks for what the lab
/// does not evaluate.
pub fn get_metric_data(metrics: &Metrics, body: &[u8]) -> Result<Value, CborError> {
    let request: Value = ciborium::de::from_reader(body)
        .map_err(|e| CborError::invalid_parameter(format!("the request is not CBOR: {e}")))?;
    let queries = cbor::member(&request, "MetricDataQueries")
        .and_then(Value::as_array)
        .ok_or_else(|| CborError::missing_parameter("MetricDataQueries is required"))?;
    if queries.is_empty() || queries.len() > MAX_QUERIES {
        return Err(CborError::invalid_parameter(format!(
            "MetricDataQueries must have 1 to {MAX_QUERIES} members, not {}",
            queries.len()
        )));
    }
    let from = cbor::timestamp(&request, "StartTime")
        .ok_or_else(|| CborError::missing_parameter("StartTime is required"))?;
    let to = cbor::timestamp(&request, "EndTime")
        .ok_or_else(|| CborError::missing_parameter("EndTime is required"))?;
    if from >= to {
        return Err(CborError::invalid_parameter(
            "StartTime must be before EndTime",
        ));
    }
    let ascending = cbor::text(&request, "ScanBy") == Some("TimestampAscending");

    let mut results = Vec::new();
    for query in queries {
        let id = cbor::text(query, "Id")
            .ok_or_else(|| CborError::missing_parameter("every query needs an Id"))?;
        let series = evaluate(metrics, query, id, from, to)?;
        let returned = cbor::member(query, "ReturnData")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        if !returned {
            continue;
        }
        let label = cbor::text(query, "Label");
        for mut s in series {
            if ascending {
                s.points.sort_by_key(|(t, _)| *t);
            } else {
                s.points.sort_by_key(|(t, _)| std::cmp::Reverse(*t));
            }
            results.push(cbor::map(vec![
                ("Id", Value::Text(s.id)),
                ("Label", Value::Text(label.map_or(s.label, str::to_owned))),
                (
                    "Timestamps",
                    Value::Array(s.points.iter().map(|(t, _)| cbor::epoch(*t)).collect()),
                ),
                (
                    "Values",
                    Value::Array(s.points.iter().map(|(_, v)| Value::Float(*v)).collect()),
                ),
                ("StatusCode", Value::Text("Complete".into())),
                ("Messages", Value::Array(Vec::new())),
            ]));
        }
    }
    Ok(cbor::map(vec![
        ("MetricDataResults", Value::Array(results)),
        ("Messages", Value::Array(Vec::new())),
    ]))
}

/// The series of one query.
fn evaluate(
    metrics: &Metrics,
    query: &Value,
    id: &str,
    from: i64,
    to: i64,
) -> Result<Vec<Series>, CborError> {
    if let Some(stat) = cbor::member(query, "MetricStat") {
        return metric_stat(metrics, stat, id, from, to).map(|s| vec![s]);
    }
    let expression = cbor::text(query, "Expression").ok_or_else(|| {
        CborError::missing_parameter(format!("query {id} needs MetricStat or Expression"))
    })?;
    let search = Search::parse(expression).map_err(CborError::invalid_parameter)?;
    let found: Vec<MetricId> = metrics
        .list()
        .into_iter()
        .filter(|m| search.matches(NAMESPACE, m))
        .collect();
    let series = found.iter().map(|metric| Series {
        id: id.to_owned(),
        label: std::iter::once(metric.name.as_str())
            .chain(metric.dimensions.iter().map(|(_, v)| v.as_str()))
            .collect::<Vec<_>>()
            .join(" "),
        points: metrics.statistics(metric, search.statistic, search.period, from, to),
    });
    if !search.summed {
        return Ok(series.collect());
    }
    let mut sums: BTreeMap<i64, f64> = BTreeMap::new();
    for s in series {
        for (t, v) in s.points {
            *sums.entry(t).or_default() += v;
        }
    }
    Ok(vec![Series {
        id: id.to_owned(),
        label: id.to_owned(),
        points: sums.into_iter().collect(),
    }])
}

fn metric_stat(
    metrics: &Metrics,
    stat: &Value,
    id: &str,
    from: i64,
    to: i64,
) -> Result<Series, CborError> {
    let missing = |what: &str| CborError::missing_parameter(format!("query {id}: {what}"));
    let metric = cbor::member(stat, "Metric").ok_or_else(|| missing("MetricStat.Metric"))?;
    let name = cbor::text(metric, "MetricName").ok_or_else(|| missing("Metric.MetricName"))?;
    let namespace = cbor::text(metric, "Namespace").ok_or_else(|| missing("Metric.Namespace"))?;
    let dimensions: Vec<(&str, &str)> = cbor::member(metric, "Dimensions")
        .and_then(Value::as_array)
        .map(|ds| {
            ds.iter()
                .filter_map(|d| Some((cbor::text(d, "Name")?, cbor::text(d, "Value")?)))
                .collect()
        })
        .unwrap_or_default();
    let period = cbor::integer(stat, "Period").ok_or_else(|| missing("MetricStat.Period"))?;
    let statistic_name = cbor::text(stat, "Stat").ok_or_else(|| missing("MetricStat.Stat"))?;
    let statistic = Statistic::parse(statistic_name).ok_or_else(|| {
        CborError::invalid_parameter(format!(
            "query {id}: the lab keeps Sum, SampleCount, Average, Minimum and Maximum, not {statistic_name:?}"
        ))
    })?;
    let points = if namespace == NAMESPACE {
        metrics.statistics(
            &MetricId::new(name, &dimensions),
            statistic,
            period,
            from,
            to,
        )
    } else {
        Vec::new()
    };
    Ok(Series {
        id: id.to_owned(),
        label: name.to_owned(),
        points,
    })
}
