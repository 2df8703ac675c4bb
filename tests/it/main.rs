//! npcql's integration tests: one binary (each test binary links DataFusion, ~240 MB).

mod allocation;
mod alt_dataset;
mod bad_input;
mod cache;
mod cli;
mod corruption;
#[cfg(feature = "distributed")]
mod distributed;
mod docs;
mod embedding;
mod export;
mod fault_corpus;
mod hardening;
mod imports;
mod pairing;
mod reader_faults;
mod repl;
mod report;
mod sample;
mod slt;
mod support;
