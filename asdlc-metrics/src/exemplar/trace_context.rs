//! The trace an exemplar points to: a W3C trace id and (optionally) a span
//! id, kept as bytes so that carrying one costs no allocation.

/// A trace id and, optionally, a span id: what an exemplar's `trace_id` and
/// `span_id` labels say.
///
/// ```
/// use asdlc_metrics::exemplar::TraceContext;
///
/// let t = TraceContext::from_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
/// assert_eq!(t.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert_eq!(t.span_id_hex().as_deref(), Some("00f067aa0ba902b7"));
/// assert!(TraceContext::from_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01").is_none());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceContext {
    trace_id: [u8; 16],
    /// All zero: no span id (W3C reserves the all-zero id as invalid).
    span_id: [u8; 8],
}

impl std::fmt::Debug for TraceContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceContext")
            .field("trace_id", &self.trace_id_hex())
            .field("span_id", &self.span_id_hex())
            .finish()
    }
}

impl TraceContext {
    /// A context from a trace id and an optional span id; `None` when the
    /// trace id is zero (invalid in W3C Trace Context). A zero span id is
    /// taken as absent.
    ///
    /// ```
    /// use asdlc_metrics::exemplar::TraceContext;
    ///
    /// let t = TraceContext::new(0xabc, Some(7)).unwrap();
    /// assert_eq!(t.trace_id_hex(), "00000000000000000000000000000abc");
    /// assert_eq!(t.span_id_hex().as_deref(), Some("0000000000000007"));
    /// assert!(TraceContext::new(0, None).is_none());
    /// ```
    pub fn new(trace_id: u128, span_id: Option<u64>) -> Option<Self> {
        Self::from_bytes(trace_id.to_be_bytes(), span_id.unwrap_or(0).to_be_bytes())
    }

    /// A context from the raw ids (as OpenTelemetry's `TraceId::to_bytes`
    /// gives them); `None` when the trace id is all zero.
    pub fn from_bytes(trace_id: [u8; 16], span_id: [u8; 8]) -> Option<Self> {
        (trace_id != [0; 16]).then_some(TraceContext { trace_id, span_id })
    }

    /// Reads a W3C `traceparent` header value
    /// (`version-traceid-parentid-flags`, lowercase hex). `None` for
    /// anything malformed, the reserved version `ff`, or an all-zero trace
    /// or parent id: such a header is ignored, never an error.
    ///
    /// ```
    /// use asdlc_metrics::exemplar::TraceContext;
    ///
    /// assert!(TraceContext::from_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").is_some());
    /// assert!(TraceContext::from_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01").is_none());
    /// assert!(TraceContext::from_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01").is_none());
    /// assert!(TraceContext::from_traceparent("garbage").is_none());
    /// ```
    pub fn from_traceparent(header: &str) -> Option<Self> {
        let b = header.trim().as_bytes();
        // version 00 is exactly 55 bytes; later versions may append fields
        // after a dash, which a version-00 reader ignores.
        if b.len() < 55 || (b.len() > 55 && (b[..2] == *b"00" || b[55] != b'-')) {
            return None;
        }
        if b[2] != b'-' || b[35] != b'-' || b[52] != b'-' || b[..2] == *b"ff" {
            return None;
        }
        let _version: [u8; 1] = hex_lower(&b[..2])?;
        let trace_id: [u8; 16] = hex_lower(&b[3..35])?;
        let span_id: [u8; 8] = hex_lower(&b[36..52])?;
        let _flags: [u8; 1] = hex_lower(&b[53..55])?;
        if span_id == [0; 8] {
            return None;
        }
        Self::from_bytes(trace_id, span_id)
    }

    /// Reads ids as applications write them in their own fields: a trace id
    /// of 32 hex digits (either case) or a UUID with dashes, and an optional
    /// span id of 16 hex digits (ignored when malformed). `None` when the
    /// trace id is neither, or zero.
    ///
    /// ```
    /// use asdlc_metrics::exemplar::TraceContext;
    ///
    /// let t = TraceContext::parse("4BF92F35-77B3-4DA6-A3CE-929D0E0E4736", None).unwrap();
    /// assert_eq!(t.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
    /// assert!(TraceContext::parse("not-a-trace", None).is_none());
    /// ```
    pub fn parse(trace_id: &str, span_id: Option<&str>) -> Option<Self> {
        let trace_id = trace_id.trim();
        let compact: String;
        let digits = if trace_id.len() == 36
            && [8, 13, 18, 23]
                .iter()
                .all(|&i| trace_id.as_bytes()[i] == b'-')
        {
            compact = trace_id.replace('-', "");
            compact.as_str()
        } else {
            trace_id
        };
        let trace: [u8; 16] = hex_any_case(digits)?;
        let span: [u8; 8] = span_id
            .and_then(|s| hex_any_case(s.trim()))
            .unwrap_or([0; 8]);
        Self::from_bytes(trace, span)
    }

