use asdlc_metrics_naming::base_unit;

use super::Format;
use crate::MetricKind;
use crate::metric::Exemplar;

/// Writes families and samples in the text format, adding the registry's
/// `service` label to every series.
///
/// A `TextWriter` is handed to [`Collector`](crate::Collector)s (through
/// [`CollectorOutput`](crate::CollectorOutput)) and to
/// [`Metric::encode`](crate::Metric::encode); users rarely touch it directly.
///
/// ```
/// use asdlc_metrics::MetricKind;
/// use asdlc_metrics::encoding::TextWriter;
///
/// let mut buf = Vec::new();
/// let mut w = TextWriter::new(&mut buf, "orchestrator");
/// let mut family = w.family("asdlc_demo_total", "A demo counter.", MetricKind::Counter);
/// family.sample("", &[("kind", "a")], 3.0);
/// let text = String::from_utf8(buf).unwrap();
/// let lines: Vec<&str> = text.lines().collect();
/// assert_eq!(lines, [
///     "# HELP asdlc_demo_total A demo counter.",
///     "# TYPE asdlc_demo_total counter",
///     r#"asdlc_demo_total{service="orchestrator",kind="a"} 3"#,
/// ]);
/// ```
pub struct TextWriter<'a> {
    buf: &'a mut Vec<u8>,
    /// `service="name"`, escaped once per scrape.
    service_label: String,
    format: Format,
}

impl<'a> TextWriter<'a> {
    /// Starts writing text 0.0.4 into `buf`; every series gets
    /// `service="<service>"`.
    pub fn new(buf: &'a mut Vec<u8>, service: &str) -> Self {
        Self::with_format(buf, service, Format::Text)
    }

    /// Starts writing `format` into `buf`.
    ///
    /// ```
    /// use asdlc_metrics::MetricKind;
    /// use asdlc_metrics::encoding::{Format, TextWriter};
    ///
    /// let mut buf = Vec::new();
    /// let mut w = TextWriter::with_format(&mut buf, "svc", Format::OpenMetrics);
    /// w.family("asdlc_jobs_total", "Jobs.", MetricKind::Counter).sample("", &[], 2.0);
    /// assert_eq!(
    ///     String::from_utf8(buf).unwrap(),
    ///     "# HELP asdlc_jobs Jobs.\n# TYPE asdlc_jobs counter\nasdlc_jobs_total{service=\"svc\"} 2\n"
    /// );
    /// ```
    pub fn with_format(buf: &'a mut Vec<u8>, service: &str, format: Format) -> Self {
        let mut service_label = String::with_capacity(service.len() + 10);
        service_label.push_str("service=\"");
        escape_label_value_into(&mut service_label, service);
        service_label.push('"');
        TextWriter {
            buf,
            service_label,
            format,
        }
    }

    /// The format being written.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether this is OpenMetrics, the format with exemplars.
    #[inline]
    pub(crate) fn openmetrics(&self) -> bool {
        self.format == Format::OpenMetrics
    }

    /// Ends the exposition: OpenMetrics' `# EOF` line (nothing in text
    /// 0.0.4).
    pub(crate) fn finish(&mut self) {
        if self.format == Format::OpenMetrics {
            self.buf.extend_from_slice(b"# EOF\n");
        }
    }

    /// Bytes written so far; [`TextWriter::truncate`] rolls back to such a mark.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// Appends bytes written by another writer of the same format.
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Drops everything written after `mark` (used to discard the output of a
    /// failing collector).
    pub(crate) fn truncate(&mut self, mark: usize) {
        self.buf.truncate(mark);
    }

    /// Writes the `# HELP` and `# TYPE` lines of a family and returns a writer
    /// for its samples.
    pub fn family<'w>(
        &'w mut self,
        name: &'w str,
        help: &str,
        kind: MetricKind,
    ) -> FamilyWriter<'w, 'a> {
        self.header(name, help, kind);
        FamilyWriter { writer: self, name }
    }

    pub(crate) fn header(&mut self, name: &str, help: &str, kind: MetricKind) {
        self.header_raw(name, help, kind.as_str());
    }

