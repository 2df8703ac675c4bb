//! Group comparison and association tests (as scipy.stats computes them).
