//! Tongban's domain: identity checks, regions, the service catalog, the working-day
//! calendar, the case state machine and the use cases that tie them to a store.
//!
//! This crate does no I/O and reads no clock: the time comes in as an argument, the
//! store is a trait ([`store::Tx`]) implemented elsewhere.

pub mod actor;
pub mod bundle;
pub mod calendar;
pub mod case;
pub mod catalog;
pub mod error;
pub mod hotline;
pub mod identity;
pub mod kpi;
pub mod org;
pub mod rating;
pub mod region;
pub mod stats;
pub mod store;
pub mod supervision;
pub mod table;
pub mod time;
pub mod usecase;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use error::{Error, FieldErrors, Result};
