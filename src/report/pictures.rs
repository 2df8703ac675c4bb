//! `-- show: slices` and `-- show: montage`: grids of tumour pictures (figures::slice) in the
//! page, each an `<img>` with a `data:` URI; a row whose picture cannot be drawn gets a cell
//! naming the file and the fault, and the page still renders.

use std::path::Path;

use super::ReportFault;
use super::figures::slice::{SliceChoice, SliceOptions, render_slice, tumour_slices};
use super::html::escape;
use super::rows::Rows;

/// One picture's cell: the image and its caption, or the fault in its place.
fn cell(series_dir: &str, path: &str, options: &SliceOptions, caption: &str) -> String {
    match render_slice(Path::new(series_dir), Path::new(path), options) {
        Ok(picture) => {
            let legend = picture.legend.join("; ");
            format!(
                "<figure class=\"slice\"><img src=\"{}\" width=\"{}\" height=\"{}\" alt=\"{}\" title=\"{}\">\
                 <figcaption>{}</figcaption></figure>",
                picture.data_uri(),
                picture.width,
                picture.height,
                escape(&legend),
                escape(&legend),
                escape(caption),
            )
        }
        Err(fault) => format!(
            "<figure class=\"slice fault\"><div class=\"placeholder\">not drawn: {}</div>\
             <figcaption>{}</figcaption></figure>",
            escape(&fault.to_string()),
            escape(caption)
        ),
    }
}

/// The optional text column `name` of `rows`, one value per row.
fn texts(rows: &Rows, name: &str) -> Result<Vec<Option<String>>, ReportFault> {
    Ok(match rows.find(name)? {
        Some(array) => Rows::labels(array),
        None => vec![None; rows.len()],
    })
}

fn numbers(rows: &Rows, name: &str) -> Result<Vec<Option<f64>>, ReportFault> {
    Ok(match rows.find(name)? {
        Some(array) => Rows::numbers(name, array)?,
        None => vec![None; rows.len()],
    })
}

/// `-- show: slices`: one picture per row, rows of one `group` on one line.
pub fn slices(rows: &Rows) -> Result<String, ReportFault> {
    let series = Rows::labels(rows.column("slices", "series_dir")?);
    let paths = Rows::labels(rows.column("slices", "path")?);
    let captions = texts(rows, "caption")?;
    let compare = texts(rows, "compare_path")?;
    let groups = texts(rows, "group")?;
    let slice = numbers(rows, "slice")?;
    let point = [
        numbers(rows, "x_lps_mm")?,
        numbers(rows, "y_lps_mm")?,
        numbers(rows, "z_lps_mm")?,
    ];
    let mut out = String::from("<div class=\"slices\">\n");
    let mut open_group: Option<Option<String>> = None;
    for i in 0..rows.len() {
        if open_group.as_ref() != Some(&groups[i]) {
            if open_group.is_some() {
                out.push_str("</div></div>\n");
            }
            let label = groups[i].as_deref().unwrap_or_default();
            out.push_str(&format!(
                "<div class=\"slice-group\"><div class=\"slice-group-label\">{}</div><div class=\"slice-row\">",
                escape(label)
            ));
            open_group = Some(groups[i].clone());
        }
        let caption = captions[i].clone().unwrap_or_default();
        let (Some(series_dir), Some(path)) = (&series[i], &paths[i]) else {
            out.push_str(&format!(
                "<figure class=\"slice fault\"><div class=\"placeholder\">not drawn: no series or mask</div>\
                 <figcaption>{}</figcaption></figure>",
                escape(&caption)
            ));
            continue;
        };
        let choice = match (slice[i], point.each_ref().map(|p| p[i])) {
            (Some(k), _) if k >= 0.0 => SliceChoice::Index(k as usize),
            (_, [Some(x), Some(y), Some(z)]) => SliceChoice::Position([x, y, z]),
            _ => SliceChoice::LargestArea,
        };
        let options = SliceOptions {
            slice: choice,
            compare: compare[i].as_ref().map(Into::into),
            ..SliceOptions::default()
        };
        out.push_str(&cell(series_dir, path, &options, &caption));
    }
    if open_group.is_some() {
        out.push_str("</div></div>\n");
    }
    out.push_str("</div>\n");
    Ok(out)
}

/// `-- show: montage`: for each row, every slice its tumour touches, in position order.
pub fn montage(rows: &Rows) -> Result<String, ReportFault> {
    let series = Rows::labels(rows.column("montage", "series_dir")?);
    let paths = Rows::labels(rows.column("montage", "path")?);
    let captions = texts(rows, "caption")?;
    let compare = texts(rows, "compare_path")?;
    let mut out = String::from("<div class=\"slices\">\n");
    for i in 0..rows.len() {
        let (Some(series_dir), Some(path)) = (&series[i], &paths[i]) else {
            continue;
        };
        let label = captions[i].clone().unwrap_or_else(|| path.clone());
        out.push_str(&format!(
            "<div class=\"slice-group\"><div class=\"slice-group-label\">{}</div><div class=\"slice-row\">",
            escape(&label)
        ));
        match tumour_slices(Path::new(series_dir), Path::new(path)) {
            Ok(slices) => {
                for k in slices {
                    let options = SliceOptions {
                        slice: SliceChoice::Index(k),
                        compare: compare[i].as_ref().map(Into::into),
                        ..SliceOptions::default()
                    };
                    out.push_str(&cell(series_dir, path, &options, &format!("slice {k}")));
                }
            }
            Err(fault) => out.push_str(&format!(
                "<figure class=\"slice fault\"><div class=\"placeholder\">not drawn: {}</div></figure>",
                escape(&fault.to_string())
            )),
        }
        out.push_str("</div></div>\n");
    }
    out.push_str("</div>\n");
    Ok(out)
}
