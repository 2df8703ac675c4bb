//! Survival analysis kernels: Kaplan–Meier, log-rank, Cox PH, concordance.
