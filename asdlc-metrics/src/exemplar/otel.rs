//! The OpenTelemetry source (feature `opentelemetry`): the span context of
//! the current `opentelemetry::Context` (what `Context::attach`, an
//! instrumented future or `tracing-opentelemetry`'s context activation set).

use opentelemetry::trace::TraceContextExt as _;

use super::TraceContext;

/// The valid span context of the current OpenTelemetry context, if any.
#[inline]
pub(super) fn current() -> Option<TraceContext> {
    opentelemetry::Context::map_current(|cx| {
        if !cx.has_active_span() {
            return None;
        }
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return None;
        }
        TraceContext::from_bytes(sc.trace_id().to_bytes(), sc.span_id().to_bytes())
    })
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};

    use super::*;

    #[test]
    fn an_attached_span_context_is_current() {
        assert_eq!(current(), None);
        let sc = SpanContext::new(
            TraceId::from_bytes([7; 16]),
            SpanId::from_bytes([9; 8]),
            TraceFlags::SAMPLED,
            true,
            TraceState::default(),
        );
        let _attached = opentelemetry::Context::current()
            .with_remote_span_context(sc)
            .attach();
        let t = current().unwrap();
        assert_eq!(t.trace_id_hex(), "07".repeat(16));
        assert_eq!(t.span_id_hex(), Some("09".repeat(8)));
    }
}
