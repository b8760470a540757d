//! Scoping every query to a set of services, so a dashboard for one service
//! cannot read another's series: VictoriaMetrics' `extra_filters[]`, which
//! it applies to every series selector of the query, whatever the query
//! itself says.

/// The parameter VictoriaMetrics reads; several are ORed among themselves.
const EXTRA_FILTERS: &str = "extra_filters[]";

/// The `extra_filters[]` parameters for `services`: one
/// `{service="<name>"}` each (none for an empty list, which is no scope).
pub(crate) fn filters(services: &[String]) -> Vec<(&'static str, String)> {
    services
        .iter()
        .map(|service| {
            (
                EXTRA_FILTERS,
                format!("{{service=\"{}\"}}", escape(service)),
            )
        })
        .collect()
}

/// `value` as the inside of a PromQL double-quoted string — the escapes of
/// a label value in the text format — so a service name cannot end the
/// selector and add its own matchers.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    crate::encoding::escape_label_value_into(&mut out, value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_filter_per_service_quoted() {
        assert!(filters(&[]).is_empty());
        assert_eq!(
            filters(&["orchestrator".into(), r#"a"}or{x="\"#.into()]),
            [
                (EXTRA_FILTERS, r#"{service="orchestrator"}"#.to_owned()),
                (EXTRA_FILTERS, r#"{service="a\"}or{x=\"\\"}"#.to_owned()),
            ]
        );
    }
}
