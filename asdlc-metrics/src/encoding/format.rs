//! The two exposition formats and the choice between them by `Accept`.

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Prometheus text format 0.0.4: what every client reads, the default.
    #[default]
    Text,
    /// OpenMetrics 1.0.0 text: the format that carries exemplars.
    OpenMetrics,
}

impl Format {
    /// The `Content-Type` of an answer in this format.
    ///
    /// ```
    /// use asdlc_metrics::encoding::Format;
    ///
    /// assert_eq!(Format::Text.content_type(), "text/plain; version=0.0.4; charset=utf-8");
    /// assert_eq!(
    ///     Format::OpenMetrics.content_type(),
    ///     "application/openmetrics-text; version=1.0.0; charset=utf-8"
    /// );
    /// ```
    pub const fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }

    /// The format to answer a request with this `Accept` header in:
    /// OpenMetrics when `application/openmetrics-text` (version 1.0.0 or
    /// none given) is accepted with a q-value above zero and at least as
    /// high as text's (`text/plain`, `text/*` or `*/*`); text 0.0.4
    /// otherwise, and without the header.
    ///
    /// ```
    /// use asdlc_metrics::encoding::Format;
    ///
    /// // What Prometheus sends:
    /// let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    /// assert_eq!(Format::negotiate(Some(prometheus)), Format::OpenMetrics);
    /// assert_eq!(Format::negotiate(None), Format::Text);
    /// assert_eq!(Format::negotiate(Some("*/*")), Format::Text);
    /// assert_eq!(Format::negotiate(Some("application/openmetrics-text;q=0.3, text/plain")), Format::Text);
    /// assert_eq!(Format::negotiate(Some("application/openmetrics-text;q=0")), Format::Text);
    /// assert_eq!(Format::negotiate(Some("application/openmetrics-text; version=2.0.0")), Format::Text);
    /// ```
    pub fn negotiate(accept: Option<&str>) -> Format {
        let Some(accept) = accept else {
            return Format::Text;
        };
        let mut openmetrics = 0.0f32;
        let mut text = 0.0f32;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim();
            let mut q = 1.0f32;
            let mut version = None;
            for param in parts {
                let Some((key, value)) = param.split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"');
                match key.trim().to_ascii_lowercase().as_str() {
                    // A malformed q counts as 0: that range is not accepted.
                    "q" => {
                        q = value
                            .parse::<f32>()
                            .ok()
                            .filter(|q| q.is_finite())
                            .unwrap_or(0.0)
                    }
                    "version" => version = Some(value),
                    _ => {}
                }
            }
            if media.eq_ignore_ascii_case("application/openmetrics-text") {
                if version.is_none_or(|v| v == "1.0.0") {
                    openmetrics = openmetrics.max(q);
                }
            } else if media.eq_ignore_ascii_case("text/plain") {
                if version.is_none_or(|v| v == "0.0.4") {
                    text = text.max(q);
                }
            } else if media == "*/*" || media.eq_ignore_ascii_case("text/*") {
                text = text.max(q);
            }
        }
        if openmetrics > 0.0 && openmetrics >= text {
            Format::OpenMetrics
        } else {
            Format::Text
        }
    }
}
