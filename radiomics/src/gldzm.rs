//! Grey level distance zone matrix (IBSI VMDZ; not in PyRadiomics): zones as in GLSZM, counted
//! by grey level and by distance to the ROI's edge.
//!
//! IBSI §"Grey level distance zone based features": zones are the GLSZM's (26-connected in 3D,
//! 8 in a plane), from the intensity mask; a voxel's distance is the number of erosions of the
//! *morphological* mask by the 6-connected (3D) or 4-connected (plane) cross that it survives
//! plus one — its Manhattan distance to the nearest voxel outside, voxels beyond the box being
//! outside, so edge voxels have distance 1; a zone's distance is the minimum over its voxels.
//! Under force2D both zones and distances stay within planes and the planes' zones are merged
//! into one matrix (IBSI "2.5D"). Grey levels are the discretised levels. MIRP 2.5.0 agrees.

use crate::glszm::{LevelMatrix, Power, Zone};
use crate::neighbours::{BoundingBox, Padded};
use crate::{Roi, Texture};

/// The IBSI GLDZM features, snake_case, in IBSI's order.
pub const NAMES: [&str; 16] = [
    "small_distance_emphasis",
    "large_distance_emphasis",
    "low_gray_level_zone_emphasis",
    "high_gray_level_zone_emphasis",
    "small_distance_low_gray_level_emphasis",
    "small_distance_high_gray_level_emphasis",
    "large_distance_low_gray_level_emphasis",
    "large_distance_high_gray_level_emphasis",
    "gray_level_non_uniformity",
    "gray_level_non_uniformity_normalized",
    "zone_distance_non_uniformity",
    "zone_distance_non_uniformity_normalized",
    "zone_percentage",
    "gray_level_variance",
    "zone_distance_variance",
    "zone_distance_entropy",
];

/// The GLDZM features of the ROI in [`NAMES`] order; all NaN for an empty ROI. Reads
/// `texture.plane_normal` only.
pub fn features(roi: &Roi, texture: &Texture) -> [f64; 16] {
    features_of_zones(zones(roi, texture).as_deref())
}

/// The GLSZM's zones, each with its distance to the ROI's edge; `None` for an empty ROI.
pub(crate) fn zones(roi: &Roi, texture: &Texture) -> Option<Vec<Zone>> {
    let distance = distance_to_edge(roi, texture.plane_normal);
    crate::glszm::zones(roi, texture, Some(&distance))
}

/// The GLDZM features of `zones` with their distances (`None`: an empty ROI).
pub(crate) fn features_of_zones(zones: Option<&[Zone]>) -> [f64; 16] {
    let Some(zones) = zones else {
        return [f64::NAN; 16];
    };
    let voxels: usize = zones.iter().map(|zone| zone.size).sum();
    // A voxel of the intensity mask outside the morphological one (re-segmentation only ever
    // removes voxels) would have distance 0; count it as on the edge.
    let Some(matrix) = LevelMatrix::from_pairs(zones.iter().map(|zone| (zone.level, zone.distance.max(1) as usize)))
    else {
        return [f64::NAN; 16];
    };
    let nz = matrix.total();
    [
        matrix.column_emphasis(Power::Inverse),
        matrix.column_emphasis(Power::Square),
        matrix.row_emphasis(Power::Inverse),
        matrix.row_emphasis(Power::Square),
        matrix.joint_emphasis(Power::Inverse, Power::Inverse),
        matrix.joint_emphasis(Power::Square, Power::Inverse),
        matrix.joint_emphasis(Power::Inverse, Power::Square),
        matrix.joint_emphasis(Power::Square, Power::Square),
        matrix.row_non_uniformity(),
        matrix.row_non_uniformity() / nz,
        matrix.column_non_uniformity(),
        matrix.column_non_uniformity() / nz,
        nz / voxels as f64,
        matrix.row_variance(),
        matrix.column_variance(),
        matrix.entropy(0.0),
    ]
}

