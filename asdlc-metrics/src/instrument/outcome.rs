//! How an instrumented call ended, and how a return value tells it.
//!
//! The macros classify the returned value by specialisation along a deref
//! chain: the generated code calls `probe(&value).__asdlc_classify()`, and
//! method resolution takes the first inherent method whose `impl` applies
//! to the value's concrete type — on [`Probe`] for a `redis::RedisResult`
//! or a `Result` whose error names its reason ([`ErrorReason`]), then on
//! [`ResultProbe`] (what a `Probe` derefs to) for any other `Result`, then
//! on [`AnyProbe`] for anything else. This happens where the function is
//! defined, so the type is concrete even when the surrounding runtime code
//! is generic, and a function whose error type names no reason compiles to
//! exactly what it did before.
//!
//! Inherent methods, not a trait: the generated code then needs no `use`
//! of a trait, and an item per annotated function is work rustc repeats on
//! every rebuild (the trait's `use` and its autoref probe cost 39 M more
//! instructions per rebuild of 500 functions than this chain,
//! `benches/scripts/build_cost_instructions.sh`). The method's name is
//! unusual so that no trait of the user's, implemented for every type, can
//! be picked before the chain's next step.

use crate::ErrorReason;

/// The `result` label of an instrumented call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Returned normally (`Ok(_)` for a `Result`).
    Ok,
    /// Returned `Err(_)`.
    Error,
    /// Returned an `Err` that names its reason ([`ErrorReason`]): `error`,
    /// counted once, in the call site's series of that reason, which its
    /// `result="error"` call counter adds up when read.
    Reason(Reason),
    /// Returned a Redis error of the connection class (dropped, refused,
    /// I/O, timeout): an error that also marks Redis as down.
    ConnectionError,
    /// Returned a Redis error that is the caller's, not a failure of Redis
    /// (a reply of an unexpected type, `WRONGTYPE`, `ERR`, `NOSCRIPT`, ...;
    /// the README's "Failure reasons" lists them): `error` for the function,
    /// but not counted in `asdlc_redis_operation_errors_total`.
    CallerError,
    /// Unwound (panicked).
    Panic,
    /// An async call whose future was dropped before it completed.
    Cancelled,
}

impl Outcome {
    /// The value of the `result` label.
    pub const fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error
            | Outcome::Reason(_)
            | Outcome::ConnectionError
            | Outcome::CallerError => "error",
            Outcome::Panic => "panic",
            Outcome::Cancelled => "cancelled",
        }
    }

    /// Dense index of the `result` label value (0..4).
    pub(crate) const fn index(self) -> usize {
        match self {
            Outcome::Ok => 0,
            Outcome::Error
            | Outcome::Reason(_)
            | Outcome::ConnectionError
            | Outcome::CallerError => 1,
            Outcome::Panic => 2,
            Outcome::Cancelled => 3,
        }
    }

    /// The outcome whose [`Outcome::index`] is `i`.
    pub(crate) const fn from_index(i: usize) -> Outcome {
        match i {
            0 => Outcome::Ok,
            1 => Outcome::Error,
            2 => Outcome::Panic,
            _ => Outcome::Cancelled,
        }
    }
}

/// Which reason an error names: its index in its type's
/// [`ErrorReason::REASONS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reason {
    /// The error type's `REASONS`, behind a thin pointer: an [`Outcome`]
    /// then stays two words, passed in registers.
    pub(crate) reasons: &'static &'static [&'static str],
    /// The reason's index in `reasons` (out of range: no reason to name).
    pub(crate) index: u32,
}

impl Reason {
    /// Reason `index` of `reasons`.
    #[inline]
    pub(crate) fn new(reasons: &'static &'static [&'static str], index: usize) -> Self {
        Reason {
            reasons,
            // An index past `u32::MAX` is out of any table: no reason.
            index: u32::try_from(index).unwrap_or(u32::MAX),
        }
    }

    /// The reason's label value, if the index is in range.
    pub(crate) fn label(self) -> Option<&'static str> {
        self.reasons.get(self.index as usize).copied()
    }
}

/// A returned value to classify: `probe(&value).__asdlc_classify()`.
///
/// ```
/// use asdlc_metrics::__private::{Outcome, probe};
///
/// assert_eq!(probe(&Ok::<u8, String>(1)).__asdlc_classify(), Outcome::Ok);
/// assert_eq!(probe(&Err::<u8, String>("x".into())).__asdlc_classify(), Outcome::Error);
/// assert_eq!(probe(&5u32).__asdlc_classify(), Outcome::Ok);
/// ```
#[inline]
pub fn probe<T: ?Sized>(value: &T) -> Probe<'_, T> {
    Probe(ResultProbe(AnyProbe(value)))
}

