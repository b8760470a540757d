//! The exposition formats — Prometheus text 0.0.4 and OpenMetrics 1.0.0
//! ([`Format`]) — written directly into a byte buffer.
//!
//! Metrics created by this crate keep their label sets pre-rendered, so
//! encoding a series is a handful of `memcpy`s plus an integer or float
//! formatting; nothing is collected into an intermediate model first.
//! Metrics of the `prometheus` crate go through its model (`proto.rs`).

mod format;
mod proto;
mod text;

pub use format::Format;
pub(crate) use proto::write_proto_family;
pub use text::{FamilyWriter, LabelRender, TextWriter};
// The proxy quotes service names in PromQL with the same escapes.
#[cfg(feature = "proxy")]
pub(crate) use text::escape_label_value_into;
pub(crate) use text::f64_to_string;
