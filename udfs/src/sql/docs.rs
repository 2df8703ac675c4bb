//! One-line documentation of npcql's SQL functions, for `.functions` in the shell and the README.

/// (name, signature, definition with units) of every npcql function.
pub const FUNCTION_DOCS: &[(&str, &str, &str)] = &[
    (
        "tumor_volume",
        "tumor_volume(path) → DOUBLE",
        "mesh volume of the mask, mm³ (marching cubes at 0.5, IBSI RNU0)",
    ),
    (
        "voxel_volume",
        "voxel_volume(path) → DOUBLE",
        "tumour voxel count × voxel volume, mm³ (IBSI YEKZ)",
    ),
    (
        "surface_area",
        "surface_area(path) → DOUBLE",
        "mesh surface area, mm² (IBSI C0JK)",
    ),
    (
        "max_diameter",
        "max_diameter(path) → DOUBLE",
        "largest distance between two mesh vertices, mm (IBSI L0JK)",
    ),
    (
        "regularity",
        "regularity(path) → DOUBLE",
        "surface regularity 6·√π·V / S^1.5, 1 for a sphere (dataset authors)",
    ),
    (
        "sphericity",
        "sphericity(path) → DOUBLE",
        "(36πV²)^(1/3) / S, 1 for a sphere (IBSI QCFX)",
    ),
    (
        "morphology",
        "morphology(path) → STRUCT",
        "every shape feature of the mask: volumes, area, diameters, axes (mm), ratios, centroid, counts",
    ),
    (
        "km_survival_at",
        "km_survival_at(time, event, t) → DOUBLE",
        "Kaplan–Meier survival probability S(t) at time t (aggregate)",
    ),
    (
        "km_median",
        "km_median(time, event) → DOUBLE",
        "Kaplan–Meier median survival time; NULL when S(t) never reaches 0.5",
    ),
    (
        "km_curve",
        "km_curve(time, event) → LIST<STRUCT>",
        "Kaplan–Meier curve {time, at_risk, events, censored, survival, ci_lower, ci_upper}, 95% log-log CI",
    ),
    (
        "logrank_test",
        "logrank_test(time, event, group) → STRUCT",
        "log-rank test over 2+ groups {chi2, df, p}",
    ),
    (
        "cox_ph",
        "cox_ph(time, event, x | named_struct(...)) → STRUCT",
        "Cox proportional hazards, Efron ties {coef, hr, se, hr_lower, hr_upper, z, p}; per unit of x",
    ),
    (
        "c_index",
        "c_index(time, event, risk) → DOUBLE",
        "Harrell's concordance; higher risk = earlier event",
    ),
    (
        "mann_whitney_p",
        "mann_whitney_p(value, group) → DOUBLE",
        "Mann–Whitney U two-sided p (asymptotic, tie and continuity corrected)",
    ),
    (
        "welch_t_p",
        "welch_t_p(value, group) → DOUBLE",
        "Welch's unequal-variance t-test two-sided p",
    ),
    (
        "chi2_p",
        "chi2_p(a, b) → DOUBLE",
        "χ² test of independence p (Yates correction on 2×2 tables)",
    ),
    (
        "fisher_exact_p",
        "fisher_exact_p(a, b) → DOUBLE",
        "Fisher's exact test two-sided p on a 2×2 table",
    ),
    (
        "spearman_rho",
        "spearman_rho(x, y) → DOUBLE",
        "Spearman rank correlation (mid-ranks for ties)",
    ),
];