/// A probed value, first step of the chain: classifies a `Result` whose
/// error names its reason (and, with the `redis` feature, a
/// `redis::RedisResult`); derefs to [`ResultProbe`] for anything else.
pub struct Probe<'a, T: ?Sized>(ResultProbe<'a, T>);

/// Second step: classifies any other `Result` as `ok` or `error`; derefs to
/// [`AnyProbe`].
pub struct ResultProbe<'a, T: ?Sized>(AnyProbe<'a, T>);

/// Last step: any other value is `ok`.
pub struct AnyProbe<'a, T: ?Sized>(&'a T);

impl<'a, T: ?Sized> std::ops::Deref for Probe<'a, T> {
    type Target = ResultProbe<'a, T>;
    #[inline]
    fn deref(&self) -> &ResultProbe<'a, T> {
        &self.0
    }
}

impl<'a, T: ?Sized> std::ops::Deref for ResultProbe<'a, T> {
    type Target = AnyProbe<'a, T>;
    #[inline]
    fn deref(&self) -> &AnyProbe<'a, T> {
        &self.0
    }
}

impl<T: ?Sized> Probe<'_, T> {
    /// The probed value.
    #[inline]
    fn value(&self) -> &T {
        self.0.0.0
    }
}

#[cfg(feature = "redis")]
impl<T> Probe<'_, Result<T, redis::RedisError>> {
    /// `ok`, or which class of Redis error.
    #[inline]
    pub fn __asdlc_classify(&self) -> Outcome {
        match self.value() {
            Ok(_) => Outcome::Ok,
            Err(e) if is_connection_error(e) => Outcome::ConnectionError,
            Err(e) if is_caller_error(e) => Outcome::CallerError,
            Err(_) => Outcome::Error,
        }
    }
}

/// Errors that say the connection to Redis is gone, not that a command
/// failed.
#[cfg(feature = "redis")]
pub(crate) fn is_connection_error(e: &redis::RedisError) -> bool {
    e.is_connection_dropped() || e.is_connection_refusal() || e.is_io_error() || e.is_timeout()
}

/// Errors that are the caller's, not a failure of Redis: a reply of
/// another type than asked for, or a server error code saying the command
/// was wrong ([`is_caller_error_code`]). Redis did its job.
#[cfg(feature = "redis")]
pub(crate) fn is_caller_error(e: &redis::RedisError) -> bool {
    use redis::ErrorKind;
    matches!(
        e.kind(),
        ErrorKind::TypeError | ErrorKind::ClientError | ErrorKind::InvalidClientConfig
    ) || e.code().is_some_and(is_caller_error_code)
}

/// Redis error codes that say the command was wrong, not that Redis
/// failed: a command on a key of the wrong type (`WRONGTYPE`), a generic
/// command error (`ERR`: wrong arguments, syntax, not an integer), a
/// transaction aborted by such an error (`EXECABORT`), an unknown script
/// (`NOSCRIPT`), keys in several cluster slots (`CROSSSLOT`), a consumer
/// group that is missing or already there (`NOGROUP`, `BUSYGROUP`), a
/// command the user may not run (`NOPERM`), `SCRIPT KILL` with nothing to
/// kill (`NOTBUSY`), an unsubscribe outside subscribed mode (`NOSUB`).
/// Every other code (`LOADING`, `READONLY`, `MASTERDOWN`, `CLUSTERDOWN`,
/// `TRYAGAIN`, `OOM`, `BUSY`, `MISCONF`, …) is a failure of Redis.
#[cfg(feature = "redis")]
pub(crate) fn is_caller_error_code(code: &str) -> bool {
    matches!(
        code,
        "WRONGTYPE"
            | "ERR"
            | "EXECABORT"
            | "NOSCRIPT"
            | "CROSSSLOT"
            | "NOGROUP"
            | "BUSYGROUP"
            | "NOPERM"
            | "NOTBUSY"
            | "NOSUB"
    )
}

