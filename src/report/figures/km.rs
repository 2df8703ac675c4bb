//! Kaplan–Meier figure: step curves per group with their 95% band, censor marks, median lines,
//! the log-rank p, a legend with each group's n, and the number-at-risk table under the x axis.
//!
//! Curves, band and medians come from the same kernels as `km_curve`, `km_median` and
//! `logrank_test`. The risk table and the x axis are drawn through one scale, so each count sits
//! exactly under its tick. At-risk counts follow R's `summary(survfit, times = t)`: the subjects
//! still at risk just before t, i.e. those whose time is ≥ t (an event or censoring at t is
//! still at risk at t).

use npcql_udfs::survival::{KmStep, SurvivalError, kaplan_meier, km_median, logrank_test};

use super::format::p_value;
use super::svg::{Anchor, FONT_SIZE, Linear, Svg, colour, nice_ticks, text_width, tick_label};

/// One group's follow-up: a time and an event flag per subject.
#[derive(Debug, Clone, Default)]
pub struct KmGroup {
    pub label: String,
    pub time: Vec<f64>,
    pub event: Vec<bool>,
}

/// The drawn figure, with the numbers it shows.
#[derive(Debug, Clone)]
pub struct KmFigure {
    pub svg: String,
    /// The x axis ticks, which are also the risk table's columns.
    pub ticks: Vec<f64>,
    /// Per group, the number at risk at each tick.
    pub at_risk: Vec<Vec<usize>>,
    /// Per group, the median survival time (`None` when not reached).
    pub medians: Vec<Option<f64>>,
    /// The log-rank test's p over the groups (`None` with one group).
    pub logrank_p: Option<f64>,
}

/// The number of subjects at risk just before each tick (time ≥ tick), as R reports it.
pub fn at_risk(time: &[f64], ticks: &[f64]) -> Vec<usize> {
    ticks
        .iter()
        .map(|&t| time.iter().filter(|&&x| x >= t).count())
        .collect()
}

const WIDTH: f64 = 760.0;
const PLOT_HEIGHT: f64 = 300.0;
const ROW: f64 = 18.0;

/// Draws the Kaplan–Meier figure of `groups`, the time axis labelled in `unit`.
pub fn km_plot(groups: &[KmGroup], unit: &str) -> Result<KmFigure, SurvivalError> {
    let curves: Vec<Vec<KmStep>> = groups
        .iter()
        .map(|g| kaplan_meier(&g.time, &g.event))
        .collect::<Result<_, _>>()?;
    let medians: Vec<Option<f64>> = curves.iter().map(|c| km_median(c)).collect();
    let logrank_p = if groups.len() >= 2 {
        let time: Vec<f64> = groups.iter().flat_map(|g| g.time.iter().copied()).collect();
        let event: Vec<bool> = groups.iter().flat_map(|g| g.event.iter().copied()).collect();
        let group: Vec<usize> = groups
            .iter()
            .enumerate()
            .flat_map(|(i, g)| vec![i; g.time.len()])
            .collect();
        Some(logrank_test(&time, &event, &group)?.p)
    } else {
        None
    };
    let max_time = groups.iter().flat_map(|g| g.time.iter().copied()).fold(0.0, f64::max);
    let ticks = nice_ticks(0.0, max_time.max(1e-9), 8, unit.eq_ignore_ascii_case("months"));
    let at_risk: Vec<Vec<usize>> = groups.iter().map(|g| at_risk(&g.time, &ticks)).collect();

    // Layout: legend rows on top, the plot, the x axis, then one risk-table row per group.
    let label_width = groups.iter().map(|g| text_width(&g.label)).fold(0.0, f64::max);
    let left = (label_width + 32.0).max(64.0);
    let right = WIDTH - 30.0;
    let legend_items: Vec<String> = groups
        .iter()
        .map(|g| format!("{} (n = {})", g.label, g.time.len()))
        .collect();
    let legend_rows = legend_layout(&legend_items, left, right);
    let top = 24.0
        + ROW
            * legend_rows
                .iter()
                .map(|(_, row)| *row)
                .max()
                .map_or(0.0, |r| r as f64 + 1.0);
    let bottom = top + PLOT_HEIGHT;
    let risk_top = bottom + 62.0;
    let height = risk_top + ROW * (groups.len() as f64 + 0.5) + 8.0;
    let x = Linear {
        domain: (0.0, *ticks.last().unwrap_or(&1.0)),
        range: (left, right),
    };
    let y = Linear {
        domain: (0.0, 1.0),
        range: (bottom, top),
    };
    let mut svg = Svg::new("km", WIDTH, height);

    // Axes.
    svg.open_group("axis x");
    svg.line((left, bottom), (right, bottom), "stroke:#000");
    for &t in &ticks {
        svg.line((x.map(t), bottom), (x.map(t), bottom + 5.0), "stroke:#000");
        svg.text((x.map(t), bottom + 18.0), Anchor::Middle, &tick_label(t), "");
    }
    svg.text(
        ((left + right) / 2.0, bottom + 38.0),
        Anchor::Middle,
        &format!("Time ({unit})"),
        "font-weight:bold",
    );
    svg.close_group();
    svg.open_group("axis y");
    svg.line((left, bottom), (left, top), "stroke:#000");
    for s in [0.0, 0.25, 0.5, 0.75, 1.0] {
        svg.line((left - 5.0, y.map(s)), (left, y.map(s)), "stroke:#000");
        svg.text((left - 8.0, y.map(s) + 4.0), Anchor::End, &tick_label(s), "");
    }
    svg.close_group();

    // Bands, then median lines, then curves and censor marks on top.
    for (i, curve) in curves.iter().enumerate() {
        let steps = |bound: fn(&KmStep) -> f64| -> Vec<(f64, f64)> { step_points(curve, bound, &x, &y) };
        let mut band = steps(|s| s.ci_upper);
        let lower = steps(|s| s.ci_lower);
        band.extend(lower.into_iter().rev());
        svg.path(
            &band,
            true,
            &format!("fill:{};fill-opacity:0.15;stroke:none", colour(i)),
        );
    }
    svg.open_group("medians");
    for median in medians.iter().flatten() {
        let dashed = "stroke:#555;stroke-dasharray:4 3";
        svg.line((x.map(0.0), y.map(0.5)), (x.map(*median), y.map(0.5)), dashed);
        svg.line((x.map(*median), y.map(0.5)), (x.map(*median), y.map(0.0)), dashed);
    }
    svg.close_group();
    for (i, curve) in curves.iter().enumerate() {
        let style = format!("fill:none;stroke:{};stroke-width:2", colour(i));
        svg.path(&step_points(curve, |s| s.survival, &x, &y), false, &style);
        for step in curve.iter().filter(|s| s.censored > 0) {
            let (cx, cy) = (x.map(step.time), y.map(step.survival));
            svg.line(
                (cx, cy - 4.0),
                (cx, cy + 4.0),
                &format!("stroke:{};stroke-width:1.5", colour(i)),
            );
        }
    }
    if let Some(p) = logrank_p {
        svg.open_group("pvalue");
        svg.text(
            (left + 10.0, bottom - 10.0),
            Anchor::Start,
            &format!("Log-rank {}", p_value(p)),
            "",
        );
        svg.close_group();
    }

    // Legend.
    svg.open_group("legend");
    for (i, (item, (lx, row))) in legend_items.iter().zip(&legend_rows).enumerate() {
        let ly = 16.0 + ROW * *row as f64;
        svg.line(
            (*lx, ly - 4.0),
            (*lx + 18.0, ly - 4.0),
            &format!("stroke:{};stroke-width:2", colour(i)),
        );
        svg.text((*lx + 24.0, ly), Anchor::Start, item, "");
    }
    svg.close_group();

    // Number at risk, through the same x scale as the ticks.
    svg.open_group("risk-table");
    svg.text(
        (8.0, bottom + 60.0 - ROW + 4.0),
        Anchor::Start,
        "Number at risk",
        "font-weight:bold",
    );
    for (i, (group, counts)) in groups.iter().zip(&at_risk).enumerate() {
        let ry = risk_top + ROW * i as f64;
        svg.text(
            (left - 12.0, ry),
            Anchor::End,
            &group.label,
            &format!("fill:{}", colour(i)),
        );
        for (&t, n) in ticks.iter().zip(counts) {
            svg.text((x.map(t), ry), Anchor::Middle, &n.to_string(), "");
        }
    }
    svg.close_group();

    Ok(KmFigure {
        svg: svg.finish(),
        ticks,
        at_risk,
        medians,
        logrank_p,
    })
}