    /// A header with any type word (`summary` and `untyped` come from
    /// prometheus crate collectors).
    ///
    /// In OpenMetrics a counter family is named without `_total` (its
    /// samples keep it), `untyped` is `unknown`, and a name ending in a base
    /// unit gets a `# UNIT` line.
    pub(crate) fn header_raw(&mut self, name: &str, help: &str, kind: &str) {
        let openmetrics = self.format == Format::OpenMetrics;
        let (family, kind) = match (openmetrics, kind) {
            (true, "counter") => (name.strip_suffix("_total").unwrap_or(name), kind),
            (true, "untyped") => (name, "unknown"),
            _ => (name, kind),
        };
        let buf = &mut *self.buf;
        buf.extend_from_slice(b"# HELP ");
        buf.extend_from_slice(family.as_bytes());
        buf.push(b' ');
        escape_help_into(buf, help, openmetrics);
        buf.extend_from_slice(b"\n# TYPE ");
        buf.extend_from_slice(family.as_bytes());
        buf.push(b' ');
        buf.extend_from_slice(kind.as_bytes());
        buf.push(b'\n');
        if let Some(unit) = openmetrics.then(|| base_unit(family)).flatten() {
            buf.extend_from_slice(b"# UNIT ");
            buf.extend_from_slice(family.as_bytes());
            buf.push(b' ');
            buf.extend_from_slice(unit.as_bytes());
            buf.push(b'\n');
        }
    }

    /// Writes `name` + `suffix` + `{service="…"` + `labels` (pre-rendered,
    /// each pair preceded by a comma) + optional `le` + `} ` and leaves the
    /// value to the caller.
    #[inline]
    pub(crate) fn series_head(&mut self, name: &str, suffix: &str, labels: &str, le: Option<&str>) {
        let buf = &mut *self.buf;
        buf.extend_from_slice(name.as_bytes());
        buf.extend_from_slice(suffix.as_bytes());
        buf.push(b'{');
        buf.extend_from_slice(self.service_label.as_bytes());
        buf.extend_from_slice(labels.as_bytes());
        if let Some(le) = le {
            buf.extend_from_slice(b",le=\"");
            buf.extend_from_slice(le.as_bytes());
            buf.push(b'"');
        }
        buf.extend_from_slice(b"} ");
    }

    #[inline]
    pub(crate) fn value_u64(&mut self, v: u64) {
        let mut b = itoa::Buffer::new();
        self.buf.extend_from_slice(b.format(v).as_bytes());
        self.buf.push(b'\n');
    }

    /// A count followed, in OpenMetrics, by `exemplar` if there is one:
    /// ` # {trace_id="…",span_id="…"} <value> <unix seconds>`.
    #[inline]
    pub(crate) fn value_u64_exemplar(&mut self, v: u64, exemplar: Option<Exemplar>) {
        let mut b = itoa::Buffer::new();
        self.buf.extend_from_slice(b.format(v).as_bytes());
        if let Some(exemplar) = exemplar.filter(|_| self.format == Format::OpenMetrics) {
            self.buf.extend_from_slice(b" # {");
            exemplar.trace.write_labels(self.buf);
            self.buf.extend_from_slice(b"} ");
            write_f64(self.buf, exemplar.value);
            self.buf.push(b' ');
            let mut t = ryu::Buffer::new();
            self.buf
                .extend_from_slice(t.format(exemplar.unix_seconds()).as_bytes());
        }
        self.buf.push(b'\n');
    }

    #[inline]
    pub(crate) fn value_i64(&mut self, v: i64) {
        let mut b = itoa::Buffer::new();
        self.buf.extend_from_slice(b.format(v).as_bytes());
        self.buf.push(b'\n');
    }

    #[inline]
    pub(crate) fn value_f64(&mut self, v: f64) {
        write_f64(self.buf, v);
        self.buf.push(b'\n');
    }
}

/// Writes the samples of one family; obtained from [`TextWriter::family`].
pub struct FamilyWriter<'w, 'a> {
    writer: &'w mut TextWriter<'a>,
    name: &'w str,
}

impl FamilyWriter<'_, '_> {
    /// Writes one sample: the family name plus `suffix` (`""`, `"_bucket"`,
    /// `"_sum"`, `"_count"`), the service label, `labels` (escaped here) and
    /// the value.
    pub fn sample(&mut self, suffix: &str, labels: &[(&str, &str)], value: f64) {
        let rendered = LabelRender::from_pairs(labels);
        self.writer
            .series_head(self.name, suffix, rendered.as_str(), None);
        self.writer.value_f64(value);
    }

