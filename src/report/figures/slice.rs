//! The tumour on its MRI: one slice of a series, windowed to the whole series' 1st–99th
//! intensity percentile (as ITK-SNAP opens an image) or a given window, shown in radiological
//! orientation without reslicing, with the mask's outline along voxel edges (the tissue under
//! it stays visible), a second mask's outline in another colour, orientation letters from the
//! series' direction cosines and a scale bar. A PNG, for reports, notebooks and the QC sheet.
//!
//! Everything of where voxels are comes from the imaging room: the pixel reader, the one pairing
//! rule for a mask and its series, and the resampler for a second mask drawn on another grid.

use std::path::{Path, PathBuf};

use npcql_imaging::dicom::pixels::{self, Photometric, PixelError};
use npcql_imaging::geometry::{Affine, Pairing, SeriesGeometry, apply, inverse, pair, ras_to_lps};
use npcql_imaging::mask::{MaskError, MaskVolume, read_mask, read_mask_header};
use npcql_imaging::resample;

use super::raster::{Ink, Raster};

/// Which slice to show (slices counted in position order, as `radiomics`' diagnostics count them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SliceChoice {
    /// The slice where the tumour's area is largest (the first of equals).
    LargestArea,
    /// This slice.
    Index(usize),
    /// The slice whose plane is nearest this scanner point (LPS, mm).
    Position([f64; 3]),
}

/// How to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct SliceOptions {
    pub slice: SliceChoice,
    /// The grey window [low, high] in real units; `None`: the series' 1st–99th percentile.
    pub window: Option<[f64; 2]>,
    /// A second mask to outline (a prediction, another sequence's delineation).
    pub compare: Option<PathBuf>,
    /// Crop to the tumour's box plus [`CROP_MARGIN_MM`]; `false`: the whole slice.
    pub crop: bool,
    /// The picture's longer side at most (pixels), frame included, unless one pixel per
    /// voxel already exceeds it (a whole large slice).
    pub size: u32,
}

impl Default for SliceOptions {
    fn default() -> Self {
        SliceOptions {
            slice: SliceChoice::LargestArea,
            window: None,
            compare: None,
            crop: true,
            size: 256,
        }
    }
}

/// The margin kept around the tumour's box when cropping, mm.
pub const CROP_MARGIN_MM: f64 = 10.0;
/// The frame's width around the image (orientation letters, scale bar), pixels.
const BAND: u32 = 12;
/// A direction component drawn as a letter (about 6°: an oblique series gets two).
const LETTER_COMPONENT: f64 = 0.1;

/// Why no picture: the file at fault and what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SliceError {
    #[error("{0}")]
    Pixels(#[from] PixelError),
    #[error("{0}")]
    Mask(#[from] MaskError),
    #[error("{}: cannot be paired with the series {}", mask.display(), series.display())]
    Unpaired { mask: PathBuf, series: PathBuf },
    #[error("{}: slice {index} asked for, the series has {count}", series.display())]
    SliceRange {
        series: PathBuf,
        index: usize,
        count: usize,
    },
}

/// A drawn slice.
#[derive(Debug, Clone)]
pub struct SlicePicture {
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// The slice shown and the series' slice count.
    pub slice: usize,
    pub slice_count: usize,
    /// The grey window used, real units.
    pub window: [f64; 2],
    /// Tumour voxels on the slice shown.
    pub tumour_voxels: usize,
    /// What the picture shows in words: the slice, the window, each outline (and why a second
    /// one is not drawn).
    pub legend: Vec<String>,
    /// The orientation letters drawn on the top, right, bottom and left sides.
    pub sides: [String; 4],
    layout: Layout,
}

impl SlicePicture {
    /// The PNG as a `data:` URI for an `<img src>`.
    pub fn data_uri(&self) -> String {
        use base64::Engine as _;
        format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&self.png)
        )
    }

    /// The series voxel (column, row) drawn at pixel (x, y); `None` on the frame.
    pub fn voxel_at(&self, x: u32, y: u32) -> Option<[usize; 2]> {
        self.layout.voxel_at(x, y)
    }
}

