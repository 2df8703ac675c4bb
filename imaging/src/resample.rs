//! The one resampler: a mask moved onto another mask's grid through both affines, nearest
//! neighbour in world (scanner) coordinates, as SimpleITK's `Resample` with
//! `sitkNearestNeighbor` does (voxels that fall outside the source are background); an image
//! onto another grid, trilinear as `sitkLinear`, with a stated fill value outside it; and the
//! misalignment measure between two masks built on the first.

use crate::geometry::{Affine, apply, compose, inverse};
use crate::mask::MaskVolume;

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

/// A scalar image on a grid: `values` x fastest, and its voxel → world affine.
#[derive(Debug, Clone, Copy)]
pub struct ImageGrid<'a> {
    pub dims: [usize; 3],
    pub affine: Affine,
    pub values: &'a [f64],
}

/// `image` sampled at every voxel centre of the grid of `dims` and `affine` (the same world
/// space), x fastest: trilinear between the eight nearest image voxels, as ITK's
/// `LinearInterpolateImageFunction`; `fill` where the centre lies outside the image (ITK's
/// buffer: continuous index in [−0.5, size − 0.5) on every axis, neighbours clamped at the
/// edge). Err(why) when either affine is singular or `values` does not fill `image.dims`.
pub fn trilinear_onto(image: &ImageGrid, dims: [usize; 3], affine: &Affine, fill: f64) -> Result<Vec<f64>, String> {
    let n = image.dims.iter().product::<usize>();
    if image.values.len() != n {
        return Err(format!("{} values for a {:?} grid", image.values.len(), image.dims));
    }
    let to_image = compose(
        &inverse(&image.affine).ok_or("the image's affine cannot be inverted")?,
        affine,
    );
    let [nx, ny, _] = image.dims;
    let at = |i: [usize; 3]| image.values[(i[2] * ny + i[1]) * nx + i[0]];
    let mut out = Vec::with_capacity(dims.iter().product());
    for z in 0..dims[2] {
        for y in 0..dims[1] {
            for x in 0..dims[0] {
                let c = apply(&to_image, [x as f64, y as f64, z as f64]);
                let inside = (0..3).all(|a| c[a] >= -0.5 && c[a] < image.dims[a] as f64 - 0.5);
                if !inside {
                    out.push(fill);
                    continue;
                }
                let last = image.dims.map(|d| d - 1);
                let base: [f64; 3] = std::array::from_fn(|a| c[a].floor());
                let weight: [f64; 3] = std::array::from_fn(|a| c[a] - base[a]);
                let index = |a: usize, step: usize| ((base[a] as i64 + step as i64).clamp(0, last[a] as i64)) as usize;
                let mut value = 0.0;
                for corner in 0..8 {
                    let step = [corner & 1, corner >> 1 & 1, corner >> 2 & 1];
                    let w: f64 = (0..3)
                        .map(|a| if step[a] == 1 { weight[a] } else { 1.0 - weight[a] })
                        .product();
                    if w != 0.0 {
                        value += w * at([index(0, step[0]), index(1, step[1]), index(2, step[2])]);
                    }
                }
                out.push(value);
            }
        }
    }
    Ok(out)
}

/// How far apart two delineations of one tumour are in the scanner, whatever their grids.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Misalignment {
    /// Distance between the two masks' tumour centroids, mm; `None` when either is empty.
    pub centroid_distance_mm: Option<f64>,
    /// Dice of `b` resampled onto `a`'s grid: 2·|a ∩ b| / (|a| + |b|); 1 when both are empty.
    pub dice: f64,
}