/// Each morphological-mask voxel's Manhattan distance to the nearest voxel outside it (in the
/// box or beyond), 1 on the edge; 0 outside. Steps only along the axes in the plane normal to
/// `plane_normal`, if any. A breadth-first search from the edge voxels through the mask: the
/// nearest outside voxel is reached by a monotone path whose other voxels are all inside.
pub(crate) fn distance_to_edge(roi: &Roi, plane_normal: Option<usize>) -> Vec<u32> {
    let axes: Vec<usize> = (0..3).filter(|&axis| plane_normal != Some(axis)).collect();
    let offsets: Vec<[isize; 3]> = axes
        .iter()
        .flat_map(|&axis| {
            [-1, 1].map(|sign| {
                let mut offset = [0; 3];
                offset[axis] = sign;
                offset
            })
        })
        .collect();
    let mut distance = vec![0u32; roi.morphological.len()];
    let Some(part) = BoundingBox::of_mask(&roi.morphological, roi.dims) else {
        return distance;
    };
    // In a padded copy of the mask's bounding box: the margin is outside, as the box's
    // outside is, and no step needs a bounds check.
    let padded = Padded::new(roi.dims, part, &offsets);
    let inside = padded.copy(&roi.morphological);
    let mut within = vec![0u32; inside.len()];
    let mut queue = Vec::new();
    for (voxel, _) in inside.iter().enumerate().filter(|(_, inside)| **inside) {
        if padded
            .steps
            .iter()
            .any(|&step| !inside[voxel.wrapping_add_signed(step)])
        {
            within[voxel] = 1;
            queue.push(voxel);
        }
    }
    let mut head = 0;
    while let Some(&voxel) = queue.get(head) {
        head += 1;
        let next_distance = within[voxel] + 1;
        for &step in &padded.steps {
            let next = voxel.wrapping_add_signed(step);
            if inside[next] && within[next] == 0 {
                within[next] = next_distance;
                queue.push(next);
            }
        }
    }
    padded.copy_back(&within, &mut distance);
    distance
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glszm::tests::{
        assert_close, assert_same_features, assert_unique_sql_names, mirrored, padded, roi_from_levels, small_roi,
        texture,
    };
    use crate::phantom::phantom;
    use crate::sql_name;
    use proptest::prelude::*;

    #[test]
    fn the_phantom_matches_mirp_and_ibsi() {
        // §1.6: MIRP 2.5.0 "3d" (its grey level variance carries float32 rounding, exact 2.64)
        // and IBSI's 3 significant digits. Every phantom zone touches the edge: distance 1.
        let mirp = [
            1.0,
            1.0,
            0.25277777777777777,
            15.6,
            0.25277777777777777,
            15.6,
            0.25277777777777777,
            15.6,
            1.4,
            0.28,
            5.0,
            1.0,
            0.06756756756756757,
            2.6399999082088472,
            0.0,
            1.921928094887362,
        ];
        let ibsi = [
            1.0, 1.0, 0.253, 15.6, 0.253, 15.6, 0.253, 15.6, 1.4, 0.28, 5.0, 1.0, 0.0676, 2.64, 0.0, 1.92,
        ];
        let actual = features(&phantom(), &Texture::default());
        for (((name, a), m), i) in NAMES.iter().zip(actual).zip(mirp).zip(ibsi) {
            assert_close(name, a, m, 1e-6);
            let rounded = if i == 0.0 { a } else { round_to_significant(a, 3) };
            assert_close(name, rounded, i, 1e-12);
        }
        // Exact by hand: levels 1, 3, 4, 4, 6 at distance 1; N_v = 74.
        assert_close("gray_level_variance", actual[13], 2.64, 1e-12);
        assert_close("zone_percentage", actual[12], 5.0 / 74.0, 1e-12);
        assert_close(
            "zone_distance_entropy",
            actual[15],
            -(0.4 * 0.4f64.log2() + 0.6 * 0.2f64.log2()),
            1e-12,
        );
    }

    fn round_to_significant(value: f64, digits: i32) -> f64 {
        let scale = 10f64.powi(digits - 1 - value.abs().log10().floor() as i32);
        (value * scale).round() / scale
    }

    #[test]
    fn distances_grow_inwards_by_manhattan_steps() {
        // A 5 × 5 × 5 cube: faces 1, then 2, the centre 3; a corner-adjacent voxel of the
        // second shell is 2 (Manhattan, not Euclidean).
        let roi = roi_from_levels([5, 5, 5], vec![1; 125], [1.0; 3]);
        let distance = distance_to_edge(&roi, None);
        assert_eq!(distance[roi.index(2, 2, 2)], 3);
        assert_eq!(distance[roi.index(1, 1, 1)], 2);
        assert_eq!(distance[roi.index(0, 2, 2)], 1);
        // In planes normal to z, slice 2's centre is 3 but the first slice's centre too.
        let planar = distance_to_edge(&roi, Some(2));
        assert_eq!(planar[roi.index(2, 2, 0)], 3);
        // A hole inside the morphological mask is an edge as well.
        let mut holed = roi.clone();
        holed.morphological[roi.index(2, 2, 2)] = false;
        assert_eq!(distance_to_edge(&holed, None)[roi.index(2, 2, 1)], 1);
    }

    #[test]
    fn a_zone_takes_its_voxels_smallest_distance() {
        // The 5-cube of level 1 with its centre at level 2: zones (1, d 1) and (2, d 3).
        let mut levels = vec![1; 125];
        levels[62] = 2;
        let roi = roi_from_levels([5, 5, 5], levels, [1.0; 3]);
        let f = features(&roi, &Texture::default());
        assert_close("sde", f[0], (1.0 + 1.0 / 9.0) / 2.0, 1e-12);
        assert_close("lde", f[1], (1.0 + 9.0) / 2.0, 1e-12);
        assert_close("ldhge", f[7], (1.0 + 9.0 * 4.0) / 2.0, 1e-12);
        assert_close("zd_var", f[14], 1.0, 1e-12);
        // Distances come from the morphological mask: with the outer shell re-segmented away,
        // the level-1 zone left keeps distance 2 (and the centre 3).
        let mut inner = roi.clone();
        for z in 0..5 {
            for y in 0..5 {
                for x in 0..5 {
                    if [x, y, z].iter().any(|&v| v == 0 || v == 4) {
                        let i = inner.index(x, y, z);
                        inner.mask[i] = false;
                        inner.levels[i] = 0;
                    }
                }
            }
        }
        let f = features(&inner, &Texture::default());
        assert_close("sde re-segmented", f[0], (1.0 / 4.0 + 1.0 / 9.0) / 2.0, 1e-12);
        assert_close("zone_percentage", f[12], 2.0 / 27.0, 1e-12);
    }

    #[test]
    fn names_are_sixteen_and_distinct() {
        assert_eq!(NAMES.len(), 16);
        assert_unique_sql_names("gldzm", &NAMES);
        assert_eq!(sql_name("gldzm", NAMES[15]), "gldzm_zone_distance_entropy");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn padding_and_mirroring_change_nothing(roi in small_roi(), texture in texture(), axis in 0usize..3) {
            let base = features(&roi, &texture);
            assert_same_features(&NAMES, &features(&padded(&roi, [1, 1, 1], [2, 0, 1], 7.0), &texture), &base);
            assert_same_features(&NAMES, &features(&mirrored(&roi, axis), &texture), &base);
        }
    }
}