/// The step function of `bound` over the curve from (0, 1), as pixel points.
fn step_points(curve: &[KmStep], bound: fn(&KmStep) -> f64, x: &Linear, y: &Linear) -> Vec<(f64, f64)> {
    let mut points = vec![(x.map(0.0), y.map(1.0))];
    let mut level = 1.0;
    for step in curve {
        points.push((x.map(step.time), y.map(level)));
        level = bound(step);
        points.push((x.map(step.time), y.map(level)));
    }
    points
}

/// Where each legend item starts (x) and on which row, wrapping at `right`.
fn legend_layout(items: &[String], left: f64, right: f64) -> Vec<(f64, usize)> {
    let mut placed = Vec::new();
    let (mut lx, mut row) = (left, 0);
    for item in items {
        let width = 24.0 + text_width(item) + FONT_SIZE * 1.5;
        if lx + width > right && lx > left {
            lx = left;
            row += 1;
        }
        placed.push((lx, row));
        lx += width;
    }
    placed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_risk_counts_those_still_followed_at_the_tick() {
        // An event and a censoring exactly at 12 are both at risk at 12.
        let time = [3.0, 12.0, 12.0, 20.0, 30.0];
        assert_eq!(at_risk(&time, &[0.0, 12.0, 24.0, 36.0]), [5, 4, 1, 0]);
    }

    #[test]
    fn a_figure_has_its_parts() {
        let groups = [
            KmGroup {
                label: "negative".into(),
                time: vec![5.0, 12.0, 30.0, 60.0],
                event: vec![true, false, true, false],
            },
            KmGroup {
                label: "positive".into(),
                time: vec![2.0, 3.0, 8.0, 12.0, 40.0],
                event: vec![true, true, true, false, true],
            },
        ];
        let figure = km_plot(&groups, "months").unwrap();
        assert_eq!(figure.ticks, [0.0, 12.0, 24.0, 36.0, 48.0, 60.0]);
        assert_eq!(figure.at_risk, [vec![4, 3, 2, 1, 1, 1], vec![5, 2, 1, 1, 0, 0]]);
        assert_eq!(figure.medians, [Some(30.0), Some(8.0)]);
        for part in [
            "axis x",
            "legend",
            "risk-table",
            "pvalue",
            "negative (n = 4)",
            "Time (months)",
        ] {
            assert!(figure.svg.contains(part), "{part}");
        }
    }
}
