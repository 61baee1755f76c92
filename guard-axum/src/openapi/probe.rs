//! Which handlers a guard attribute protects, found from the handler itself: `#[protected]`
//! and `#[api_key]` make a handler's first argument `Guarded<R>`, and a method call on
//! `&Probe(handler)` picks [`Secured`] when that is so (the impl that needs no auto-reference
//! wins) and [`Public`] otherwise.

use guard_core::Requirement;

use crate::extract::{Guarded, HandlerRequirement};

/// A handler, probed for its guard requirement.
pub struct Probe<F>(pub F);

/// A handler whose first argument is `Guarded<R>`; `Args` stands for its other arguments.
pub trait GuardedHandler<Args> {
    /// The requirement the attribute attached.
    type Requirement: HandlerRequirement;
}

macro_rules! guarded_handler {
    ($($arg:ident),*) => {
        impl<F, Fut, R, $($arg,)*> GuardedHandler<(R, $($arg,)*)> for F
        where
            F: FnOnce(Guarded<R>, $($arg,)*) -> Fut,
            R: HandlerRequirement,
        {
            type Requirement = R;
        }
    };
}

// axum's handlers take at most 16 arguments.
guarded_handler!();
guarded_handler!(A1);
guarded_handler!(A1, A2);
guarded_handler!(A1, A2, A3);
guarded_handler!(A1, A2, A3, A4);
guarded_handler!(A1, A2, A3, A4, A5);
guarded_handler!(A1, A2, A3, A4, A5, A6);
guarded_handler!(A1, A2, A3, A4, A5, A6, A7);
guarded_handler!(A1, A2, A3, A4, A5, A6, A7, A8);
guarded_handler!(A1, A2, A3, A4, A5, A6, A7, A8, A9);
guarded_handler!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10);
guarded_handler!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11);
guarded_handler!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12);
guarded_handler!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13);
guarded_handler!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14);
guarded_handler!(A1, A2, A3, A4, A5, A6, A7, A8, A9, A10, A11, A12, A13, A14, A15);

/// The requirement of a guarded handler.
pub trait Secured<Args> {
    /// `Some`: the handler's requirement.
    fn requirement(&self) -> Option<Requirement>;
}

impl<F: GuardedHandler<Args>, Args> Secured<Args> for Probe<F> {
    fn requirement(&self) -> Option<Requirement> {
        Some(<F::Requirement as HandlerRequirement>::REQUIREMENT)
    }
}

/// The requirement of a public handler: none.
pub trait Public {
    /// `None`: the handler is public.
    fn requirement(&self) -> Option<Requirement>;
}

impl<F> Public for &Probe<F> {
    fn requirement(&self) -> Option<Requirement> {
        None
    }
}
