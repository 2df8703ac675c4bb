//! Numbers as a paper prints them.

/// A p-value as survminer and gtsummary print it: "p < 0.0001", else two significant digits
/// ("p = 0.0034", "p = 0.043"), and two decimals from 0.1 ("p = 0.43").
pub fn p_value(p: f64) -> String {
    if p.is_nan() {
        return "p = NA".into();
    }
    if p < 0.0001 {
        return "p < 0.0001".into();
    }
    format!("p = {}", p_digits(p))
}

/// The digits of a p-value without "p = " (a table cell).
pub fn p_digits(p: f64) -> String {
    if p < 0.0001 {
        return "<0.0001".into();
    }
    let two_significant = |p: f64| (1.0 - p.log10().floor()) as usize;
    // Round first: 0.09996 is "0.10", not "0.100".
    let rounded: f64 = format!("{p:.*}", two_significant(p)).parse().unwrap_or(p);
    if rounded >= 0.1 {
        return format!("{rounded:.2}");
    }
    format!("{rounded:.*}", two_significant(rounded))
}

/// A measurement with four significant digits, never rounding away its integer part:
/// 26705.75 → "26706", 12.346 → "12.35", 0.857142 → "0.8571"; tiny values in scientific form.
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v == 0.0 {
        return "0".into();
    }
    let magnitude = v.abs().log10().floor();
    if magnitude < -4.0 {
        return format!("{v:.2e}");
    }
    let decimals = (3.0 - magnitude).clamp(0.0, 6.0) as usize;
    format!("{v:.decimals$}")
}

/// [`number`] without trailing zeros: 61.0 → "61", 52.25 → "52.25" (counts and ages stay whole).
pub fn compact(v: f64) -> String {
    let text = number(v);
    if text.contains('.') && !text.contains('e') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// A hazard ratio and its interval: "1.52 (1.10–2.09)".
pub fn hazard_ratio(hr: f64, lower: f64, upper: f64) -> String {
    format!("{hr:.2} ({lower:.2}–{upper:.2})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_values_read_as_in_papers() {
        assert_eq!(p_value(0.0034), "p = 0.0034");
        assert_eq!(p_value(0.00003), "p < 0.0001");
        assert_eq!(p_value(0.0432), "p = 0.043");
        assert_eq!(p_value(0.4321), "p = 0.43");
        assert_eq!(p_value(0.00034), "p = 0.00034");
        assert_eq!(p_digits(1.0), "1.00");
        assert_eq!(
            (p_digits(0.09996), p_digits(0.000999)),
            ("0.10".into(), "0.0010".into())
        );
    }

    #[test]
    fn numbers_keep_four_significant_digits() {
        assert_eq!(number(26705.75), "26706");
        assert_eq!(number(12.346), "12.35");
        assert_eq!(number(0.857142), "0.8571");
        assert_eq!(number(-3.0), "-3.000");
        assert_eq!(number(0.00001234), "1.23e-5");
        assert_eq!(
            (compact(61.0), compact(52.25), compact(26705.75)),
            ("61".into(), "52.25".into(), "26706".into())
        );
        assert_eq!(hazard_ratio(1.5234, 1.1, 2.0912), "1.52 (1.10–2.09)");
    }
}