/// The slice of `series_dir` chosen by `options`, with the outline of the mask at `mask_path`.
pub fn render_slice(series_dir: &Path, mask_path: &Path, options: &SliceOptions) -> Result<SlicePicture, SliceError> {
    draw(series_dir, mask_path, options).map(|(picture, _)| picture)
}

/// One cell of a [`render_grid`]: a series, its mask, how to draw, and a caption.
#[derive(Debug, Clone)]
pub struct GridCell {
    pub series_dir: PathBuf,
    pub mask_path: PathBuf,
    pub options: SliceOptions,
    pub caption: String,
}

/// Cells across a grid's row.
const GRID_COLUMNS: usize = 3;

/// Several pictures as one PNG, three to a row, each with its caption under it (cut to the
/// picture's width); a cell that cannot be drawn shows its fault in words. Its legend: each
/// cell's caption and legend, or fault.
pub fn render_grid(cells: &[GridCell]) -> SliceGrid {
    let mut drawn = Vec::new();
    let mut legend = Vec::new();
    for cell in cells {
        match draw(&cell.series_dir, &cell.mask_path, &cell.options) {
            Ok((picture, raster)) => {
                legend.push(format!("{}: {}", cell.caption, picture.legend.join("; ")));
                drawn.push((raster, cell.caption.clone()));
            }
            Err(fault) => {
                let fault = fault.to_string();
                legend.push(format!("{}: not drawn, {fault}", cell.caption));
                let mut raster = Raster::new(cell.options.size.min(256), 96);
                raster.text(4, 4, "not drawn:", Ink::Text);
                let per_line = (raster.width as usize - 8) / 8;
                let chars: Vec<char> = fault.chars().collect();
                for (line, chunk) in chars.chunks(per_line.max(1)).take(8).enumerate() {
                    raster.text(
                        4,
                        16 + 10 * line as u32,
                        &chunk.iter().collect::<String>(),
                        Ink::Outline,
                    );
                }
                drawn.push((raster, cell.caption.clone()));
            }
        }
    }
    let caption_height = 12;
    let gap = 8;
    let rows: Vec<&[(Raster, String)]> = drawn.chunks(GRID_COLUMNS).collect();
    let column_widths: Vec<u32> = (0..GRID_COLUMNS)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|(r, _)| r.width)
                .max()
                .unwrap_or(0)
        })
        .collect();
    let row_heights: Vec<u32> = rows
        .iter()
        .map(|r| r.iter().map(|(r, _)| r.height).max().unwrap_or(0) + caption_height + gap)
        .collect();
    let width = (column_widths.iter().sum::<u32>() + gap * (GRID_COLUMNS as u32 - 1)).max(1);
    let height = row_heights.iter().sum::<u32>().max(1);
    let mut grid = Raster::new(width, height);
    let mut y = 0;
    for (row, row_height) in rows.iter().zip(&row_heights) {
        let mut x = 0;
        for ((raster, caption), column_width) in row.iter().zip(&column_widths) {
            grid.paste(raster, x, y);
            let fits = (raster.width / 8) as usize;
            grid.text(
                x,
                y + raster.height + 2,
                &caption.chars().take(fits).collect::<String>(),
                Ink::Text,
            );
            x += column_width + gap;
        }
        y += row_height;
    }
    SliceGrid {
        png: grid.png(),
        width,
        height,
        legend,
    }
}

/// Pictures side by side as one PNG.
#[derive(Debug, Clone)]
pub struct SliceGrid {
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// Each cell's caption with its picture's legend, or its fault.
    pub legend: Vec<String>,
}