/// The misalignment of `b` against `a` (SPEC "Imaging": centroid distance in mm and Dice, in
/// scanner space). Err(why) when the two grids share no point in space.
pub fn misalignment(a: &MaskVolume, b: &MaskVolume) -> Result<Misalignment, String> {
    let on_a = if same_grid(a, b) { b.clone() } else { onto(a, b)? };
    let shared = (0..on_a.dims[2] as i64)
        .flat_map(|z| (0..on_a.dims[1] as i64).flat_map(move |y| (0..on_a.dims[0] as i64).map(move |x| (x, y, z))))
        .filter(|&(x, y, z)| {
            on_a.get(x, y, z) && {
                let source = [x + on_a.offset[0], y + on_a.offset[1], z + on_a.offset[2]];
                a.get(
                    source[0] - a.offset[0],
                    source[1] - a.offset[1],
                    source[2] - a.offset[2],
                )
            }
        })
        .count() as f64;
    let total = (a.voxel_count + on_a.voxel_count) as f64;
    let dice = if total == 0.0 { 1.0 } else { 2.0 * shared / total };
    let centroid_distance_mm = match (a.centroid_mm(), b.centroid_mm()) {
        (Some(p), Some(q)) => Some((0..3).map(|i| (p[i] - q[i]).powi(2)).sum::<f64>().sqrt()),
        _ => None,
    };
    Ok(Misalignment {
        centroid_distance_mm,
        dice,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cuboid(dims: [usize; 3], lo: [usize; 3], hi: [usize; 3]) -> MaskVolume {
        MaskVolume::from_fn(dims, [1.0, 1.0, 2.0], |x, y, z| {
            (lo[0]..hi[0]).contains(&x) && (lo[1]..hi[1]).contains(&y) && (lo[2]..hi[2]).contains(&z)
        })
    }

    /// A ramp along x, value = 10·x + y + 100·z, on a 4×3×2 grid with unit voxels.
    fn ramp() -> Vec<f64> {
        (0..24)
            .map(|i| (10 * (i % 4) + (i / 4) % 3 + 100 * (i / 12)) as f64)
            .collect()
    }

    const UNIT: Affine = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]];

    #[test]
    fn trilinear_on_the_same_grid_is_the_image() {
        let values = ramp();
        let image = ImageGrid {
            dims: [4, 3, 2],
            affine: UNIT,
            values: &values,
        };
        assert_eq!(trilinear_onto(&image, [4, 3, 2], &UNIT, -1.0).unwrap(), values);
    }

    #[test]
    fn trilinear_between_voxels_and_fill_outside() {
        let values = ramp();
        let image = ImageGrid {
            dims: [4, 3, 2],
            affine: UNIT,
            values: &values,
        };
        // A grid half a voxel along x and z: linear in each axis, so the ramp's midpoints.
        let mut shifted = UNIT;
        shifted[0][3] = 0.5;
        shifted[2][3] = 0.5;
        let out = trilinear_onto(&image, [4, 1, 1], &shifted, -1.0).unwrap();
        assert_eq!(out[..3], [55.0, 65.0, 75.0]);
        // x = 3.5 lies past the last voxel centre's half-voxel: outside, the fill value.
        assert_eq!(out[3], -1.0);
        let far = trilinear_onto(
            &image,
            [1, 1, 1],
            &[[1.0, 0.0, 0.0, 50.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]],
            7.0,
        );
        assert_eq!(far.unwrap(), [7.0]);
    }

    /// SimpleITK's sitkLinear on oblique grids (tests/reference/resample/make_reference.py).
    #[test]
    fn trilinear_matches_simpleitk() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/reference/resample/trilinear.json"
        );
        let reference: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let dims =
            |v: &serde_json::Value| -> [usize; 3] { std::array::from_fn(|a| v["dims"][a].as_u64().unwrap() as usize) };
        let affine = |v: &serde_json::Value| -> Affine {
            std::array::from_fn(|r| std::array::from_fn(|c| v["affine"][r][c].as_f64().unwrap()))
        };
        let floats =
            |v: &serde_json::Value| -> Vec<f64> { v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect() };
        let values = floats(&reference["image"]["values"]);
        let image = ImageGrid {
            dims: dims(&reference["image"]),
            affine: affine(&reference["image"]),
            values: &values,
        };
        let fill = reference["fill"].as_f64().unwrap();
        let ours = trilinear_onto(&image, dims(&reference["target"]), &affine(&reference["target"]), fill).unwrap();
        let expected = floats(&reference["expected"]);
        assert_eq!(ours.len(), expected.len());
        let inside = expected.iter().filter(|&&v| v != fill).count();
        assert_eq!(inside as u64, reference["inside"].as_u64().unwrap());
        for (i, (a, b)) in ours.iter().zip(&expected).enumerate() {
            assert!(
                (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                "voxel {i}: {a} vs SimpleITK's {b}"
            );
        }
    }

    #[test]
    fn misalignment_of_a_shifted_box() {
        let a = cuboid([10, 10, 10], [2, 2, 2], [6, 6, 6]);
        let b = cuboid([10, 10, 10], [3, 2, 2], [7, 6, 6]);
        let m = misalignment(&a, &b).unwrap();
        // 48 of 64 voxels shared; centroids one voxel (1 mm) apart along x.
        assert_eq!(m.dice, 2.0 * 48.0 / 128.0);
        assert_eq!(m.centroid_distance_mm, Some(1.0));
        assert_eq!(misalignment(&a, &a).unwrap().dice, 1.0);
    }

    #[test]
    fn misalignment_across_grids_goes_through_the_scanner() {
        let a = cuboid([10, 10, 10], [2, 2, 2], [6, 6, 6]);
        // The same box on a grid whose origin is 2 voxels along y: index y there is y + 2 here.
        let mut b = cuboid([10, 10, 10], [2, 0, 2], [6, 4, 6]);
        b.affine[1][3] = 2.0;
        let m = misalignment(&a, &b).unwrap();
        assert_eq!((m.dice, m.centroid_distance_mm), (1.0, Some(0.0)));
    }
}