    /// Writes a whole histogram series from cumulative bucket counts
    /// (`(upper bound, cumulative count)`, without `+Inf`), the sum and the
    /// total count.
    pub fn histogram(
        &mut self,
        labels: &[(&str, &str)],
        buckets: &[(f64, u64)],
        sum: f64,
        count: u64,
    ) {
        let rendered = LabelRender::from_pairs(labels);
        for &(bound, cumulative) in buckets {
            let le = f64_to_string(bound);
            self.writer
                .series_head(self.name, "_bucket", rendered.as_str(), Some(&le));
            self.writer.value_u64(cumulative);
        }
        self.writer
            .series_head(self.name, "_bucket", rendered.as_str(), Some("+Inf"));
        self.writer.value_u64(count);
        self.writer
            .series_head(self.name, "_sum", rendered.as_str(), None);
        self.writer.value_f64(sum);
        self.writer
            .series_head(self.name, "_count", rendered.as_str(), None);
        self.writer.value_u64(count);
    }
}

/// A label set rendered once as `,a="x",b="y"` so that every later scrape
/// copies it instead of escaping it again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LabelRender(Box<str>);

impl LabelRender {
    /// Renders `names` paired with `values` (same length, checked by the caller).
    pub(crate) fn new<N: AsRef<str>, V: AsRef<str>>(names: &[N], values: &[V]) -> Self {
        Self::render(
            names
                .iter()
                .zip(values)
                .map(|(n, v)| (n.as_ref(), v.as_ref())),
        )
    }

    /// Renders pairs into a string allocated once at its final size (the
    /// usual case, nothing to escape): no growth and no shrinking copy per
    /// series, and a family's series lie close together on the heap, which
    /// a scrape walking a million of them notices.
    fn render<'p>(pairs: impl Iterator<Item = (&'p str, &'p str)> + Clone) -> Self {
        let len = pairs.clone().map(|(n, v)| n.len() + v.len() + 4).sum();
        let mut s = String::with_capacity(len);
        for (n, v) in pairs {
            s.push(',');
            s.push_str(n);
            s.push_str("=\"");
            escape_label_value_into(&mut s, v);
            s.push('"');
        }
        LabelRender(s.into_boxed_str())
    }

    /// This label set followed by the `(name, value)` pairs of `extra`.
    pub(crate) fn with_extra(self, extra: &[(&str, &str)]) -> Self {
        if extra.is_empty() {
            return self;
        }
        let mut s = String::from(self.0);
        s.push_str(LabelRender::from_pairs(extra).as_str());
        LabelRender(s.into_boxed_str())
    }

    /// Renders `(name, value)` pairs.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Self::render(pairs.iter().copied())
    }

    /// The rendered text, starting with a comma unless empty.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the rendering of exactly these `(name, value)`
    /// pairs, compared in place: families keep no second copy of the
    /// values to find a series again.
    pub(crate) fn matches<'p>(&self, pairs: impl Iterator<Item = (&'p str, &'p str)>) -> bool {
        let mut rest = self.0.as_bytes();
        for (name, value) in pairs {
            let Some(after) = strip_pair(rest, name, value) else {
                return false;
            };
            rest = after;
        }
        rest.is_empty()
    }
}

/// `text` after a leading `,name="value"` (value escaped), if it starts so.
fn strip_pair<'t>(text: &'t [u8], name: &str, value: &str) -> Option<&'t [u8]> {
    let mut rest = text
        .strip_prefix(b",")?
        .strip_prefix(name.as_bytes())?
        .strip_prefix(b"=\"")?;
    if value.contains(['\\', '"', '\n']) {
        for b in value.bytes() {
            let escaped: &[u8] = match b {
                b'\\' => b"\\\\",
                b'"' => b"\\\"",
                b'\n' => b"\\n",
                _ => std::slice::from_ref(&b),
            };
            rest = rest.strip_prefix(escaped)?;
        }
    } else {
        rest = rest.strip_prefix(value.as_bytes())?;
    }
    rest.strip_prefix(b"\"")
}

/// Escapes a label value: backslash, double quote and line feed.
pub(crate) fn escape_label_value_into(out: &mut String, value: &str) {
    if !value.contains(['\\', '"', '\n']) {
        out.push_str(value);
        return;
    }
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Escapes HELP text: backslash and line feed, and in OpenMetrics (where
/// HELP is an escaped string like a label value) the double quote.
fn escape_help_into(out: &mut Vec<u8>, help: &str, openmetrics: bool) {
    for b in help.bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'"' if openmetrics => out.extend_from_slice(b"\\\""),
            b => out.push(b),
        }
    }
}

