//! npcql's integration tests: one binary (each test binary links DataFusion, ~240 MB).

mod bad_input;
mod cli;
mod sample;
mod slt;
mod support;
