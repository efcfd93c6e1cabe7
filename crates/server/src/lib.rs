//! The `tongban` binary's library half: the demo county (and what tests share with
//! the binary).

pub mod bench;
pub mod demo;
pub mod sqlite_heap;