/// Formats a float the way Prometheus' Go client does for the common cases:
/// integral values without a fraction (`1`, not `1.0`, which matters for `le`
/// labels: `le="1"` and `le="1.0"` would be different series), `+Inf`,
/// `-Inf`, `NaN`, and the shortest round-tripping form otherwise.
pub(crate) fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        let mut b = itoa::Buffer::new();
        // The range check above makes the cast exact.
        #[allow(clippy::cast_possible_truncation)]
        out.extend_from_slice(b.format(v as i64).as_bytes());
    } else {
        let mut b = ryu::Buffer::new();
        out.extend_from_slice(b.format_finite(v).as_bytes());
    }
}

/// [`write_f64`] into a `String`.
pub(crate) fn f64_to_string(v: f64) -> String {
    let mut tmp = Vec::with_capacity(24);
    write_f64(&mut tmp, v);
    // write_f64 only ever writes ASCII, so this never falls back.
    String::from_utf8(tmp).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_format_like_the_go_client() {
        for (v, s) in [
            (1.0, "1"),
            (0.005, "0.005"),
            (2.5, "2.5"),
            (10.0, "10"),
            (-3.0, "-3"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
            (1e20, "1e20"),
        ] {
            assert_eq!(f64_to_string(v), s);
        }
    }

    #[test]
    fn label_values_are_escaped() {
        let r = LabelRender::new(&["a", "b"], &["x\"y", "back\\slash\nnl"]);
        assert_eq!(r.as_str(), r#",a="x\"y",b="back\\slash\nnl""#);
    }

    #[test]
    fn a_rendering_matches_exactly_its_own_pairs() {
        let r = LabelRender::new(&["a", "b"], &["x\"y", "back\\slash\nnl"]);
        assert!(r.matches([("a", "x\"y"), ("b", "back\\slash\nnl")].into_iter()));
        assert!(
            !r.matches([("a", "x\"y")].into_iter()),
            "a prefix is not a match"
        );
        assert!(!r.matches([("a", "x\"y"), ("b", "back\\slash\nnl"), ("c", "")].into_iter()));
        assert!(!r.matches([("a", "x\"y"), ("b", "back\\slash")].into_iter()));
        assert!(!r.matches([("a", "x"), ("b", "back\\slash\nnl")].into_iter()));
        assert!(LabelRender::default().matches(std::iter::empty()));
    }

    #[test]
    fn help_is_escaped() {
        let mut buf = Vec::new();
        let mut w = TextWriter::new(&mut buf, "s\"vc");
        w.family("x", "line\\one\ntwo", MetricKind::Gauge)
            .sample("", &[], 1.5);
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "# HELP x line\\\\one\\ntwo\n# TYPE x gauge\nx{service=\"s\\\"vc\"} 1.5\n"
        );
    }
}

#[cfg(test)]
mod openmetrics_tests {
    use super::*;

    #[test]
    fn headers_follow_openmetrics() {
        let mut buf = Vec::new();
        let mut w = TextWriter::with_format(&mut buf, "s", Format::OpenMetrics);
        w.family("asdlc_jobs_total", "Jobs \"run\".", MetricKind::Counter)
            .sample("", &[], 1.0);
        w.family("asdlc_cpu_seconds_total", "CPU.", MetricKind::Counter)
            .sample("", &[], 2.0);
        w.family("asdlc_memory_bytes", "Memory.", MetricKind::Gauge)
            .sample("", &[], 3.0);
        w.header_raw("legacy", "Untyped.", "untyped");
        w.finish();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "# HELP asdlc_jobs Jobs \\\"run\\\".\n# TYPE asdlc_jobs counter\nasdlc_jobs_total{service=\"s\"} 1\n\
             # HELP asdlc_cpu_seconds CPU.\n# TYPE asdlc_cpu_seconds counter\n# UNIT asdlc_cpu_seconds seconds\nasdlc_cpu_seconds_total{service=\"s\"} 2\n\
             # HELP asdlc_memory_bytes Memory.\n# TYPE asdlc_memory_bytes gauge\n# UNIT asdlc_memory_bytes bytes\nasdlc_memory_bytes{service=\"s\"} 3\n\
             # HELP legacy Untyped.\n# TYPE legacy unknown\n# EOF\n"
        );
    }

    #[test]
    fn text_is_unchanged_by_the_openmetrics_rules() {
        let mut buf = Vec::new();
        let mut w = TextWriter::new(&mut buf, "s");
        w.family("asdlc_cpu_seconds_total", "CPU \"x\".", MetricKind::Counter)
            .sample("", &[], 2.0);
        w.finish();
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "# HELP asdlc_cpu_seconds_total CPU \"x\".\n# TYPE asdlc_cpu_seconds_total counter\nasdlc_cpu_seconds_total{service=\"s\"} 2\n"
        );
    }
}