    /// The trace id as 32 lowercase hex digits.
    pub fn trace_id_hex(&self) -> String {
        to_hex(&self.trace_id)
    }

    /// The span id as 16 lowercase hex digits, if there is one.
    pub fn span_id_hex(&self) -> Option<String> {
        (self.span_id != [0; 8]).then(|| to_hex(&self.span_id))
    }

    /// The context the current call runs in, if any: see the
    /// [module docs](super) for the sources and their order.
    ///
    /// ```
    /// // No OpenTelemetry context, no traced span: nothing.
    /// assert!(asdlc_metrics::exemplar::TraceContext::current().is_none());
    /// ```
    #[inline]
    pub fn current() -> Option<Self> {
        super::current::current()
    }

    /// Writes `trace_id="…"` and `,span_id="…"` (the exemplar's label set,
    /// without braces) into `out`.
    pub(crate) fn write_labels(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"trace_id=\"");
        push_hex(out, &self.trace_id);
        out.push(b'"');
        if self.span_id != [0; 8] {
            out.extend_from_slice(b",span_id=\"");
            push_hex(out, &self.span_id);
            out.push(b'"');
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0xf)]);
    }
}

fn to_hex(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    push_hex(&mut out, bytes);
    // push_hex writes ASCII only.
    String::from_utf8(out).unwrap_or_default()
}

/// Each byte's value as a hex digit, or `INVALID`: one load per digit, and
/// one check per id rather than a branch per digit (a request's
/// `traceparent` has 52 digits; the per-digit branches were ~440
/// instructions of it).
const fn digit_table(upper_ok: bool) -> [u8; 256] {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 16 {
        table[b"0123456789abcdef"[i] as usize] = i as u8;
        if upper_ok {
            table[b"0123456789ABCDEF"[i] as usize] = i as u8;
        }
        i += 1;
    }
    table
}

const INVALID: u8 = 0xff;
static LOWER_DIGITS: [u8; 256] = digit_table(false);
static ANY_CASE_DIGITS: [u8; 256] = digit_table(true);

fn hex_into<const N: usize>(digits: &[u8], table: &[u8; 256]) -> Option<[u8; N]> {
    if digits.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    // The high bits of any `INVALID` digit survive the OR.
    let mut invalid = 0u8;
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let (high, low) = (table[usize::from(pair[0])], table[usize::from(pair[1])]);
        invalid |= high | low;
        *byte = high << 4 | (low & 0x0f);
    }
    (invalid & 0xf0 == 0).then_some(out)
}

/// W3C Trace Context allows lowercase hex only.
fn hex_lower<const N: usize>(digits: &[u8]) -> Option<[u8; N]> {
    hex_into(digits, &LOWER_DIGITS)
}

fn hex_any_case<const N: usize>(digits: &str) -> Option<[u8; N]> {
    hex_into(digits.as_bytes(), &ANY_CASE_DIGITS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_rules() {
        let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert!(TraceContext::from_traceparent(ok).is_some());
        // A later version may carry more fields after a dash.
        assert!(
            TraceContext::from_traceparent(
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"
            )
            .is_some()
        );
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-011",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e47zz-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
            "zz-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\u{e9}",
            // W3C Trace Context ids are lowercase.
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        ] {
            assert!(TraceContext::from_traceparent(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn every_byte_decodes_as_the_hex_rules_say() {
        for high in 0..=255u8 {
            for low in [
                b'0', b'7', b'a', b'f', b'A', b'F', b'g', b'/', b':', 0xff, high,
            ] {
                let pair = [high, low];
                let expect = |upper_ok: bool| {
                    let digit = |c: u8| match c {
                        b'0'..=b'9' => Some(c - b'0'),
                        b'a'..=b'f' => Some(c - b'a' + 10),
                        b'A'..=b'F' if upper_ok => Some(c - b'A' + 10),
                        _ => None,
                    };
                    Some([digit(high)? << 4 | digit(low)?])
                };
                assert_eq!(hex_lower::<1>(&pair), expect(false), "{pair:?}");
                assert_eq!(
                    hex_into::<1>(&pair, &ANY_CASE_DIGITS),
                    expect(true),
                    "{pair:?}"
                );
            }
        }
    }

    #[test]
    fn labels_stay_within_the_openmetrics_limit() {
        let t = TraceContext::new(u128::MAX, Some(u64::MAX)).unwrap();
        let mut out = Vec::new();
        t.write_labels(&mut out);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            format!(
                "trace_id=\"{}\",span_id=\"{}\"",
                "f".repeat(32),
                "f".repeat(16)
            )
        );
        // OpenMetrics counts the label names and values: at most 128.
        assert!("trace_id".len() + 32 + "span_id".len() + 16 <= 128);
        let no_span = TraceContext::new(1, None).unwrap();
        assert_eq!(no_span.span_id_hex(), None);
    }
}
