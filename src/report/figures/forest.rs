//! Forest plot of hazard ratios: one line per row with its 95% interval on a log axis with a
//! line at HR = 1, HR (95% CI) and p as text beside it; reference rows (no HR) are listed as
//! "reference", and intervals beyond the axis end in an arrow.

use super::format::{hazard_ratio, p_digits};
use super::svg::{Anchor, Log, Svg, text_width, tick_label};

/// One line of the plot, as `cox_ph` gives it (`hr` `None`: a reference row).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ForestRow {
    pub label: String,
    pub hr: Option<f64>,
    pub hr_lower: Option<f64>,
    pub hr_upper: Option<f64>,
    pub p: Option<f64>,
    pub n: Option<i64>,
    pub events: Option<i64>,
}

const WIDTH: f64 = 760.0;
const ROW: f64 = 24.0;
/// The axis never spans more than 1/64 … 64: wider intervals end in arrows.
const AXIS_LIMIT: f64 = 64.0;

/// Draws the forest plot of `rows`.
pub fn forest_plot(rows: &[ForestRow]) -> String {
    let with_counts = rows.iter().any(|r| r.n.is_some() || r.events.is_some());
    let label_width = rows
        .iter()
        .map(|r| text_width(&r.label))
        .fold(text_width("Variable"), f64::max);
    let counts_x = 10.0 + label_width + 16.0;
    let plot_left = counts_x
        + if with_counts {
            text_width("n / events") + 16.0
        } else {
            0.0
        };
    let text_x = WIDTH - 200.0;
    let p_x = WIDTH - 20.0;
    let plot_right = text_x - 20.0;
    let (lo, hi) = axis_domain(rows);
    let x = Log {
        domain: (lo, hi),
        range: (plot_left, plot_right),
    };
    let top = 36.0;
    let bottom = top + ROW * rows.len() as f64;
    let height = bottom + 52.0;
    let mut svg = Svg::new("forest", WIDTH, height);

    svg.open_group("header");
    svg.text((10.0, 20.0), Anchor::Start, "Variable", "font-weight:bold");
    if with_counts {
        svg.text((counts_x, 20.0), Anchor::Start, "n / events", "font-weight:bold");
    }
    svg.text((text_x, 20.0), Anchor::Start, "HR (95% CI)", "font-weight:bold");
    svg.text((p_x, 20.0), Anchor::End, "p", "font-weight:bold");
    svg.close_group();

    svg.line(
        (x.map(1.0), top - 6.0),
        (x.map(1.0), bottom),
        "stroke:#888;stroke-dasharray:4 3",
    );
    svg.open_group("rows");
    for (i, row) in rows.iter().enumerate() {
        let cy = top + ROW * (i as f64 + 0.5);
        let baseline = cy + 4.0;
        svg.text((10.0, baseline), Anchor::Start, &row.label, "");
        if with_counts {
            let counts = format!(
                "{} / {}",
                row.n.map_or("–".into(), |n| n.to_string()),
                row.events.map_or("–".into(), |e| e.to_string())
            );
            svg.text((counts_x, baseline), Anchor::Start, &counts, "");
        }
        let Some(hr) = row.hr else {
            svg.text((text_x, baseline), Anchor::Start, "reference", "fill:#555");
            continue;
        };
        if let (Some(lower), Some(upper)) = (row.hr_lower, row.hr_upper) {
            let (l, u) = (lower.clamp(lo, hi), upper.clamp(lo, hi));
            svg.line((x.map(l), cy), (x.map(u), cy), "stroke:#000;stroke-width:1.5");
            if lower < lo {
                arrow(&mut svg, x.map(lo), cy, -1.0);
            }
            if upper > hi {
                arrow(&mut svg, x.map(hi), cy, 1.0);
            }
            svg.text((text_x, baseline), Anchor::Start, &hazard_ratio(hr, lower, upper), "");
        } else {
            svg.text((text_x, baseline), Anchor::Start, &format!("{hr:.2}"), "");
        }
        if (lo..=hi).contains(&hr) {
            svg.rect((x.map(hr) - 4.0, cy - 4.0), (8.0, 8.0), "fill:#000");
        }
        if let Some(p) = row.p {
            svg.text((p_x, baseline), Anchor::End, &p_digits(p), "");
        }
    }
    svg.close_group();

    svg.open_group("axis x");
    svg.line((plot_left, bottom + 4.0), (plot_right, bottom + 4.0), "stroke:#000");
    for tick in log_ticks(lo, hi) {
        svg.line((x.map(tick), bottom + 4.0), (x.map(tick), bottom + 9.0), "stroke:#000");
        svg.text((x.map(tick), bottom + 22.0), Anchor::Middle, &tick_label(tick), "");
    }
    svg.text(
        ((plot_left + plot_right) / 2.0, bottom + 42.0),
        Anchor::Middle,
        "Hazard ratio (log scale)",
        "font-weight:bold",
    );
    svg.close_group();
    svg.finish()
}

/// Powers of two around every finite interval, within ±[`AXIS_LIMIT`], always including 1.
fn axis_domain(rows: &[ForestRow]) -> (f64, f64) {
    let values = rows
        .iter()
        .flat_map(|r| [r.hr, r.hr_lower, r.hr_upper])
        .flatten()
        .filter(|v| v.is_finite() && *v > 0.0);
    let (min, max) = values.fold((1.0f64, 1.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let lo = 2f64.powf(min.log2().floor()).max(1.0 / AXIS_LIMIT);
    let hi = 2f64.powf(max.log2().ceil()).min(AXIS_LIMIT);
    // A single point at 1: show 0.5 … 2.
    if lo == hi { (lo / 2.0, hi * 2.0) } else { (lo, hi) }
}

/// Ticks at powers of two (every other one when there are many).
fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (a, b) = (lo.log2().round() as i32, hi.log2().round() as i32);
    let stride = if b - a > 8 { 2 } else { 1 };
    (a..=b)
        .filter(|k| (k - a) % stride == 0 || *k == 0)
        .map(|k| 2f64.powi(k))
        .collect()
}

/// An arrow head at (x, y) pointing left (`direction` −1) or right (+1).
fn arrow(svg: &mut Svg, x: f64, y: f64, direction: f64) {
    let back = x - direction * 7.0;
    svg.path(&[(x, y), (back, y - 4.0), (back, y + 4.0)], true, "fill:#000");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(label: &str, hr: f64, lower: f64, upper: f64) -> ForestRow {
        ForestRow {
            label: label.into(),
            hr: Some(hr),
            hr_lower: Some(lower),
            hr_upper: Some(upper),
            p: Some(0.0123),
            ..Default::default()
        }
    }

    #[test]
    fn rows_axis_reference_and_arrows() {
        let rows = [
            row("volume per SD", 1.5234, 1.1, 2.0912),
            ForestRow {
                label: "EBV negative".into(),
                ..Default::default()
            },
            row("regularity per SD", 0.8, 0.001, 500.0),
        ];
        let svg = forest_plot(&rows);
        assert_eq!(axis_domain(&rows), (1.0 / 64.0, 64.0));
        assert!(svg.contains("1.52 (1.10–2.09)") && svg.contains("reference") && svg.contains("0.012"));
        // Both ends of the wide interval are arrows (closed paths).
        assert_eq!(svg.matches("Z\"").count(), 2, "{svg}");
        assert_eq!(log_ticks(0.25, 4.0), [0.25, 0.5, 1.0, 2.0, 4.0]);
    }
}
