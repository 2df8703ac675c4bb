//! Distributions of a numeric column: box plots by group (Tukey: quartiles, whiskers to the
//! furthest value within 1.5 IQR, the rest as points) and histograms (Sturges' bins).

use super::format::number;
use super::svg::{Anchor, Linear, Svg, colour, nice_ticks, text_width, tick_label};

/// The q-quantile of sorted values by linear interpolation (R's default type 7, numpy's default).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let (below, above) = (h.floor() as usize, h.ceil() as usize);
    sorted[below] + (h - below as f64) * (sorted[above] - sorted[below])
}

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 320.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = HEIGHT - 50.0;

/// Box plots of `column` for each (group, values).
pub fn box_plot(column: &str, groups: &[(String, Vec<f64>)]) -> String {
    let all = groups.iter().flat_map(|(_, v)| v.iter().copied());
    let (min, max) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (min, max) = if min.is_finite() { (min, max) } else { (0.0, 1.0) };
    let ticks = nice_ticks(min, max, 5, false);
    let left = 20.0 + ticks.iter().map(|t| text_width(&tick_label(*t))).fold(0.0, f64::max) + 12.0;
    let right = WIDTH - 20.0;
    let y = Linear {
        domain: (ticks[0], *ticks.last().unwrap_or(&1.0)),
        range: (BOTTOM, TOP),
    };
    let band = (right - left) / groups.len().max(1) as f64;
    let mut svg = Svg::new("box", WIDTH, HEIGHT);
    y_axis(&mut svg, &ticks, &y, left, column);
    svg.open_group("axis x");
    svg.line((left, BOTTOM), (right, BOTTOM), "stroke:#000");
    for (i, (label, values)) in groups.iter().enumerate() {
        let cx = left + band * (i as f64 + 0.5);
        svg.text(
            (cx, BOTTOM + 18.0),
            Anchor::Middle,
            &format!("{label} (n = {})", values.len()),
            "",
        );
    }
    svg.close_group();
    svg.open_group("boxes");
    for (i, (_, values)) in groups.iter().enumerate() {
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        if sorted.is_empty() {
            continue;
        }
        let cx = left + band * (i as f64 + 0.5);
        let half = (band * 0.3).min(60.0);
        let (q1, median, q3) = (quantile(&sorted, 0.25), quantile(&sorted, 0.5), quantile(&sorted, 0.75));
        let fence = 1.5 * (q3 - q1);
        let low = sorted.iter().copied().find(|v| *v >= q1 - fence).unwrap_or(q1);
        let high = sorted.iter().rev().copied().find(|v| *v <= q3 + fence).unwrap_or(q3);
        let stroke = "stroke:#000;stroke-width:1.2";
        svg.line((cx, y.map(low)), (cx, y.map(q1)), stroke);
        svg.line((cx, y.map(q3)), (cx, y.map(high)), stroke);
        svg.line((cx - half / 2.0, y.map(low)), (cx + half / 2.0, y.map(low)), stroke);
        svg.line((cx - half / 2.0, y.map(high)), (cx + half / 2.0, y.map(high)), stroke);
        svg.rect(
            (cx - half, y.map(q3)),
            (2.0 * half, (y.map(q1) - y.map(q3)).max(0.5)),
            &format!("fill:{};fill-opacity:0.5;{stroke}", colour(i)),
        );
        svg.line(
            (cx - half, y.map(median)),
            (cx + half, y.map(median)),
            "stroke:#000;stroke-width:2.5",
        );
        for v in sorted.iter().filter(|v| **v < low || **v > high) {
            svg.circle((cx, y.map(*v)), 2.5, "fill:none;stroke:#000");
        }
    }
    svg.close_group();
    svg.finish()
}

