//! `-- show: slices` and `-- show: montage`: grids of tumour pictures (figures::slice) in the
//! page, each an `<img>` with a `data:` URI; a row whose picture cannot be drawn gets a cell
//! naming the file and the fault, and the page still renders.

use std::path::Path;

use super::ReportFault;
use super::figures::slice::{GridCell, SliceChoice, SliceGrid, SliceOptions, render_grid, render_slice, tumour_slices};
use super::html::escape;
use super::rows::Rows;

/// One picture's cell: the image and its caption, or the fault in its place.
fn cell(series_dir: &Path, path: &Path, options: &SliceOptions, caption: &str) -> String {
    match render_slice(series_dir, path, options) {
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
        Err(fault) => placeholder(&fault.to_string(), caption),
    }
}

fn placeholder(fault: &str, caption: &str) -> String {
    format!(
        "<figure class=\"slice fault\"><div class=\"placeholder\">not drawn: {}</div>\
         <figcaption>{}</figcaption></figure>",
        escape(fault),
        escape(caption)
    )
}

/// Opens a line of pictures under `label` (closed by `</div></div>`).
fn group_start(label: &str) -> String {
    format!(
        "<div class=\"slice-group\"><div class=\"slice-group-label\">{}</div><div class=\"slice-row\">",
        escape(label)
    )
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

/// One row of a `-- show: slices` result: what to draw (`None` without a series or mask), its
/// caption and its group.
struct Row {
    target: Option<GridCell>,
    caption: String,
    group: Option<String>,
}

/// The rows of a result with the columns of `-- show: slices`.
fn slice_rows(rows: &Rows) -> Result<Vec<Row>, ReportFault> {
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
    Ok((0..rows.len())
        .map(|i| {
            let choice = match (slice[i], point.each_ref().map(|p| p[i])) {
                (Some(k), _) if k >= 0.0 => SliceChoice::Index(k as usize),
                (_, [Some(x), Some(y), Some(z)]) => SliceChoice::Position([x, y, z]),
                _ => SliceChoice::LargestArea,
            };
            let caption = captions[i].clone().unwrap_or_default();
            let target = match (&series[i], &paths[i]) {
                (Some(series_dir), Some(path)) => Some(GridCell {
                    series_dir: series_dir.into(),
                    mask_path: path.into(),
                    options: SliceOptions {
                        slice: choice,
                        compare: compare[i].as_ref().map(Into::into),
                        ..SliceOptions::default()
                    },
                    caption: caption.clone(),
                }),
                _ => None,
            };
            Row {
                target,
                caption,
                group: groups[i].clone(),
            }
        })
        .collect())
}

/// `-- show: slices`: one picture per row, rows of one `group` on one line.
pub fn slices(rows: &Rows) -> Result<String, ReportFault> {
    let mut out = String::from("<div class=\"slices\">\n");
    let mut open_group: Option<Option<String>> = None;
    for row in slice_rows(rows)? {
        if open_group.as_ref() != Some(&row.group) {
            if open_group.is_some() {
                out.push_str("</div></div>\n");
            }
            out.push_str(&group_start(row.group.as_deref().unwrap_or_default()));
            open_group = Some(row.group.clone());
        }
        match &row.target {
            Some(t) => out.push_str(&cell(&t.series_dir, &t.mask_path, &t.options, &row.caption)),
            None => out.push_str(&placeholder("no series or mask", &row.caption)),
        }
    }
    if open_group.is_some() {
        out.push_str("</div></div>\n");
    }
    out.push_str("</div>\n");
    Ok(out)
}

/// The rows of a `-- show: slices` result as one PNG grid (Python's `slice_grid`); a row
/// without a series or mask is left out.
pub fn slice_grid(rows: &Rows) -> Result<SliceGrid, ReportFault> {
    let cells: Vec<GridCell> = slice_rows(rows)?.into_iter().filter_map(|r| r.target).collect();
    Ok(render_grid(&cells))
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
        out.push_str(&group_start(&label));
        match tumour_slices(Path::new(series_dir), Path::new(path)) {
            Ok(slices) => {
                for k in slices {
                    let options = SliceOptions {
                        slice: SliceChoice::Index(k),
                        compare: compare[i].as_ref().map(Into::into),
                        ..SliceOptions::default()
                    };
                    out.push_str(&cell(
                        Path::new(series_dir),
                        Path::new(path),
                        &options,
                        &format!("slice {k}"),
                    ));
                }
            }
            Err(fault) => out.push_str(&placeholder(&fault.to_string(), "")),
        }
        out.push_str("</div></div>\n");
    }
    out.push_str("</div>\n");
    Ok(out)
}
