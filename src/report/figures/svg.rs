//! The few SVG primitives the figures need, and the scales that place values on them.
//!
//! Written by hand rather than with a plotting crate: the figures are a handful of lines, paths
//! and texts, and the number-at-risk table must share the x scale with the curves exactly, which
//! is simplest when both are drawn through one [`Linear`].

use std::fmt::Write;

/// Text size of every label (px); [`text_width`] estimates widths from it.
pub const FONT_SIZE: f64 = 12.0;

/// Colours of successive groups (ggplot2's and survminer's default hues).
pub const PALETTE: [&str; 8] = [
    "#F8766D", "#00BFC4", "#7CAE00", "#C77CFF", "#E69F00", "#0072B2", "#CC79A7", "#666666",
];

/// The colour of the `i`th group.
pub fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// An estimate of a label's width at [`FONT_SIZE`] in a sans-serif face (0.6 em per character
/// is wide enough for digits and most letters), used to lay labels out without overlap.
pub fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * FONT_SIZE * 0.6
}

/// A linear map from data values onto pixels.
#[derive(Debug, Clone, Copy)]
pub struct Linear {
    pub domain: (f64, f64),
    pub range: (f64, f64),
}

impl Linear {
    pub fn map(&self, v: f64) -> f64 {
        let (d0, d1) = self.domain;
        let (r0, r1) = self.range;
        if d1 == d0 {
            return (r0 + r1) / 2.0;
        }
        r0 + (v - d0) / (d1 - d0) * (r1 - r0)
    }
}

/// A logarithmic map (hazard ratios).
#[derive(Debug, Clone, Copy)]
pub struct Log {
    pub domain: (f64, f64),
    pub range: (f64, f64),
}

impl Log {
    pub fn map(&self, v: f64) -> f64 {
        Linear {
            domain: (self.domain.0.ln(), self.domain.1.ln()),
            range: self.range,
        }
        .map(v.ln())
    }
}

/// Evenly spaced "nice" ticks from 0 (or `min`) covering `max`: steps of 1, 2, 2.5 or 5 × 10ᵏ,
/// about `count` of them. With `twelves` (a time axis in months) a step of 6, 12, 24, … is
/// preferred once the range spans two years, so ticks fall on whole years.
pub fn nice_ticks(min: f64, max: f64, count: usize, twelves: bool) -> Vec<f64> {
    if !(min.is_finite() && max.is_finite()) {
        return vec![0.0, 1.0];
    }
    // A single value (one row, a constant column) gets a range around it.
    let (min, max) = if max > min {
        (min, max)
    } else {
        let pad = (min.abs() * 0.1).max(1.0);
        (min - pad, max + pad)
    };
    let raw = (max - min) / count.max(1) as f64;
    let in_years = [6.0, 12.0, 24.0, 36.0, 60.0, 120.0]
        .into_iter()
        .find(|s| twelves && max - min >= 24.0 && *s >= raw);
    let step = in_years.unwrap_or_else(|| {
        let magnitude = 10f64.powf(raw.log10().floor());
        [1.0, 2.0, 2.5, 5.0, 10.0]
            .into_iter()
            .map(|m| m * magnitude)
            .find(|s| *s >= raw)
            .unwrap_or(10.0 * magnitude)
    });
    let first = (min / step).floor() * step;
    // The step is at least span / count, so about count + 2 ticks cover the range.
    (0..=count + 2)
        .map(|i| first + i as f64 * step)
        .scan(false, |done, t| {
            let keep = !*done;
            *done = t >= max - step * 1e-9;
            keep.then_some(t)
        })
        .collect()
}

/// A tick label: no trailing zeros ("12", "0.25", "2.5").
pub fn tick_label(v: f64) -> String {
    let text = format!("{:.4}", v);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" { "0".into() } else { text.into() }
}

/// Escapes text for XML (SVG and HTML alike).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// How a text is anchored at its x.
#[derive(Debug, Clone, Copy)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

/// An SVG document under construction.
#[derive(Debug)]
pub struct Svg {
    width: f64,
    height: f64,
    kind: &'static str,
    body: String,
}

impl Svg {
    /// An empty figure of `kind` (a class the page's CSS and the layout test use).
    pub fn new(kind: &'static str, width: f64, height: f64) -> Self {
        Svg {
            width,
            height,
            kind,
            body: String::new(),
        }
    }

