//! The report's figures as standalone SVG documents: Kaplan–Meier curves with their
//! number-at-risk table, forest plots of hazard ratios, box plots and histograms. The Python
//! package draws its notebook figures with the same functions.

pub mod distribution;
pub mod forest;
pub mod format;
pub mod km;
pub mod svg;

pub use distribution::{box_plot, histogram};
pub use forest::{ForestRow, forest_plot};
pub use km::{KmFigure, KmGroup, km_plot};
