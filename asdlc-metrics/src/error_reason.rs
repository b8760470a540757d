//! Failure reasons: an error type that says which error it is, from a set
//! fixed by the type, so functions can count their failures by reason
//! without any risk to cardinality.

/// An error type whose values name their reason from a set fixed by the
/// type.
///
/// A function under `#[timed]` or `#[counted]` returning `Result<_, E>`
/// with `E: ErrorReason` also counts each `Err` in
/// `asdlc_function_errors_total{function, module, reason}`; an error whose
/// [`reason`](Self::reason) is `None` is an *expected* error (a cache miss,
/// a 404 the caller expects) and is recorded as `result="ok"`, with no
/// reason series. The choice is made at compile time: a function whose
/// error type does not implement this trait records exactly what it did
/// before and pays nothing for it.
///
/// `#[derive(LabelValue)]` on an enum implements it: each variant's label
/// value is its reason, and `#[label(expected)]` marks expected variants.
/// Variants may carry fields; the reason comes from the variant only, never
/// from field data.
///
/// ```
/// use asdlc_metrics::{ErrorReason, LabelValue, counted};
///
/// #[derive(Debug, LabelValue)]
/// enum FetchError {
///     #[label(expected)]
///     NotFound,
///     Timeout { after_ms: u64 },
///     #[label(rename = "db")]
///     Database(String),
/// }
///
/// #[counted]
/// fn fetch(key: &str) -> Result<String, FetchError> {
///     match key {
///         "" => Err(FetchError::NotFound),
///         "slow" => Err(FetchError::Timeout { after_ms: 500 }),
///         "broken" => Err(FetchError::Database("connection reset".into())),
///         _ => Ok(key.to_uppercase()),
///     }
/// }
///
/// assert_eq!(FetchError::REASONS, ["not_found", "timeout", "db"]);
/// assert_eq!(FetchError::NotFound.reason(), None);
/// assert_eq!(FetchError::Database(String::new()).reason(), Some(2));
///
/// for key in ["a", "", "slow", "broken", "broken"] {
///     let _ = fetch(key);
/// }
/// let text = asdlc_metrics::registry().encode_to_string();
/// let line = |name: &str, labels: &str| {
///     text.lines()
///         .find(|l| l.starts_with(name) && l.contains(r#"function="fetch""#) && l.contains(labels))
///         .and_then(|l| l.rsplit(' ').next())
///         .map(str::to_owned)
/// };
/// // The expected `NotFound` counts as ok.
/// assert_eq!(line("asdlc_function_calls_total{", r#"result="ok""#).as_deref(), Some("2"));
/// assert_eq!(line("asdlc_function_calls_total{", r#"result="error""#).as_deref(), Some("3"));
/// assert_eq!(line("asdlc_function_errors_total{", r#"reason="db""#).as_deref(), Some("2"));
/// assert_eq!(line("asdlc_function_errors_total{", r#"reason="timeout""#).as_deref(), Some("1"));
/// assert_eq!(line("asdlc_function_errors_total{", r#"reason="not_found""#), None);
/// ```
///
/// Implemented by hand, it classifies any error type — a struct with a
/// `kind` field, say. `REASONS` must be label values (not empty); an index
/// outside it records no reason (the call still counts as an error).
///
/// ```
/// use asdlc_metrics::ErrorReason;
///
/// struct HttpError { status: u16 }
///
/// impl ErrorReason for HttpError {
///     const REASONS: &'static [&'static str] = &["client", "server"];
///     fn reason(&self) -> Option<usize> {
///         match self.status {
///             404 => None, // expected: counted as ok
///             400..=499 => Some(0),
///             _ => Some(1),
///         }
///     }
/// }
/// assert_eq!(HttpError { status: 503 }.reason(), Some(1));
/// ```
pub trait ErrorReason {
    /// Every reason this type can give, as label values, by index.
    const REASONS: &'static [&'static str];

    /// This error's reason, an index into [`REASONS`](Self::REASONS); `None`
    /// for an expected error (recorded as `result="ok"`).
    fn reason(&self) -> Option<usize>;
}
