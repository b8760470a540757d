//! Text encoding of the `prometheus` crate's metric model, for metrics and
//! collectors of that crate registered in an asdlc-metrics registry.

use prometheus::proto::{MetricFamily, MetricType};

use super::{Format, LabelRender, TextWriter, f64_to_string};

/// Writes one family gathered from a `prometheus` collector. Any `service`
/// label it carries is dropped: the registry's own `service` label wins, so
/// the series never carries the label twice.
pub(crate) fn write_proto_family(family: &MetricFamily, out: &mut TextWriter<'_>) {
    if family.get_metric().is_empty() {
        return;
    }
    let name = family.name();
    let kind = match family.get_field_type() {
        MetricType::COUNTER => "counter",
        MetricType::GAUGE => "gauge",
        MetricType::SUMMARY => "summary",
        MetricType::UNTYPED => "untyped",
        MetricType::HISTOGRAM => "histogram",
    };
    out.header_raw(name, family.help(), kind);
    for metric in family.get_metric() {
        let pairs: Vec<(&str, &str)> = metric
            .get_label()
            .iter()
            .filter(|p| p.name() != "service")
            .map(|p| (p.name(), p.value()))
            .collect();
        let labels = LabelRender::from_pairs(&pairs);
        let labels = labels.as_str();
        match family.get_field_type() {
            MetricType::COUNTER => {
                // OpenMetrics names counter samples `<family>_total`; the
                // prometheus crate allows counters without the suffix.
                let suffix = if out.format() == Format::OpenMetrics && !name.ends_with("_total") {
                    "_total"
                } else {
                    ""
                };
                out.series_head(name, suffix, labels, None);
                out.value_f64(metric.get_counter().get_value());
            }
            MetricType::GAUGE => {
                out.series_head(name, "", labels, None);
                out.value_f64(metric.get_gauge().get_value());
            }
            MetricType::UNTYPED => {
                // Deprecated in the model, but a custom collector may still
                // produce it; export what it says.
                #[allow(deprecated)]
                let value = metric.get_untyped().get_value();
                out.series_head(name, "", labels, None);
                out.value_f64(value);
            }
            MetricType::HISTOGRAM => {
                let h = metric.get_histogram();
                for b in h.get_bucket() {
                    if b.upper_bound().is_infinite() {
                        continue;
                    }
                    out.series_head(
                        name,
                        "_bucket",
                        labels,
                        Some(&f64_to_string(b.upper_bound())),
                    );
                    out.value_u64(b.cumulative_count());
                }
                out.series_head(name, "_bucket", labels, Some("+Inf"));
                out.value_u64(h.get_sample_count());
                out.series_head(name, "_sum", labels, None);
                out.value_f64(h.get_sample_sum());
                out.series_head(name, "_count", labels, None);
                out.value_u64(h.get_sample_count());
            }
            MetricType::SUMMARY => {
                let s = metric.get_summary();
                for q in s.get_quantile() {
                    let mut with_q = labels.to_owned();
                    with_q.push_str(",quantile=\"");
                    with_q.push_str(&f64_to_string(q.quantile()));
                    with_q.push('"');
                    out.series_head(name, "", &with_q, None);
                    out.value_f64(q.value());
                }
                out.series_head(name, "_sum", labels, None);
                out.value_f64(s.sample_sum());
                out.series_head(name, "_count", labels, None);
                out.value_u64(s.sample_count());
            }
        }
    }
}
