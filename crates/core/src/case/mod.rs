//! 办件 — the case under 一窗受理 (DOMAIN §4): states, actions, clocks, the transition
//! function and its rules.

pub mod action;
pub mod application;
pub mod clock;
pub mod model;
pub mod number;
pub mod receive;
pub mod rules;
pub mod state;
pub mod transition;

pub use action::{Action, ActionKind, MaterialInput, MaterialLine};
pub use clock::{Clock, ClockKind, Clocks, Warning};
pub use model::*;
pub use number::CaseNumber;
pub use receive::{ApplicantInput, Application, receive};
pub use rules::{authorize, can_see, next_state};
pub use state::{CaseState, Channel};
pub use transition::{Ctx, Effect, Transition, apply, available_actions};

#[cfg(test)]
mod tests;
