//! npcql's SQL functions.
//!
//! The kernels (`morphology`, `survival`, `stats`) are pure Rust and know nothing of SQL;
//! `sql` registers them with DataFusion.

pub mod agreement;
pub mod morphology;
pub mod parallel;
pub mod sql;
pub mod stats;
pub mod survival;

#[cfg(test)]
mod placement_tests;