impl<T, E: ErrorReason> Probe<'_, Result<T, E>> {
    /// `ok` (an expected error too), or `error` with the error's reason,
    /// which travels in the outcome to the guard, which counts it.
    #[inline]
    pub fn __asdlc_classify(&self) -> Outcome {
        match self.value() {
            Ok(_) => Outcome::Ok,
            Err(e) => match e.reason() {
                // An expected error: the function did its job.
                None => Outcome::Ok,
                // Counted by the guard, which holds the resolved site: one
                // add, in the reason's series (no call from here).
                Some(index) => Outcome::Reason(Reason::new(const { &E::REASONS }, index)),
            },
        }
    }
}

impl<T, E> ResultProbe<'_, Result<T, E>> {
    /// `ok` or `error`.
    #[inline]
    pub fn __asdlc_classify(&self) -> Outcome {
        match self.0.0 {
            Ok(_) => Outcome::Ok,
            Err(_) => Outcome::Error,
        }
    }
}

impl<T: ?Sized> AnyProbe<'_, T> {
    /// `ok`: the value is not a `Result`.
    #[inline]
    pub fn __asdlc_classify(&self) -> Outcome {
        Outcome::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! classify {
        ($v:expr) => {
            probe(&$v).__asdlc_classify()
        };
    }

    /// A hand-written reason type: `Missing` is expected.
    #[derive(Debug)]
    enum Lookup {
        Missing,
        Corrupt(#[allow(dead_code)] String),
    }

    impl ErrorReason for Lookup {
        const REASONS: &'static [&'static str] = &["missing", "corrupt"];
        fn reason(&self) -> Option<usize> {
            match self {
                Lookup::Missing => None,
                Lookup::Corrupt(_) => Some(1),
            }
        }
    }

    #[test]
    fn results_are_ok_or_error_and_anything_else_is_ok() {
        assert_eq!(classify!(Ok::<u8, String>(1)), Outcome::Ok);
        assert_eq!(classify!(Err::<u8, String>("x".into())), Outcome::Error);
        assert_eq!(
            classify!(std::io::Result::<()>::Err(std::io::Error::other("x"))),
            Outcome::Error
        );
        assert_eq!(classify!(5u32), Outcome::Ok);
        assert_eq!(classify!(Some(1)), Outcome::Ok);
        assert_eq!(classify!(()), Outcome::Ok);
    }

    #[test]
    fn errors_with_a_reason_name_it_and_expected_ones_are_ok() {
        let reason = |outcome| match outcome {
            Outcome::Reason(reason) => reason.label(),
            _ => None,
        };
        assert_eq!(classify!(Ok::<u8, Lookup>(1)), Outcome::Ok);
        assert_eq!(classify!(Err::<u8, _>(Lookup::Missing)), Outcome::Ok);
        let bad = classify!(Err::<u8, _>(Lookup::Corrupt("x".into())));
        assert_eq!(reason(bad), Some("corrupt"));
        assert_eq!((bad.label(), bad.index()), ("error", 1));
        // Only the outer `Result` decides: an inner one is the value.
        let nested: Result<Result<u8, Lookup>, String> = Ok(Err(Lookup::Corrupt("y".into())));
        assert_eq!(classify!(nested), Outcome::Ok);
    }

    #[cfg(feature = "redis")]
    #[test]
    fn redis_connection_and_caller_errors_are_told_apart() {
        let io: redis::RedisResult<()> =
            Err(std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into());
        assert_eq!(classify!(io), Outcome::ConnectionError);
        let conversion: redis::RedisResult<()> =
            Err((redis::ErrorKind::TypeError, "response was nil").into());
        assert_eq!(classify!(conversion), Outcome::CallerError);
        let wrong_type: redis::RedisResult<()> = Err(redis::make_extension_error(
            "WRONGTYPE".into(),
            Some("Operation against a key holding the wrong kind of value".into()),
        ));
        assert_eq!(classify!(wrong_type), Outcome::CallerError);
        let loading: redis::RedisResult<()> =
            Err((redis::ErrorKind::BusyLoadingError, "loading").into());
        assert_eq!(classify!(loading), Outcome::Error);
        let oom: redis::RedisResult<()> = Err(redis::make_extension_error("OOM".into(), None));
        assert_eq!(classify!(oom), Outcome::Error);
    }

    #[test]
    fn labels_and_indices_round_trip() {
        for o in [
            Outcome::Ok,
            Outcome::Error,
            Outcome::Panic,
            Outcome::Cancelled,
        ] {
            assert_eq!(Outcome::from_index(o.index()), o);
        }
        assert_eq!(Outcome::ConnectionError.label(), "error");
        assert_eq!(Outcome::CallerError.label(), "error");
    }
}
