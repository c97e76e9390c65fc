//! The metric math the lab evaluates in GetMetricData: `SEARCH('{Namespace,Dim,...}
//! MetricName="X" Dim="v"', 'Stat', period)`, alone (one result per metric found) or summed
//! with `SUM(SEARCH(...))` — the forms fleetid's console sends. The schema in braces matches
//! metrics with exactly those dimension names; each `Name="value"` term must match exactly.

use crate::metrics::{MetricId, Statistic};

/// A parsed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// The namespace in the schema.
    pub namespace: String,
    /// The schema's dimension names, sorted.
    pub dimension_names: Vec<String>,
    /// `MetricName="..."`, if given.
    pub metric_name: Option<String>,
    /// Other `Name="value"` terms: dimensions that must have that value.
    pub dimension_values: Vec<(String, String)>,
    /// The statistic.
    pub statistic: Statistic,
    /// Seconds per point.
    pub period: i64,
    /// `SUM(...)` around the search: one series, the sum of all found.
    pub summed: bool,
}

impl Search {
    /// Parses an expression; `Err` says what the lab does not understand.
    ///
    /// # Errors
    /// Anything but the forms in the module documentation.
    pub fn parse(expression: &str) -> Result<Self, String> {
        let text = expression.trim();
        let (summed, text) = match strip_call(text, "SUM") {
            Some(inner) => (true, inner.trim()),
            None => (false, text),
        };
        let args = strip_call(text, "SEARCH").ok_or_else(|| {
            format!(
                "the fleetid lab evaluates SEARCH(...) and SUM(SEARCH(...)) only, not {expression:?}"
            )
        })?;
        let (query, rest) = quoted(args).ok_or("SEARCH needs a quoted search expression")?;
        let rest = rest
            .trim_start()
            .strip_prefix(',')
            .ok_or("SEARCH needs a statistic")?;
        let (stat, rest) = quoted(rest).ok_or("SEARCH needs a quoted statistic")?;
        let period = rest
            .trim_start()
            .strip_prefix(',')
            .map(str::trim)
            .and_then(|p| p.parse::<i64>().ok())
            .filter(|p| *p > 0)
            .ok_or("SEARCH needs a period in seconds")?;
        let statistic =
            Statistic::parse(stat).ok_or_else(|| format!("unknown statistic {stat:?}"))?;
        let mut search = Self::parse_query(query)?;
        search.statistic = statistic;
        search.period = period;
        search.summed = summed;
        Ok(search)
    }

    fn parse_query(query: &str) -> Result<Self, String> {
        let query = query.trim();
        let schema = query
            .strip_prefix('{')
            .and_then(|q| q.split_once('}'))
            .ok_or("the search expression needs a schema: {Namespace,DimensionName,...}")?;
        let (schema, terms) = schema;
        let mut names = schema.split(',').map(str::trim);
        let namespace = names.next().unwrap_or_default().to_owned();
        let mut dimension_names: Vec<String> = names.map(str::to_owned).collect();
        dimension_names.sort();
        let mut search = Self {
            namespace,
            dimension_names,
            metric_name: None,
            dimension_values: Vec::new(),
            statistic: Statistic::Sum,
            period: 60,
            summed: false,
        };
        let mut rest = terms.trim();
        while !rest.is_empty() {
            let (name, after) = rest.split_once("=\"").ok_or_else(|| {
                format!("the lab understands Name=\"value\" terms only: {rest:?}")
            })?;
            let (value, after) = after
                .split_once('"')
                .ok_or_else(|| format!("unterminated value in {rest:?}"))?;
            match name.trim() {
                "MetricName" => search.metric_name = Some(value.to_owned()),
                dimension => search
                    .dimension_values
                    .push((dimension.to_owned(), value.to_owned())),
            }
            rest = after.trim_start();
        }
        Ok(search)
    }

    /// Whether `metric` (in `namespace`) is one this search finds.
    #[must_use]
    pub fn matches(&self, namespace: &str, metric: &MetricId) -> bool {
        namespace == self.namespace
            && metric.dimensions.len() == self.dimension_names.len()
            && metric
                .dimensions
                .iter()
                .zip(&self.dimension_names)
                .all(|((name, _), wanted)| name == wanted)
            && self
                .metric_name
                .as_ref()
                .is_none_or(|name| *name == metric.name)
            && self
                .dimension_values
                .iter()
                .all(|wanted| metric.dimensions.contains(wanted))
    }
}

/// `NAME(inner)` → `inner`.
fn strip_call<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.strip_prefix(name)?
        .trim_start()
        .strip_prefix('(')?
        .strip_suffix(')')
}

/// `'text' rest` → `(text, rest)`.
fn quoted(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start().strip_prefix('\'')?;
    text.split_once('\'')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_consoles_summed_search_parses_and_matches_by_schema() {
        let search = Search::parse(
            "SUM(SEARCH('{AWS/IoT,TemplateName} MetricName=\"RegisterThingFailed\"', 'Sum', 3600))",
        )
        .unwrap();
        assert!(search.summed);
        assert_eq!(search.period, 3600);
        assert_eq!(search.statistic, Statistic::Sum);
        let failed = MetricId::new("RegisterThingFailed", &[("TemplateName", "claim")]);
        assert!(search.matches("AWS/IoT", &failed));
        assert!(!search.matches("AWS/Other", &failed));
        assert!(!search.matches(
            "AWS/IoT",
            &MetricId::new("RegisterThingFailed", &[("TemplateName", "t"), ("X", "y")])
        ));
        assert!(!search.matches(
            "AWS/IoT",
            &MetricId::new("Connect.Success", &[("TemplateName", "t")])
        ));
    }

    #[test]
    fn a_bare_search_with_a_dimension_value_and_refusals() {
        let search =
            Search::parse("SEARCH('{AWS/IoT,Protocol} Protocol=\"MQTT\"', 'Maximum', 60)").unwrap();
        assert!(!search.summed);
        assert!(search.matches(
            "AWS/IoT",
            &MetricId::new("Connect.Success", &[("Protocol", "MQTT")])
        ));
        assert!(!search.matches(
            "AWS/IoT",
            &MetricId::new("Connect.Success", &[("Protocol", "HTTP")])
        ));
        for bad in [
            "m1 + m2",
            "SEARCH('{AWS/IoT} MetricName=\"x\"', 'p99', 60)",
            "SEARCH('{AWS/IoT} MetricName=\"x\"', 'Sum')",
            "SEARCH('AWS/IoT', 'Sum', 60)",
            "AVG(SEARCH('{AWS/IoT} MetricName=\"x\"', 'Sum', 60))",
        ] {
            assert!(Search::parse(bad).is_err(), "{bad}");
        }
    }
}
