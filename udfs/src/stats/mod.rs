//! Group comparison and association tests, as scipy.stats 1.17 computes them, and p-value
//! adjustment for multiple comparisons as R's `p.adjust`.
//!
//! The kernels take plain slices and return `None` where scipy returns NaN (too few values, zero
//! variance); `tests/reference/survival/` holds the scipy reference numbers they are checked
//! against.

pub mod contingency;
pub mod kruskal;
pub mod mann_whitney;
pub mod p_adjust;
mod rank;
pub mod spearman;
#[cfg(test)]
mod tests;
pub mod welch;

pub use contingency::{Chi2Result, ContingencyTable, chi2_contingency, fisher_exact_2x2, fisher_exact_rxc};
pub use kruskal::{KruskalWallis, kruskal_wallis};
pub use mann_whitney::{MannWhitney, mann_whitney_u};
pub use p_adjust::{PAdjustError, PAdjustMethod, p_adjust};
pub use spearman::spearman_rho;
pub use welch::{WelchT, welch_t_test};