fn draw(series_dir: &Path, mask_path: &Path, options: &SliceOptions) -> Result<(SlicePicture, Raster), SliceError> {
    let (geometry, tumour) = paired_tumour(series_dir, mask_path)?;
    let [columns, rows, count] = geometry.dims();
    let slice = match options.slice {
        SliceChoice::Index(index) if index >= count => {
            return Err(SliceError::SliceRange {
                series: series_dir.to_path_buf(),
                index,
                count,
            });
        }
        SliceChoice::Index(index) => index,
        SliceChoice::LargestArea => largest_area_slice(&tumour, count),
        SliceChoice::Position(point) => nearest_slice(&geometry, point),
    };
    // The window needs every slice; a given window only the one shown.
    let (volume, window) = match options.window {
        Some(window) => (pixels::read_slices(&geometry, slice..slice + 1)?, window),
        None => {
            let volume = pixels::read_volume(&geometry)?;
            let window = percentiles(&volume.values, [0.01, 0.99]);
            (volume, window)
        }
    };
    let plane = |i: usize, j: usize| volume.get(i, j, slice - volume.origin[2]);
    let tumour_grid = on_slice(&tumour, &geometry, slice);
    let region = match options.crop && !tumour.is_empty() {
        true => crop_region(&tumour, &geometry),
        false => [0..columns, 0..rows],
    };
    let layout = Layout::new(&geometry, region, options.size, options.compare.is_some());
    let mut raster = Raster::new(layout.width, layout.height);
    let [low, high] = window;
    let invert = volume.photometric == Photometric::Monochrome1;
    for (cu, cv, i, j) in layout.cells() {
        let grey = if high > low {
            (plane(i, j) - low) / (high - low)
        } else {
            0.5
        };
        let grey = if invert { 1.0 - grey.clamp(0.0, 1.0) } else { grey };
        layout.fill_cell(&mut raster, cu, cv, Ink::Grey(grey));
    }
    layout.outline(&mut raster, &tumour_grid, columns, Ink::Outline);
    let name = |path: &Path| {
        path.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().trim_end_matches(".gz").to_string())
    };
    let tumour_voxels = tumour_grid.iter().filter(|&&t| t).count();
    let mut legend = vec![
        format!(
            "slice {slice} of 0–{}, window {} to {}",
            count - 1,
            short(low),
            short(high)
        ),
        format!("{} (outline): {tumour_voxels} voxels on this slice", name(mask_path)),
    ];
    let mut labels = vec![(name(mask_path), Ink::Outline)];
    if let Some(compare) = &options.compare {
        match compare_on_slice(compare, &geometry, slice) {
            Ok(grid) => {
                layout.outline(&mut raster, &grid, columns, Ink::Compare);
                let voxels = grid.iter().filter(|&&t| t).count();
                legend.push(format!(
                    "{} (second outline): {voxels} voxels on this slice",
                    name(compare)
                ));
                labels.push((name(compare), Ink::Compare));
            }
            Err(why) => {
                legend.push(format!("{}: not drawn, {why}", name(compare)));
                labels.push((format!("{}: not drawn", name(compare)), Ink::Compare));
            }
        }
    }
    layout.annotate(&mut raster, &labels);
    let picture = SlicePicture {
        png: raster.png(),
        width: layout.width,
        height: layout.height,
        slice,
        slice_count: count,
        window,
        tumour_voxels,
        legend,
        sides: layout.sides(),
        layout,
    };
    Ok((picture, raster))
}

/// The slices (position order) the tumour of `mask_path` touches on `series_dir`, ascending.
pub fn tumour_slices(series_dir: &Path, mask_path: &Path) -> Result<Vec<usize>, SliceError> {
    let (_, tumour) = paired_tumour(series_dir, mask_path)?;
    let mut slices: Vec<usize> = tumour.iter().map(|v| v[2]).collect();
    slices.sort_unstable();
    slices.dedup();
    Ok(slices)
}

/// The series' geometry and the mask's tumour voxels in its indices, through the one pairing
/// rule.
fn paired_tumour(series_dir: &Path, mask_path: &Path) -> Result<(SeriesGeometry, Vec<[usize; 3]>), SliceError> {
    let geometry = pixels::series_geometry(series_dir)?;
    let header = read_mask_header(mask_path)?;
    let map = pair(&header.geometry(), &geometry)
        .mask_to_series()
        .ok_or_else(|| SliceError::Unpaired {
            mask: mask_path.to_path_buf(),
            series: series_dir.to_path_buf(),
        })?;
    let tumour = read_mask(mask_path)?.voxels_in_series(&map, geometry.dims());
    Ok((geometry, tumour))
}

/// Which voxels of slice `slice` (columns × rows, row-major) are among `voxels`.
fn on_slice(voxels: &[[usize; 3]], geometry: &SeriesGeometry, slice: usize) -> Vec<bool> {
    let [columns, rows, _] = geometry.dims();
    let mut grid = vec![false; columns * rows];
    for v in voxels.iter().filter(|v| v[2] == slice) {
        grid[v[1] * columns + v[0]] = true;
    }
    grid
}

