//! The report's figures as standalone SVG documents: Kaplan–Meier curves with their
//! number-at-risk table, forest plots of hazard ratios, box plots and histograms; and the
//! tumour on its MRI as a PNG (`slice`). The Python package draws its notebook figures with the
//! same functions.

pub mod distribution;
pub mod forest;
pub mod format;
pub mod km;
mod raster;
pub mod slice;
pub mod svg;

pub use distribution::{box_plot, histogram};
pub use forest::{ForestRow, forest_plot};
pub use km::{KmFigure, KmGroup, km_plot};
pub use slice::{GridCell, SliceChoice, SliceError, SliceGrid, SliceOptions, SlicePicture, render_grid, render_slice};
