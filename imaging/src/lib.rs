//! npcql's imaging room, below both the library and the SQL functions: every read of an image
//! file and every question of where its voxels are in the scanner goes through here.
//!
//! - [`dicom`]: a DICOM series' headers (behind a length guard, stopping before the pixels),
//!   its slices ordered along the normal, and its [`geometry::SeriesGeometry`]; apart, its
//!   pixels as a volume in real units ([`dicom::pixels`]);
//! - [`mask`]: a NIfTI-1 or NIfTI-2 tumour mask, header checked before a voxel is read;
//! - [`nifti_write`]: images and labels written on a label's grid (training exports);
//! - [`geometry`]: voxel ↔ scanner (LPS) for a series and a mask, and the one pairing rule;
//! - [`resample`]: one mask onto another's grid, and the misalignment measure between two masks;
//! - [`cache`]: file versions as cache keys, and the trait a persistent cache implements.
//!
//! Kernels elsewhere take arrays and geometry from here, never paths to parse themselves.

pub mod cache;
pub mod dicom;
pub mod geometry;
pub mod mask;
mod nifti_header;
pub mod nifti_write;
pub mod resample;

#[cfg(test)]
mod mask_tests;