/// A second mask on the series' slice `slice` (columns × rows, row-major), through scanner
/// space: exactly when its grid is the series' (the pairing rule's scanner pairing), else by
/// the room's resampler (nearest neighbour at the voxel centres); by the dataset's convention
/// only when it has no affine and the series' size. `Err(why)` when it cannot be drawn here.
fn compare_on_slice(path: &Path, geometry: &SeriesGeometry, slice: usize) -> Result<Vec<bool>, String> {
    let [columns, rows, _] = geometry.dims();
    let header = read_mask_header(path).map_err(|e| e.to_string())?;
    let pairing = pair(&header.geometry(), geometry);
    let exact = match (&pairing, &header.affine) {
        (Pairing::Scanner { .. }, _) | (Pairing::Convention { .. }, None) => pairing.mask_to_series(),
        _ => None,
    };
    if let Some(map) = exact {
        let mask = read_mask(path).map_err(|e| e.to_string())?;
        return Ok(on_slice(&mask.voxels_in_series(&map, geometry.dims()), geometry, slice));
    }
    if header.affine.is_none() {
        return Err("it has no affine and another grid than the series".into());
    }
    let other = read_mask(path).map_err(|e| e.to_string())?;
    // The displayed plane must lie within half a slice of the other grid's slices: its centre,
    // in the other grid's continuous indices, inside the grid's extent on every axis.
    let series_ras = ras_to_lps(&geometry.voxel_to_lps());
    let centre = apply(
        &series_ras,
        [(columns as f64 - 1.0) / 2.0, (rows as f64 - 1.0) / 2.0, slice as f64],
    );
    let to_other = inverse(&other.affine).ok_or("its affine cannot be inverted")?;
    let at = apply(&to_other, centre);
    if (0..3).any(|a| at[a] < -0.5 || at[a] > other.source_dims[a] as f64 - 0.5) {
        return Err("this plane lies outside its slices".into());
    }
    let reference = series_grid(geometry, &series_ras);
    let moved = resample::onto(&reference, &other)?;
    let mut grid = vec![false; columns * rows];
    for j in 0..rows {
        for i in 0..columns {
            grid[j * columns + i] = moved.get(
                i as i64 - moved.offset[0],
                j as i64 - moved.offset[1],
                slice as i64 - moved.offset[2],
            );
        }
    }
    Ok(grid)
}

/// An empty mask on the series' grid (RAS affine, as masks keep theirs): the resampler's target.
fn series_grid(geometry: &SeriesGeometry, affine_ras: &Affine) -> MaskVolume {
    let [row, column] = geometry.pixel_spacing_mm;
    let spacing = [column, row, geometry.slice_spacing_mm().unwrap_or(row)];
    MaskVolume::from_box(geometry.dims(), spacing, *affine_ras, [0; 3], [0; 3], &mut |_, _, _| {
        false
    })
}

fn largest_area_slice(tumour: &[[usize; 3]], count: usize) -> usize {
    let mut area = vec![0usize; count];
    for v in tumour {
        area[v[2]] += 1;
    }
    // The first slice of the largest area (max_by_key keeps the last of equals).
    let largest = area.iter().copied().max().unwrap_or(0);
    area.iter().position(|&a| a == largest).unwrap_or(0)
}

/// The slice whose plane is nearest `point` (LPS mm), along the series' normal.
fn nearest_slice(geometry: &SeriesGeometry, point: [f64; 3]) -> usize {
    let n = geometry.normal();
    let along = |p: [f64; 3]| p[0] * n[0] + p[1] * n[1] + p[2] * n[2];
    let target = along(point);
    geometry
        .slices
        .iter()
        .enumerate()
        .min_by(|a, b| {
            (along(a.1.position) - target)
                .abs()
                .total_cmp(&(along(b.1.position) - target).abs())
        })
        .map_or(0, |(k, _)| k)
}

