//! The `tracing` source: a [`Layer`] that reads `trace_id` (and `span_id`)
//! fields of spans and makes them current while a span is entered.

use std::cell::RefCell;
use std::fmt;

use tracing::Subscriber;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use super::TraceContext;

/// A `tracing-subscriber` layer that turns a `trace_id` field on a span
/// into the trace context of everything recorded while that span (or a
/// span created inside it) is entered.
///
/// Field values: a trace id of 32 hex digits, a UUID, or a `u128`; an
/// optional `span_id` of 16 hex digits or a `u64`. Other values are
/// ignored. Add it next to your formatting layer:
///
/// ```
/// use asdlc_metrics::exemplar::{TraceContext, TraceIdLayer};
/// use tracing_subscriber::layer::SubscriberExt as _;
///
/// let subscriber = tracing_subscriber::registry().with(TraceIdLayer::new());
/// tracing::subscriber::with_default(subscriber, || {
///     let span = tracing::info_span!("request", trace_id = "4bf92f3577b34da6a3ce929d0e0e4736");
///     let _entered = span.enter();
///     let current = TraceContext::current().unwrap();
///     assert_eq!(current.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TraceIdLayer {
    _private: (),
}

impl TraceIdLayer {
    /// The layer.
    pub fn new() -> Self {
        TraceIdLayer::default()
    }
}

/// A span's trace context, kept in its extensions.
#[derive(Clone, Copy)]
struct SpanTrace(TraceContext);

thread_local! {
    /// The spans whose context this layer pushed, innermost last.
    static ENTERED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

#[derive(Default)]
struct Fields {
    trace_id: Option<String>,
    trace_id_u128: Option<u128>,
    span_id: Option<String>,
    span_id_u64: Option<u64>,
}

impl Fields {
    fn context(&self) -> Option<TraceContext> {
        let span = self
            .span_id
            .clone()
            .or_else(|| self.span_id_u64.map(|s| format!("{s:016x}")));
        match (&self.trace_id, self.trace_id_u128) {
            (Some(t), _) => TraceContext::parse(t, span.as_deref()),
            (None, Some(t)) => TraceContext::parse(&format!("{t:032x}"), span.as_deref()),
            (None, None) => None,
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "trace_id" => self.trace_id = Some(value.to_owned()),
            "span_id" => self.span_id = Some(value.to_owned()),
            _ => {}
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match field.name() {
            "trace_id" => self.trace_id_u128 = Some(u128::from(value)),
            "span_id" => self.span_id_u64 = Some(value),
            _ => {}
        }
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        if field.name() == "trace_id" {
            self.trace_id_u128 = Some(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `trace_id = %id` arrives here, formatted with Display.
        if matches!(field.name(), "trace_id" | "span_id") {
            self.record_str(field, format!("{value:?}").trim_matches('"'));
        }
    }
}

impl<S> Layer<S> for TraceIdLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let own = fields.context();
        let inherited = || {
            span.parent()
                .and_then(|p| p.extensions().get::<SpanTrace>().copied())
                .map(|t| t.0)
        };
        if let Some(trace) = own.or_else(inherited) {
            span.extensions_mut().insert(SpanTrace(trace));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Fields::default();
        values.record(&mut fields);
        if let Some(trace) = fields.context() {
            let mut extensions = span.extensions_mut();
            extensions.remove::<SpanTrace>();
            extensions.insert(SpanTrace(trace));
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let Some(SpanTrace(trace)) = span.extensions().get::<SpanTrace>().copied() else {
            return;
        };
        super::current::push(&trace);
        let _ = ENTERED.try_with(|e| e.borrow_mut().push(id.into_u64()));
    }

    fn on_exit(&self, id: &Id, _ctx: Context<'_, S>) {
        let _ = ENTERED.try_with(|e| {
            let mut entered = e.borrow_mut();
            // Only a span this layer made current is undone (one that got
            // its trace id while entered was never pushed).
            if entered.last() == Some(&id.into_u64()) {
                entered.pop();
                super::current::pop();
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[test]
    fn child_spans_inherit_and_exit_restores() {
        let subscriber = tracing_subscriber::registry().with(TraceIdLayer::new());
        tracing::subscriber::with_default(subscriber, || {
            let outer = tracing::info_span!(
                "outer",
                trace_id = %"0af7651916cd43dd8448eb211c80319c",
                span_id = "b7ad6b7169203331"
            );
            let inner = outer.in_scope(|| tracing::info_span!("inner"));
            let plain = tracing::info_span!(parent: None, "plain");
            assert_eq!(TraceContext::current(), None);
            {
                let _o = outer.enter();
                let t = TraceContext::current().unwrap();
                assert_eq!(t.trace_id_hex(), "0af7651916cd43dd8448eb211c80319c");
                assert_eq!(t.span_id_hex().as_deref(), Some("b7ad6b7169203331"));
                let _p = plain.enter();
                assert_eq!(
                    TraceContext::current(),
                    Some(t),
                    "an untraced span changes nothing"
                );
            }
            assert_eq!(TraceContext::current(), None);
            let _i = inner.enter();
            assert_eq!(
                TraceContext::current().map(|t| t.trace_id_hex()).as_deref(),
                Some("0af7651916cd43dd8448eb211c80319c")
            );
        });
    }

    #[test]
    fn numbers_and_recorded_fields_count_and_junk_is_ignored() {
        let subscriber = tracing_subscriber::registry().with(TraceIdLayer::new());
        tracing::subscriber::with_default(subscriber, || {
            let numeric = tracing::info_span!("n", trace_id = 42u128);
            numeric.in_scope(|| {
                assert_eq!(
                    TraceContext::current().map(|t| t.trace_id_hex()),
                    Some(format!("{:032x}", 42))
                );
            });
            let junk = tracing::info_span!("j", trace_id = "not a trace id");
            junk.in_scope(|| assert_eq!(TraceContext::current(), None));
            let later = tracing::info_span!("l", trace_id = tracing::field::Empty);
            later.record("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736");
            later.in_scope(|| assert!(TraceContext::current().is_some()));
        });
    }
}