    /// Opens a group with a class (`axis`, `legend`, `risk-table`, …).
    pub fn open_group(&mut self, class: &str) {
        let _ = write!(self.body, r#"<g class="{class}">"#);
    }

    pub fn close_group(&mut self) {
        self.body.push_str("</g>");
    }

    pub fn line(&mut self, (x1, y1): (f64, f64), (x2, y2): (f64, f64), style: &str) {
        let _ = write!(
            self.body,
            r#"<line x1="{x1:.2}" y1="{y1:.2}" x2="{x2:.2}" y2="{y2:.2}" style="{style}"/>"#
        );
    }

    /// A path through `points` (`closed`: back to the first).
    pub fn path(&mut self, points: &[(f64, f64)], closed: bool, style: &str) {
        if points.is_empty() {
            return;
        }
        let mut d = String::new();
        for (i, (x, y)) in points.iter().enumerate() {
            let _ = write!(d, "{}{x:.2},{y:.2}", if i == 0 { "M" } else { "L" });
        }
        if closed {
            d.push('Z');
        }
        let _ = write!(self.body, r#"<path d="{d}" style="{style}"/>"#);
    }

    pub fn rect(&mut self, (x, y): (f64, f64), (w, h): (f64, f64), style: &str) {
        let _ = write!(
            self.body,
            r#"<rect x="{x:.2}" y="{y:.2}" width="{w:.2}" height="{h:.2}" style="{style}"/>"#
        );
    }

    pub fn circle(&mut self, (x, y): (f64, f64), r: f64, style: &str) {
        let _ = write!(
            self.body,
            r#"<circle cx="{x:.2}" cy="{y:.2}" r="{r}" style="{style}"/>"#
        );
    }

    /// A text whose baseline sits at `y`.
    pub fn text(&mut self, (x, y): (f64, f64), anchor: Anchor, text: &str, style: &str) {
        let anchor = match anchor {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        };
        let _ = write!(
            self.body,
            r#"<text x="{x:.2}" y="{y:.2}" text-anchor="{anchor}" style="{style}">{}</text>"#,
            escape(text)
        );
    }

    /// The finished document: standalone (it carries its own font settings), so the same text
    /// is inlined in the report and written as a `.svg` file.
    pub fn finish(self) -> String {
        format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="figure {kind}" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="Helvetica, Arial, sans-serif" font-size="{FONT_SIZE}">{body}</svg>"#,
            kind = self.kind,
            w = self.width,
            h = self.height,
            body = self.body
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_nice_and_cover_the_range() {
        assert_eq!(nice_ticks(0.0, 60.0, 6, true), [0.0, 12.0, 24.0, 36.0, 48.0, 60.0]);
        assert_eq!(
            nice_ticks(0.0, 61.0, 6, true),
            [0.0, 12.0, 24.0, 36.0, 48.0, 60.0, 72.0]
        );
        assert_eq!(nice_ticks(0.0, 9.0, 5, true), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(nice_ticks(0.0, 1.0, 4, false), [0.0, 0.25, 0.5, 0.75, 1.0]);
        // Odd inputs end, and give a usable axis.
        assert_eq!(nice_ticks(-3.0, -3.0, 5, false), [-4.0, -3.5, -3.0, -2.5, -2.0]);
        assert_eq!(nice_ticks(0.5, 0.5, 5, false), [-0.5, 0.0, 0.5, 1.0, 1.5]);
        assert_eq!(nice_ticks(0.0, f64::INFINITY, 5, false), [0.0, 1.0]);
        // Days are not months: past ten years the decimal steps take over.
        assert_eq!(nice_ticks(0.0, 3650.0, 8, true).len(), 9);
        assert_eq!(tick_label(0.25), "0.25");
        assert_eq!(tick_label(12.0), "12");
    }

    #[test]
    fn scales_map_the_domain_onto_the_range() {
        let x = Linear {
            domain: (0.0, 60.0),
            range: (100.0, 700.0),
        };
        assert_eq!((x.map(0.0), x.map(30.0), x.map(60.0)), (100.0, 400.0, 700.0));
        let hr = Log {
            domain: (0.25, 4.0),
            range: (0.0, 400.0),
        };
        assert!((hr.map(1.0) - 200.0).abs() < 1e-9);
        assert_eq!(escape("a<b & 'c'"), "a&lt;b &amp; &#39;c&#39;");
    }
}