/// numpy's default percentiles (linear between the closest ranks), each `q` in [0, 1], from
/// one copy of `values` (a whole series: selections, not a sort).
fn percentiles(values: &[f64], qs: [f64; 2]) -> [f64; 2] {
    if values.is_empty() {
        return [f64::NAN; 2];
    }
    let mut values = values.to_vec();
    qs.map(|q| {
        let rank = q * (values.len() - 1) as f64;
        let (below, fraction) = (rank.floor() as usize, rank.fract());
        let (_, &mut low, rest) = values.select_nth_unstable_by(below, f64::total_cmp);
        let high = match fraction > 0.0 {
            true => rest.iter().copied().fold(f64::INFINITY, f64::min),
            false => low,
        };
        low + (high - low) * fraction
    })
}

/// The tumour's in-plane box over all its slices (so every slice of one tumour is cropped
/// alike) plus the margin, within the slice.
fn crop_region(tumour: &[[usize; 3]], geometry: &SeriesGeometry) -> [std::ops::Range<usize>; 2] {
    let [columns, rows, _] = geometry.dims();
    let [row_spacing, column_spacing] = geometry.pixel_spacing_mm;
    let range = |axis: usize, size: usize, spacing: f64| {
        let low = tumour.iter().map(|v| v[axis]).min().unwrap_or(0);
        let high = tumour.iter().map(|v| v[axis]).max().unwrap_or(size - 1);
        let margin = (CROP_MARGIN_MM / spacing).ceil() as usize;
        low.saturating_sub(margin)..(high + margin + 1).min(size)
    };
    [range(0, columns, column_spacing), range(1, rows, row_spacing)]
}

/// A number in a legend: four significant digits, no trailing zeros.
fn short(v: f64) -> String {
    super::format::compact(v)
}

/// Where the slice's voxels go on the picture: which in-plane axis runs across the screen,
/// flipped or not, at what integer upscale, inside the frame.
#[derive(Debug, Clone)]
struct Layout {
    /// The voxels shown: columns and rows of the slice.
    region: [std::ops::Range<usize>; 2],
    /// The series axis (0 columns, 1 rows) running across the screen; the other runs down.
    across: usize,
    /// Whether the index along the screen's x (y) axis decreases left to right (top to bottom).
    flip: [bool; 2],
    /// Screen pixels per voxel along x and y.
    scale: [u32; 2],
    /// Voxels along x and y.
    cells: [usize; 2],
    width: u32,
    height: u32,
    /// Frame bands: top, bottom (the bottom holds the scale bar and the legend).
    bottom: u32,
    /// Unit directions (LPS) of the screen's x and y.
    right: [f64; 3],
    down: [f64; 3],
    /// mm per screen pixel along x.
    mm_per_pixel: f64,
}

impl Layout {
    fn new(geometry: &SeriesGeometry, region: [std::ops::Range<usize>; 2], size: u32, legend_lines: bool) -> Layout {
        let o = geometry.orientation;
        let directions = [[o[0], o[1], o[2]], [o[3], o[4], o[5]]];
        let [row_spacing, column_spacing] = geometry.pixel_spacing_mm;
        let spacing = [column_spacing, row_spacing];
        let (across, flip) = radiological(directions, geometry.normal());
        let down_axis = 1 - across;
        let sign = |f: bool| if f { -1.0 } else { 1.0 };
        let right = directions[across].map(|c| c * sign(flip[0]));
        let down = directions[down_axis].map(|c| c * sign(flip[1]));
        let cells = [region[across].len(), region[down_axis].len()];
        // Square pixels: each axis' upscale in proportion to its spacing, the largest that fits.
        let finer = spacing[0].min(spacing[1]);
        let ratio = [spacing[across] / finer, spacing[down_axis] / finer];
        let bottom = if legend_lines { 3 * BAND } else { BAND };
        let available = [size.saturating_sub(2 * BAND), size.saturating_sub(BAND + bottom)];
        let scale_at = |k: u32| ratio.map(|r| ((f64::from(k) * r).round() as u32).max(1));
        let mut k = 1;
        while {
            let s = scale_at(k + 1);
            (0..2).all(|a| s[a] as usize * cells[a] <= available[a] as usize)
        } {
            k += 1;
        }
        let scale = scale_at(k);
        Layout {
            width: scale[0] * cells[0] as u32 + 2 * BAND,
            height: scale[1] * cells[1] as u32 + BAND + bottom,
            region,
            across,
            flip,
            scale,
            cells,
            bottom,
            right,
            down,
            mm_per_pixel: spacing[across] / f64::from(scale[0]),
        }
    }