/// A histogram of `column` with Sturges' number of equal-width bins.
pub fn histogram(column: &str, values: &[f64]) -> String {
    let (min, max) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(*v), hi.max(*v))
    });
    let (min, max) = if min.is_finite() { (min, max) } else { (0.0, 1.0) };
    let bins = ((values.len().max(1) as f64).log2().ceil() as usize + 1).max(1);
    let width = if max > min { (max - min) / bins as f64 } else { 1.0 };
    let mut counts = vec![0usize; bins];
    for v in values {
        let bin = (((v - min) / width) as usize).min(bins - 1);
        counts[bin] += 1;
    }
    let y_ticks = nice_ticks(0.0, *counts.iter().max().unwrap_or(&1) as f64, 4, false);
    let left = 20.0 + y_ticks.iter().map(|t| text_width(&tick_label(*t))).fold(0.0, f64::max) + 12.0;
    let right = WIDTH - 20.0;
    let x = Linear {
        domain: (min, min + width * bins as f64),
        range: (left, right),
    };
    let y = Linear {
        domain: (0.0, *y_ticks.last().unwrap_or(&1.0)),
        range: (BOTTOM, TOP),
    };
    let mut svg = Svg::new("histogram", WIDTH, HEIGHT);
    y_axis(&mut svg, &y_ticks, &y, left, "count");
    svg.open_group("bars");
    for (i, count) in counts.iter().enumerate() {
        let (x0, x1) = (x.map(min + width * i as f64), x.map(min + width * (i + 1) as f64));
        svg.rect(
            (x0, y.map(*count as f64)),
            (x1 - x0, BOTTOM - y.map(*count as f64)),
            &format!("fill:{};stroke:#fff", colour(1)),
        );
    }
    svg.close_group();
    svg.open_group("axis x");
    svg.line((left, BOTTOM), (right, BOTTOM), "stroke:#000");
    // Labels at every other bin edge, so they never touch.
    let stride = if bins > 6 { 2 } else { 1 };
    for edge in (0..=bins).step_by(stride) {
        let v = min + width * edge as f64;
        svg.line((x.map(v), BOTTOM), (x.map(v), BOTTOM + 5.0), "stroke:#000");
        svg.text((x.map(v), BOTTOM + 18.0), Anchor::Middle, &number(v), "");
    }
    svg.text(
        ((left + right) / 2.0, BOTTOM + 38.0),
        Anchor::Middle,
        column,
        "font-weight:bold",
    );
    svg.close_group();
    svg.finish()
}

/// The y axis with its ticks and a title above it.
fn y_axis(svg: &mut Svg, ticks: &[f64], y: &Linear, left: f64, title: &str) {
    svg.open_group("axis y");
    svg.line((left, y.range.0), (left, y.range.1), "stroke:#000");
    for t in ticks {
        svg.line((left - 5.0, y.map(*t)), (left, y.map(*t)), "stroke:#000");
        svg.text((left - 8.0, y.map(*t) + 4.0), Anchor::End, &tick_label(*t), "");
    }
    svg.text((left + 6.0, TOP - 6.0), Anchor::Start, title, "font-weight:bold");
    svg.close_group();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_as_r_type_7() {
        let v = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert_eq!(
            (quantile(&v, 0.25), quantile(&v, 0.5), quantile(&v, 0.75)),
            (2.0, 3.0, 4.0)
        );
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.25), 1.75);
    }

    #[test]
    fn figures_show_each_group_and_bin() {
        let svg = box_plot(
            "volume",
            &[("a".into(), vec![1.0, 2.0, 3.0, 40.0]), ("b".into(), vec![2.0])],
        );
        assert!(svg.contains("a (n = 4)") && svg.contains("b (n = 1)"));
        assert_eq!(svg.matches("<circle").count(), 1, "40 is an outlier");
        let svg = histogram("volume", &[1.0, 2.0, 2.5, 3.0, 9.0]);
        // Sturges: ceil(log2 5) + 1 = 4 bins.
        assert_eq!(svg.matches("<rect").count(), 4);
    }
}
