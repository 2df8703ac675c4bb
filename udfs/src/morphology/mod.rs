//! Tumour morphology from binary masks: marching-cubes mesh features (IBSI chapter 3.1,
//! Zwanenburg et al., Radiology 2020) on the NPC dataset authors' surface (VTK's
//! `vtkMarchingCubes`), equal to PyRadiomics 3.0.1 `shape` wherever its mesh is the same.
//!
//! Pipeline: [`read_mask`] (crop + pad) → [`compute`] (mesh volume/area, hull diameters,
//! PCA axes, components). Knows nothing of SQL; `crate::sql::morphology` registers it.

pub mod components;
pub mod diameter;
pub mod features;
pub mod hull;
pub mod marching_cubes;
pub mod mesh;
pub mod pca;
mod vtk_triangle_table;

pub use features::{MorphologyFeatures, compute, compute_file};
// The reader lives in the imaging room; its types are part of this family's API.
pub use npcql_imaging::mask::{MaskError, MaskFault, MaskHeader, MaskVolume, read_mask, read_mask_header};

#[cfg(test)]
mod tests;