    /// Every screen cell (x, y) with its series voxel (column, row).
    fn cells(&self) -> impl Iterator<Item = (usize, usize, usize, usize)> + '_ {
        (0..self.cells[1]).flat_map(move |cv| {
            (0..self.cells[0]).filter_map(move |cu| {
                let [i, j] = self.voxel_of(cu as isize, cv as isize)?;
                Some((cu, cv, i, j))
            })
        })
    }

    /// The series voxel (column, row) at screen cell (cu, cv) — inside the region or beyond its
    /// edge (an outline's neighbour); `None` past the slice's first column or row.
    fn voxel_of(&self, cu: isize, cv: isize) -> Option<[usize; 2]> {
        let series_index = |cell: isize, screen_axis: usize| {
            let n = self.cells[screen_axis] as isize;
            let along = if self.flip[screen_axis] { n - 1 - cell } else { cell };
            let axis = if screen_axis == 0 { self.across } else { 1 - self.across };
            usize::try_from(self.region[axis].start as isize + along).ok()
        };
        let mut voxel = [0; 2];
        voxel[self.across] = series_index(cu, 0)?;
        voxel[1 - self.across] = series_index(cv, 1)?;
        Some(voxel)
    }

    fn voxel_at(&self, x: u32, y: u32) -> Option<[usize; 2]> {
        let (x, y) = (x.checked_sub(BAND)?, y.checked_sub(BAND)?);
        let (cu, cv) = ((x / self.scale[0]) as usize, (y / self.scale[1]) as usize);
        if cu >= self.cells[0] || cv >= self.cells[1] {
            return None;
        }
        self.voxel_of(cu as isize, cv as isize)
    }

    fn fill_cell(&self, raster: &mut Raster, cu: usize, cv: usize, ink: Ink) {
        let [sx, sy] = self.scale;
        raster.fill(BAND + cu as u32 * sx, BAND + cv as u32 * sy, sx, sy, ink);
    }

    /// Along every edge between a voxel of `grid` (columns wide) and one outside it, the
    /// tumour voxel's row or column of pixels on that edge.
    fn outline(&self, raster: &mut Raster, grid: &[bool], columns: usize, ink: Ink) {
        let rows = grid.len() / columns;
        // A neighbour beyond the region is looked up in the slice itself; beyond the slice, none.
        let inside = |cu: isize, cv: isize| {
            self.voxel_of(cu, cv)
                .is_some_and(|[i, j]| i < columns && j < rows && grid[j * columns + i])
        };
        let [sx, sy] = self.scale;
        for cv in 0..self.cells[1] {
            for cu in 0..self.cells[0] {
                let (u, v) = (cu as isize, cv as isize);
                if !inside(u, v) {
                    continue;
                }
                let (x, y) = (BAND + cu as u32 * sx, BAND + cv as u32 * sy);
                if !inside(u - 1, v) {
                    raster.fill(x, y, 1, sy, ink);
                }
                if !inside(u + 1, v) {
                    raster.fill(x + sx - 1, y, 1, sy, ink);
                }
                if !inside(u, v - 1) {
                    raster.fill(x, y, sx, 1, ink);
                }
                if !inside(u, v + 1) {
                    raster.fill(x, y + sy - 1, sx, 1, ink);
                }
            }
        }
    }

    /// The letters of the top, right, bottom and left sides.
    fn sides(&self) -> [String; 4] {
        let negate = |d: [f64; 3]| d.map(|c| -c);
        [
            letters(negate(self.down)),
            letters(self.right),
            letters(self.down),
            letters(negate(self.right)),
        ]
    }

    /// Orientation letters on the four sides, a scale bar, and the outlines' labels.
    fn annotate(&self, raster: &mut Raster, labels: &[(String, Ink)]) {
        let image_width = self.width - 2 * BAND;
        let image_height = self.height - BAND - self.bottom;
        let middle_x = |text: &str| BAND + (image_width.saturating_sub(Raster::text_width(text))) / 2;
        let middle_y = BAND + image_height.saturating_sub(8) / 2;
        let [top, right, bottom, left] = self.sides();
        raster.text(middle_x(&top), 2, &top, Ink::Text);
        raster.text(middle_x(&bottom), BAND + image_height + 2, &bottom, Ink::Text);
        // Side letters stacked one above another when combined ("LP"), to fit the band.
        for (n, c) in left.chars().enumerate() {
            raster.text(2, middle_y + 9 * n as u32, &c.to_string(), Ink::Text);
        }
        for (n, c) in right.chars().enumerate() {
            raster.text(
                BAND + image_width + 2,
                middle_y + 9 * n as u32,
                &c.to_string(),
                Ink::Text,
            );
        }
        // Scale bar: the longest round length within a third of the image, under its left edge.
        let bar_mm = [100.0, 50.0, 20.0, 10.0, 5.0, 2.0, 1.0]
            .into_iter()
            .find(|mm| mm / self.mm_per_pixel <= f64::from(image_width) / 3.0)
            .unwrap_or(1.0);
        let bar = (bar_mm / self.mm_per_pixel).round().max(1.0) as u32;
        let y = BAND + image_height + 3;
        raster.fill(BAND, y + 3, bar, 2, Ink::Text);
        let label = format!("{bar_mm} mm");
        if BAND + bar + 4 + Raster::text_width(&label) < middle_x(&bottom) {
            raster.text(BAND + bar + 4, y, &label, Ink::Text);
        }
        if labels.len() > 1 {
            for (n, (label, ink)) in labels.iter().enumerate() {
                let most = (self.width.saturating_sub(4) / 8) as usize;
                let label: String = label.chars().take(most).collect();
                raster.text(2, BAND + image_height + BAND + 1 + n as u32 * 10, &label, *ink);
            }
        }
    }
}

