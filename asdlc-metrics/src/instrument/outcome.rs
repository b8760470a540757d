//! How an instrumented call ended, and how a return value tells it.
//!
//! The macros classify the returned value with autoref specialisation: the
//! generated code calls `(&&&Probe(&value)).__asdlc_classify()` with
//! [`Classify`] in scope, and method resolution picks the most specific impl
//! that applies to the value's concrete type — a
//! `redis::RedisResult`, any other `Result`, or anything else. This happens
//! where the function is defined, so the type is concrete even when the
//! surrounding runtime code is generic.

/// The `result` label of an instrumented call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Returned normally (`Ok(_)` for a `Result`).
    Ok,
    /// Returned `Err(_)`.
    Error,
    /// Returned a Redis error of the connection class (dropped, refused,
    /// I/O, timeout): an error that also marks Redis as down.
    ConnectionError,
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
            Outcome::Error | Outcome::ConnectionError => "error",
            Outcome::Panic => "panic",
            Outcome::Cancelled => "cancelled",
        }
    }

    /// Dense index of the `result` label value (0..4).
    pub(crate) const fn index(self) -> usize {
        match self {
            Outcome::Ok => 0,
            Outcome::Error | Outcome::ConnectionError => 1,
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

/// Wraps a reference to a returned value for classification.
pub struct Probe<'a, T: ?Sized>(pub &'a T);

/// Classifies a [`Probe`]d value. One trait, implemented at three autoref
/// depths: method resolution tries `&&Probe<Result<T, RedisError>>` (only
/// with the `redis` feature), then `&Probe<Result<T, E>>`, then `Probe<T>`,
/// and takes the first that applies to the value's type.
pub trait Classify {
    /// The outcome of the probed value.
    fn __asdlc_classify(&self) -> Outcome;
}

#[cfg(feature = "redis")]
impl<T> Classify for &&Probe<'_, Result<T, redis::RedisError>> {
    #[inline]
    fn __asdlc_classify(&self) -> Outcome {
        match self.0 {
            Ok(_) => Outcome::Ok,
            Err(e) if is_connection_error(e) => Outcome::ConnectionError,
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

impl<T, E> Classify for &Probe<'_, Result<T, E>> {
    #[inline]
    fn __asdlc_classify(&self) -> Outcome {
        match self.0 {
            Ok(_) => Outcome::Ok,
            Err(_) => Outcome::Error,
        }
    }
}

impl<T: ?Sized> Classify for Probe<'_, T> {
    #[inline]
    fn __asdlc_classify(&self) -> Outcome {
        Outcome::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! classify {
        ($v:expr) => {{
            use super::Classify as _;
            (&&&Probe(&$v)).__asdlc_classify()
        }};
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

    #[cfg(feature = "redis")]
    #[test]
    fn redis_connection_errors_are_told_apart() {
        let io: redis::RedisResult<()> =
            Err(std::io::Error::from(std::io::ErrorKind::ConnectionRefused).into());
        assert_eq!(classify!(io), Outcome::ConnectionError);
        let cmd: redis::RedisResult<()> = Err((redis::ErrorKind::TypeError, "wrong type").into());
        assert_eq!(classify!(cmd), Outcome::Error);
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
    }
}
