/// A value usable as a label value, so label sets can be bounded by a type.
///
/// Implemented for strings and integers, and by `#[derive(LabelValue)]` for
/// enums (one `snake_case` string per variant; fields play no part, so the
/// values stay bounded):
///
/// ```
/// use asdlc_metrics::LabelValue;
///
/// #[derive(LabelValue, Clone, Copy)]
/// enum Status {
///     Success,
///     #[label(rename = "failed")]
///     Failure,
/// }
/// assert_eq!(Status::Success.label_value(), "success");
/// assert_eq!(Status::Failure.label_value(), "failed");
/// ```
pub trait LabelValue {
    /// The string exported as the label's value.
    fn label_value(&self) -> &str;
}

impl LabelValue for str {
    fn label_value(&self) -> &str {
        self
    }
}

impl LabelValue for String {
    fn label_value(&self) -> &str {
        self
    }
}

impl<T: LabelValue + ?Sized> LabelValue for &T {
    fn label_value(&self) -> &str {
        (**self).label_value()
    }
}

/// The label set type of a [`Family`](super::Family): [`Untyped`] (values
/// given as strings) or a tuple of [`LabelValue`] types, which adds a typed
/// `with(..)` accessor taking one value per label.
///
/// ```
/// use asdlc_metrics::{CounterVec, LabelValue};
///
/// #[derive(LabelValue, Clone, Copy)]
/// enum EventType { TaskCreated, TaskDone }
/// #[derive(LabelValue, Clone, Copy)]
/// enum Status { Success, Failure }
///
/// let events = CounterVec::new("asdlc_demo_events_total", "Events.", &["event_type", "status"])?
///     .typed::<(EventType, Status)>()?;
/// events.with(EventType::TaskCreated, Status::Success).inc();
/// assert_eq!(events.with_label_values(&["task_created", "success"]).get(), 1);
/// # Ok::<(), asdlc_metrics::Error>(())
/// ```
pub trait LabelSet: 'static {
    /// How many labels the set has; `None` when not fixed by the type.
    const ARITY: Option<usize>;
}

/// Label values given as strings at each call (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct Untyped;

impl LabelSet for Untyped {
    const ARITY: Option<usize> = None;
}

macro_rules! typed_label_sets {
    ($( ($($t:ident $v:ident),+) = $n:literal; )+) => {$(
        impl<$($t: LabelValue + 'static),+> LabelSet for ($($t,)+) {
            const ARITY: Option<usize> = Some($n);
        }

        impl<C: super::Cell, $($t: LabelValue + 'static),+> super::Family<C, ($($t,)+)> {
            /// The series for these typed label values (in the order of the
            /// family's label names).
            pub fn with(&self, $($v: $t),+) -> super::Series<C> {
                self.with_label_values(&[$($v.label_value()),+])
            }
        }
    )+};
}

typed_label_sets! {
    (A a) = 1;
    (A a, B b) = 2;
    (A a, B b, C3 c) = 3;
    (A a, B b, C3 c, D d) = 4;
}
