//! The trace an exemplar points to: a W3C trace id and (optionally) a span
//! id, kept inline (no allocation) in the form its source gave them.

use super::hex::{self, Case};

/// Words of a context's ids as an exemplar slot keeps them.
pub(crate) const ID_WORDS: usize = 6;

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
#[derive(Clone, Copy)]
pub struct TraceContext {
    /// The ids, in one layout for both forms, so that storing them (an
    /// exemplar slot's words) needs no branch on the form.
    ids: [u8; ID_BYTES],
    form: Form,
}

/// Bytes of [`TraceContext::ids`]: the 48 digits of a `traceparent`.
const ID_BYTES: usize = 8 * ID_WORDS;

/// The ids as their source gave them, so that neither a request's path nor
/// a recording converts them: a `traceparent` is checked and kept as text,
/// the other sources' bytes are written as hex at scrape time.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    /// Raw ids (OpenTelemetry, numbers, application fields): the trace id's
    /// 16 bytes, the span id's 8, zeros. A span id of all zero is none
    /// (W3C reserves it as invalid).
    Bytes,
    /// Lowercase hex digits from a `traceparent`, checked: the trace id's
    /// 32, the span id's 16, exemplar label text as it is. Neither id is
    /// all zero.
    Hex,
}

impl PartialEq for TraceContext {
    /// The same ids, however they are held.
    fn eq(&self, other: &Self) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for TraceContext {}

impl std::hash::Hash for TraceContext {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.bytes().hash(state);
    }
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
    /// A value for storage that holds no context yet (an all-zero trace
    /// id, which no constructor returns): never handed out as a context.
    pub(crate) const PLACEHOLDER: TraceContext = TraceContext {
        ids: [0; ID_BYTES],
        form: Form::Bytes,
    };

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
        let mut ids = [0; ID_BYTES];
        ids[..16].copy_from_slice(&trace_id);
        ids[16..24].copy_from_slice(&span_id);
        (trace_id != [0; 16]).then_some(TraceContext {
            ids,
            form: Form::Bytes,
        })
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
        // `str::trim`: any Unicode whitespace around it, as a caller may
        // hand over; the bytes reader trims ASCII only.
        Self::from_traceparent_bytes(header.trim().as_bytes())
    }

    /// [`from_traceparent`](Self::from_traceparent) on the header's bytes,
    /// as the middleware has them: the digits' checks reject anything that
    /// is not ASCII, so the header needs no UTF-8 check first.
    #[inline]
    pub(crate) fn from_traceparent_bytes(header: &[u8]) -> Option<Self> {
        // 55 bytes is version 00 as servers pass it, with no whitespace
        // around: nothing to trim. (A 55-byte value with whitespace at an
        // end would be too short trimmed; its first or last byte fails the
        // digit checks below all the same.)
        let b = if header.len() == 55 {
            header
        } else {
            header.trim_ascii()
        };
        // version 00 is exactly 55 bytes; later versions may append fields
        // after a dash, which a version-00 reader ignores.
        if b.len() < 55 || (b.len() > 55 && (b[..2] == *b"00" || b[55] != b'-')) {
            return None;
        }
        if b[2] != b'-' || b[35] != b'-' || b[52] != b'-' || b[..2] == *b"ff" {
            return None;
        }
        let trace_id: [u8; 32] = b[3..35].try_into().ok()?;
        let span_id: [u8; 16] = b[36..52].try_into().ok()?;
        // Version and flags, two digits each, checked as one word.
        let version_and_flags = [b[0], b[1], b[53], b[54], b'0', b'0', b'0', b'0'];
        // One test for all three fields (see `hex::not_digits`).
        let not_digits = hex::not_digits(&trace_id, Case::Lower)
            | hex::not_digits(&span_id, Case::Lower)
            | hex::not_digits(&version_and_flags, Case::Lower);
        if not_digits != 0 || trace_id == [b'0'; 32] || span_id == [b'0'; 16] {
            return None;
        }
        let mut ids = [0; ID_BYTES];
        ids[..32].copy_from_slice(&trace_id);
        ids[32..].copy_from_slice(&span_id);
        Some(TraceContext {
            ids,
            form: Form::Hex,
        })
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
        let trace: [u8; 16] = hex::decode(digits.as_bytes(), Case::Any)?;
        let span: [u8; 8] = span_id
            .and_then(|s| hex::decode(s.trim().as_bytes(), Case::Any))
            .unwrap_or([0; 8]);
        Self::from_bytes(trace, span)
    }

    /// The trace id as 32 lowercase hex digits.
    pub fn trace_id_hex(&self) -> String {
        let mut out = Vec::with_capacity(32);
        self.push_trace_id(&mut out);
        // Hex digits are ASCII.
        String::from_utf8(out).unwrap_or_default()
    }

    /// The span id as 16 lowercase hex digits, if there is one.
    pub fn span_id_hex(&self) -> Option<String> {
        self.has_span_id().then(|| {
            let mut out = Vec::with_capacity(16);
            self.push_span_id(&mut out);
            String::from_utf8(out).unwrap_or_default()
        })
    }

    /// The ids as bytes, however they are held (the span id all zero when
    /// there is none): what makes two contexts equal.
    fn bytes(&self) -> ([u8; 16], [u8; 8]) {
        let (trace_id, span_id) = self.id_fields();
        match self.form {
            // Lengths fixed by `id_fields`: the conversions cannot fail.
            Form::Bytes => (
                trace_id.try_into().unwrap_or_default(),
                span_id.try_into().unwrap_or_default(),
            ),
            // Checked digits: decoding cannot fail.
            Form::Hex => (
                hex::decode(trace_id, Case::Lower).unwrap_or_default(),
                hex::decode(span_id, Case::Lower).unwrap_or_default(),
            ),
        }
    }

    /// The trace id's and the span id's part of `ids`, in its form.
    fn id_fields(&self) -> (&[u8], &[u8]) {
        match self.form {
            Form::Bytes => (&self.ids[..16], &self.ids[16..24]),
            Form::Hex => self.ids.split_at(32),
        }
    }

    fn push_trace_id(&self, out: &mut Vec<u8>) {
        let (trace_id, _) = self.id_fields();
        match self.form {
            Form::Bytes => hex::push(out, trace_id),
            Form::Hex => out.extend_from_slice(trace_id),
        }
    }

    fn has_span_id(&self) -> bool {
        let (_, span_id) = self.id_fields();
        self.form == Form::Hex || span_id != [0; 8]
    }

    fn push_span_id(&self, out: &mut Vec<u8>) {
        let (_, span_id) = self.id_fields();
        match self.form {
            Form::Bytes => hex::push(out, span_id),
            Form::Hex => out.extend_from_slice(span_id),
        }
    }

    /// The ids as [`ID_WORDS`] words, and whether they are hex text: how an
    /// exemplar slot keeps them, in atomic words that need no lock to
    /// write (`metric/exemplar.rs`). One layout for both forms: no branch.
    #[inline(always)]
    pub(crate) fn words(&self) -> ([u64; ID_WORDS], bool) {
        let mut words = [0; ID_WORDS];
        for (word, bytes) in words.iter_mut().zip(self.ids.chunks_exact(8)) {
            *word = u64::from_ne_bytes(bytes.try_into().unwrap_or_default());
        }
        (words, self.form == Form::Hex)
    }

    /// The context [`words`](Self::words) gave `words` and `hex` for.
    pub(crate) fn from_words(words: [u64; ID_WORDS], hex: bool) -> Self {
        let mut ids = [0; ID_BYTES];
        for (bytes, word) in ids.chunks_exact_mut(8).zip(words) {
            bytes.copy_from_slice(&word.to_ne_bytes());
        }
        let form = if hex { Form::Hex } else { Form::Bytes };
        TraceContext { ids, form }
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
        self.push_trace_id(out);
        out.push(b'"');
        if self.has_span_id() {
            out.extend_from_slice(b",span_id=\"");
            self.push_span_id(out);
            out.push(b'"');
        }
    }
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

    /// W3C Trace Context's `traceparent` rules, field by field: what the
    /// word-at-a-time reader must agree with.
    fn by_the_rules(header: &[u8]) -> Option<([u8; 16], [u8; 8])> {
        fn lower_hex<const N: usize>(field: &[u8]) -> Option<[u8; N]> {
            let digit = |c: u8| match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                _ => None,
            };
            if field.len() != 2 * N {
                return None;
            }
            let mut out = [0u8; N];
            for (byte, pair) in out.iter_mut().zip(field.chunks(2)) {
                *byte = digit(pair[0])? << 4 | digit(pair[1])?;
            }
            Some(out)
        }
        let fields: Vec<&[u8]> = header.trim_ascii().split(|&b| b == b'-').collect();
        let [version, trace, span, flags, rest @ ..] = fields.as_slice() else {
            return None;
        };
        let [version] = lower_hex::<1>(version)?;
        lower_hex::<1>(flags)?;
        let (trace, span) = (lower_hex::<16>(trace)?, lower_hex::<8>(span)?);
        let later_fields_ok = version != 0 || rest.is_empty();
        (version != 0xff && later_fields_ok && trace != [0; 16] && span != [0; 8])
            .then_some((trace, span))
    }

    #[test]
    fn every_byte_in_every_position_is_read_as_the_rules_say() {
        let valid = *b"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz";
        for len in [55, valid.len()] {
            for version in [*b"00", *b"01"] {
                let mut header = valid[..len].to_vec();
                header[..2].copy_from_slice(&version);
                for position in 0..len {
                    for byte in 0..=255u8 {
                        let mut h = header.clone();
                        h[position] = byte;
                        let read = TraceContext::from_traceparent_bytes(&h);
                        assert_eq!(
                            read.map(|t| t.bytes()),
                            by_the_rules(&h),
                            "{byte:#04x} at {position} of {:?}",
                            String::from_utf8_lossy(&h)
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn malformed_headers_are_ignored() {
        let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let cases = [
            ("one digit short", ok.replacen("4bf9", "4bf", 1)),
            ("one digit long", ok.replacen("4bf9", "4bf92", 1)),
            ("uppercase trace id", ok.replacen("4bf9", "4BF9", 1)),
            ("uppercase span id", ok.replacen("00f067aa", "00F067AA", 1)),
            ("uppercase flags", ok.replacen("-01", "-0A", 1)),
            ("non-hex", ok.replacen("4bf9", "4bg9", 1)),
            ("version ff", ok.replacen("00-", "ff-", 1)),
            (
                "all-zero trace id",
                ok.replacen("4bf92f3577b34da6a3ce929d0e0e4736", &"0".repeat(32), 1),
            ),
            (
                "all-zero span id",
                ok.replacen("00f067aa0ba902b7", &"0".repeat(16), 1),
            ),
            ("extra field on version 00", format!("{ok}-00")),
            ("extra bytes without a dash", format!("{ok}x")),
            ("dashes moved", ok.replacen("-00f0", "0-0f0", 1)),
        ];
        for (why, header) in cases {
            assert!(
                TraceContext::from_traceparent(&header).is_none(),
                "{why}: {header}"
            );
            assert_eq!(
                by_the_rules(header.as_bytes()),
                None,
                "{why}: the model agrees"
            );
        }
        let later = ok.replacen("00-", "cc-", 1) + "-what-comes-later";
        assert!(
            TraceContext::from_traceparent(&later).is_some(),
            "a later version's fields"
        );
        assert!(
            TraceContext::from_traceparent(&format!(" {ok}\t")).is_some(),
            "whitespace around"
        );
        assert!(
            TraceContext::from_traceparent_bytes(&[b'0'; 55]).is_none()
                && TraceContext::from_traceparent_bytes(&[0xff; 55]).is_none(),
            "not UTF-8, no dashes"
        );
    }

    #[test]
    fn a_traceparent_is_the_same_context_as_its_ids_in_bytes() {
        use std::hash::{BuildHasher as _, RandomState};
        let text = TraceContext::from_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .unwrap();
        let bytes = TraceContext::new(
            0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736,
            Some(0x00f0_67aa_0ba9_02b7),
        )
        .unwrap();
        assert_eq!(text, bytes);
        let state = RandomState::new();
        assert_eq!(state.hash_one(text), state.hash_one(bytes));
        let labels = |t: TraceContext| {
            let mut out = Vec::new();
            t.write_labels(&mut out);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(labels(text), labels(bytes));
        assert_eq!(format!("{text:?}"), format!("{bytes:?}"));
        let other_span =
            TraceContext::new(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736, None).unwrap();
        assert_ne!(text, other_span);
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
