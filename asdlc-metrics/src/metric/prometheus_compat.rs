//! Registering metrics of the `prometheus` crate in an asdlc-metrics
//! [`Registry`](crate::Registry) (and as fields of `#[derive(Metrics)]`
//! structs). They export through the same registry with the `service` label,
//! only through the slower gather path of that crate.

use super::{Desc, Metric, MetricKind, Opts};
use crate::Error;
use crate::encoding::TextWriter;
use crate::encoding::write_proto_family;

fn to_prometheus_opts(desc: &Desc) -> prometheus::Opts {
    prometheus::Opts::new(desc.name(), desc.help())
}

fn to_histogram_opts(desc: &Desc) -> prometheus::HistogramOpts {
    prometheus::HistogramOpts {
        common_opts: to_prometheus_opts(desc),
        buckets: desc.buckets().unwrap_or(super::DEFAULT_BUCKETS).to_vec(),
    }
}

fn label_names(desc: &Desc) -> Vec<&str> {
    desc.label_names().iter().map(|l| &**l).collect()
}

fn foreign_desc<T: prometheus::core::Collector>(metric: &T, kind: MetricKind) -> Desc {
    let d = metric.desc();
    let first = d.first();
    Desc::foreign(
        first.map(|d| d.fq_name.clone()).unwrap_or_default(),
        first.map(|d| d.help.clone()).unwrap_or_default(),
        kind,
        first.map(|d| d.variable_labels.clone()).unwrap_or_default(),
    )
}

fn encode_collector<T: prometheus::core::Collector>(metric: &T, out: &mut TextWriter<'_>) {
    for family in metric.collect() {
        write_proto_family(&family, out);
    }
}

macro_rules! prometheus_metric {
    ($($ty:ty => $kind:ident, |$desc:ident| $build:expr;)+) => {$(
        impl Metric for $ty {
            fn from_opts(opts: Opts) -> Result<Self, Error> {
                let $desc = opts.into_desc(MetricKind::$kind)?;
                $build.map_err(|e| Error::Prometheus(e.to_string()))
            }

            fn desc(&self) -> Desc {
                foreign_desc(self, MetricKind::$kind)
            }

            fn encode(&self, out: &mut TextWriter<'_>) {
                encode_collector(self, out);
            }
        }
    )+};
}

/// Single-series prometheus types take no labels.
fn no_labels(desc: &Desc) -> Result<(), prometheus::Error> {
    if desc.label_names().is_empty() {
        Ok(())
    } else {
        Err(prometheus::Error::Msg(format!(
            "{} is a single series; use the ...Vec type for labels",
            desc.name()
        )))
    }
}

prometheus_metric! {
    prometheus::Counter => Counter, |d| no_labels(&d).and_then(|()| prometheus::Counter::with_opts(to_prometheus_opts(&d)));
    prometheus::IntCounter => Counter, |d| no_labels(&d).and_then(|()| prometheus::IntCounter::with_opts(to_prometheus_opts(&d)));
    prometheus::Gauge => Gauge, |d| no_labels(&d).and_then(|()| prometheus::Gauge::with_opts(to_prometheus_opts(&d)));
    prometheus::IntGauge => Gauge, |d| no_labels(&d).and_then(|()| prometheus::IntGauge::with_opts(to_prometheus_opts(&d)));
    prometheus::Histogram => Histogram, |d| no_labels(&d).and_then(|()| prometheus::Histogram::with_opts(to_histogram_opts(&d)));
    prometheus::CounterVec => Counter, |d| prometheus::CounterVec::new(to_prometheus_opts(&d), &label_names(&d));
    prometheus::IntCounterVec => Counter, |d| prometheus::IntCounterVec::new(to_prometheus_opts(&d), &label_names(&d));
    prometheus::GaugeVec => Gauge, |d| prometheus::GaugeVec::new(to_prometheus_opts(&d), &label_names(&d));
    prometheus::IntGaugeVec => Gauge, |d| prometheus::IntGaugeVec::new(to_prometheus_opts(&d), &label_names(&d));
    prometheus::HistogramVec => Histogram, |d| prometheus::HistogramVec::new(to_histogram_opts(&d), &label_names(&d));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_vec_exports_with_service_label() {
        let v =
            prometheus::IntCounterVec::from_opts(Opts::new("p_total", "P.").labels(["a"])).unwrap();
        v.with_label_values(&["x"]).inc_by(3);
        let mut buf = Vec::new();
        v.encode(&mut TextWriter::new(&mut buf, "svc"));
        let text = String::from_utf8(buf).unwrap();
        assert!(text.contains("# TYPE p_total counter\n"), "{text}");
        assert!(
            text.contains("p_total{service=\"svc\",a=\"x\"} 3\n"),
            "{text}"
        );
        assert_eq!(v.desc().label_names(), ["a"]);
    }

    #[test]
    fn naming_rules_apply_to_prometheus_types_too() {
        assert!(prometheus::IntCounter::from_opts(Opts::new("no_suffix", "x")).is_err());
        assert!(
            prometheus::IntCounter::from_opts(Opts::new("x_total", "x").labels(["a"])).is_err()
        );
    }
}