/// Of the eight ways to lay the slice's column and row axes on the screen (either across,
/// each flipped or not), the one closest to the radiological convention for the plane's kind:
/// axial, patient's left on the screen's right and posterior down (anterior up); coronal, left
/// right and inferior down; sagittal, posterior right and inferior down. Returns the series
/// axis across the screen and the flips of the screen's x and y.
fn radiological(directions: [[f64; 3]; 2], normal: [f64; 3]) -> (usize, [bool; 2]) {
    let dominant = (0..3)
        .max_by(|&a, &b| normal[a].abs().total_cmp(&normal[b].abs()))
        .unwrap_or(2);
    let (want_right, want_down) = match dominant {
        2 => ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0]),
        1 => ([1.0, 0.0, 0.0], [0.0, 0.0, -1.0]),
        _ => ([0.0, 1.0, 0.0], [0.0, 0.0, -1.0]),
    };
    let dot = |a: [f64; 3], b: [f64; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    let mut best = (0, [false, false]);
    let mut best_score = f64::NEG_INFINITY;
    for across in [0, 1] {
        for flip_x in [false, true] {
            for flip_y in [false, true] {
                let sign = |f: bool| if f { -1.0 } else { 1.0 };
                let right = directions[across].map(|c| c * sign(flip_x));
                let down = directions[1 - across].map(|c| c * sign(flip_y));
                let score = dot(right, want_right) + dot(down, want_down);
                if score > best_score + 1e-9 {
                    (best, best_score) = ((across, [flip_x, flip_y]), score);
                }
            }
        }
    }
    best
}

/// The letters of an LPS direction as viewers write them: one per axis whose component is at
/// least [`LETTER_COMPONENT`], the largest first (`L`, `R`, `P`, `A`, `S`, `I`).
fn letters(direction: [f64; 3]) -> String {
    let mut axes: Vec<usize> = (0..3).filter(|&a| direction[a].abs() >= LETTER_COMPONENT).collect();
    axes.sort_by(|&a, &b| direction[b].abs().total_cmp(&direction[a].abs()));
    axes.iter()
        .map(|&a| match (a, direction[a] > 0.0) {
            (0, true) => 'L',
            (0, false) => 'R',
            (1, true) => 'P',
            (1, false) => 'A',
            (_, true) => 'S',
            (_, false) => 'I',
        })
        .collect()
}

#[cfg(test)]
#[path = "slice_tests.rs"]
mod tests;
