//! A mask moved onto another mask's grid through both NIfTI affines: nearest neighbour, in
//! world (scanner) coordinates, as SimpleITK's `Resample` with `sitkNearestNeighbor` does.

use crate::morphology::MaskVolume;

/// Whether two masks lie on one grid: the same size and the same affine (to 1e-4 mm, float32
/// header rounding), so that voxel (i, j, k) of one is voxel (i, j, k) of the other.
pub fn same_grid(a: &MaskVolume, b: &MaskVolume) -> bool {
    a.source_dims == b.source_dims
        && a.affine
            .iter()
            .flatten()
            .zip(b.affine.iter().flatten())
            .all(|(x, y)| (x - y).abs() <= 1e-4)
}

/// `test` on `reference`'s grid: each reference voxel takes the value of the test voxel nearest
/// to its centre. Err(why) when the two grids share no point in space.
pub fn onto(reference: &MaskVolume, test: &MaskVolume) -> Result<MaskVolume, String> {
    let (reference_box, test_box) = (world_box(reference), world_box(test));
    let apart = (0..3).any(|a| reference_box[1][a] < test_box[0][a] || test_box[1][a] < reference_box[0][a]);
    if apart {
        return Err(format!(
            "the reference spans {}, the test {}",
            describe(&reference_box),
            describe(&test_box)
        ));
    }
    let on_reference = |lo: [usize; 3], size: [usize; 3], is_tumour: &mut dyn FnMut(usize, usize, usize) -> bool| {
        MaskVolume::from_box(
            reference.source_dims,
            reference.spacing_mm,
            reference.affine,
            lo,
            size,
            is_tumour,
        )
    };
    let (Some(to_test), Some(to_reference)) = (inverse(&test.affine), inverse(&reference.affine)) else {
        return Err("an affine cannot be inverted".into());
    };
    if test.voxel_count == 0 {
        return Ok(on_reference([0; 3], [0; 3], &mut |_, _, _| false));
    }
    // The reference voxels whose centres can fall in the test crop: its corners (half a voxel
    // out), in reference indices.
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for corner in 0..8 {
        let index: [f64; 3] = std::array::from_fn(|a| {
            let first = test.offset[a] as f64 - 0.5;
            if corner >> a & 1 == 0 {
                first
            } else {
                first + test.dims[a] as f64
            }
        });
        let at = apply(&to_reference, apply(&test.affine, index));
        for a in 0..3 {
            lo[a] = lo[a].min(at[a]);
            hi[a] = hi[a].max(at[a]);
        }
    }
    let clamp = |v: f64, a: usize| v.clamp(0.0, reference.source_dims[a].saturating_sub(1) as f64) as usize;
    let first: [usize; 3] = std::array::from_fn(|a| clamp(lo[a].floor(), a));
    let last: [usize; 3] = std::array::from_fn(|a| clamp(hi[a].ceil(), a));
    let size: [usize; 3] = std::array::from_fn(|a| last[a] + 1 - first[a]);
    Ok(on_reference(first, size, &mut |x, y, z| {
        let world = apply(&reference.affine, [x as f64, y as f64, z as f64]);
        let index = apply(&to_test, world);
        // Round half up, as ITK's nearest-neighbour interpolator does.
        let nearest = index.map(|v| (v + 0.5).floor() as i64);
        test.get(
            nearest[0] - test.offset[0],
            nearest[1] - test.offset[1],
            nearest[2] - test.offset[2],
        )
    }))
}

/// `affine` applied to `point` (rows of a 3×4 matrix).
fn apply(affine: &[[f64; 4]; 3], point: [f64; 3]) -> [f64; 3] {
    std::array::from_fn(|r| (0..3).map(|c| affine[r][c] * point[c]).sum::<f64>() + affine[r][3])
}

/// The inverse of a 3×4 affine (world → voxel index); None when it is singular.
fn inverse(m: &[[f64; 4]; 3]) -> Option<[[f64; 4]; 3]> {
    let a = |r: usize, c: usize| m[r][c];
    let cofactor = |r: usize, c: usize| {
        let (r1, r2) = ((r + 1) % 3, (r + 2) % 3);
        let (c1, c2) = ((c + 1) % 3, (c + 2) % 3);
        a(r1, c1) * a(r2, c2) - a(r1, c2) * a(r2, c1)
    };
    let det: f64 = (0..3).map(|c| a(0, c) * cofactor(0, c)).sum();
    if det.abs() < 1e-12 || !det.is_finite() {
        return None;
    }
    let mut inv = [[0.0; 4]; 3];
    for (r, row) in inv.iter_mut().enumerate() {
        for (c, value) in row.iter_mut().take(3).enumerate() {
            *value = cofactor(c, r) / det;
        }
    }
    for row in &mut inv {
        row[3] = -(0..3).map(|c| row[c] * m[c][3]).sum::<f64>();
    }
    Some(inv)
}

/// The world-space box (mm) of a grid's voxel centres: [min, max].
fn world_box(mask: &MaskVolume) -> [[f64; 3]; 2] {
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for corner in 0..8 {
        let index: [f64; 3] = std::array::from_fn(|a| {
            if corner >> a & 1 == 0 {
                0.0
            } else {
                mask.source_dims[a].saturating_sub(1) as f64
            }
        });
        let world = apply(&mask.affine, index);
        for a in 0..3 {
            lo[a] = lo[a].min(world[a]);
            hi[a] = hi[a].max(world[a]);
        }
    }
    [lo, hi]
}

fn describe(b: &[[f64; 3]; 2]) -> String {
    format!(
        "x {:.1}…{:.1}, y {:.1}…{:.1}, z {:.1}…{:.1} mm",
        b[0][0], b[1][0], b[0][1], b[1][1], b[0][2], b[1][2]
    )
}
