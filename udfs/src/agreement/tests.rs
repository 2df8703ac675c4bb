//! Agreement on masks whose answers are known by hand; the peers' numbers on generated masks
//! are in `tests/reference/agreement` (checked by the integration tests).

use super::*;
use proptest::prelude::*;
use std::path::Path;

/// A box of voxels `lo..hi` on a grid of `dims` with `spacing`.
fn cuboid(dims: [usize; 3], spacing: [f64; 3], lo: [usize; 3], hi: [usize; 3]) -> MaskVolume {
    MaskVolume::from_fn(dims, spacing, |x, y, z| {
        (lo[0]..hi[0]).contains(&x) && (lo[1]..hi[1]).contains(&y) && (lo[2]..hi[2]).contains(&z)
    })
}

const ISO: [f64; 3] = [1.0, 1.0, 1.0];

#[test]
fn identical_masks_agree_fully() {
    let m = cuboid([10, 10, 10], [0.5, 0.5, 3.0], [2, 3, 4], [7, 6, 8]);
    let a = agreement(&m, &m).unwrap();
    assert_eq!((a.dice, a.jaccard, a.volume_similarity), (1.0, 1.0, 0.0));
    assert_eq!((a.false_positive, a.false_negative, a.true_positive), (0, 0, 60));
    assert_eq!(
        (a.hausdorff_mm(), a.hausdorff95_mm(), a.assd_mm()),
        (Some(0.0), Some(0.0), Some(0.0))
    );
    assert_eq!(a.surface_dice(0.0), Some(1.0));
    assert!(!a.resampled);
}

/// Two 3×3×3 cubes one voxel apart along x: 18 voxels shared, 9 each alone. Of the 26 surface
/// voxels of each, 10 are one voxel from the other's surface (the 9 of the face that sticks
/// out, and the one that covers the other's centre), 16 lie on it.
#[test]
fn cubes_one_voxel_apart() {
    let reference = cuboid([8, 8, 8], ISO, [2, 2, 2], [5, 5, 5]);
    let test = cuboid([8, 8, 8], ISO, [3, 2, 2], [6, 5, 5]);
    let a = agreement(&reference, &test).unwrap();
    assert_eq!((a.true_positive, a.false_positive, a.false_negative), (18, 9, 9));
    assert_eq!(a.dice, 36.0 / 54.0);
    assert_eq!(a.jaccard, 18.0 / 36.0);
    assert_eq!(a.hausdorff_mm(), Some(1.0));
    assert_eq!(a.assd_mm(), Some(20.0 / 52.0));
    // 95th percentile of 16 zeros and 10 ones: rank 23.75 of 0..25, among the ones.
    assert_eq!(a.hausdorff95_mm(), Some(1.0));
    assert_eq!(a.surface_dice(0.5), Some(32.0 / 52.0));
    assert_eq!(a.surface_dice(1.0), Some(1.0));
}

#[test]
fn distances_go_through_the_spacing() {
    let spacing = [0.45, 0.45, 5.0];
    let reference = cuboid([6, 6, 6], spacing, [2, 2, 2], [3, 3, 3]);
    let test = cuboid([6, 6, 6], spacing, [2, 2, 3], [3, 3, 4]);
    let a = agreement(&reference, &test).unwrap();
    assert_eq!(a.dice, 0.0);
    assert_eq!(a.hausdorff_mm(), Some(5.0));
    let diagonal = cuboid([6, 6, 6], spacing, [3, 3, 3], [4, 4, 4]);
    let d = agreement(&reference, &diagonal).unwrap().hausdorff_mm().unwrap();
    assert!((d - (0.45f64 * 0.45 * 2.0 + 25.0).sqrt()).abs() < 1e-12, "{d}");
}

#[test]
fn empty_masks_follow_the_documented_convention() {
    let empty = cuboid([5, 5, 5], ISO, [0; 3], [0; 3]);
    let some = cuboid([5, 5, 5], ISO, [1; 3], [3; 3]);
    let both = agreement(&empty, &empty).unwrap();
    assert_eq!((both.dice, both.jaccard, both.volume_similarity), (1.0, 1.0, 0.0));
    assert_eq!(
        (both.hausdorff_mm(), both.hausdorff95_mm(), both.assd_mm()),
        (None, None, None)
    );
    assert_eq!(both.surface_dice(1.0), Some(1.0));
    for (reference, test, similarity) in [(&empty, &some, 2.0), (&some, &empty, -2.0)] {
        let one = agreement(reference, test).unwrap();
        assert_eq!((one.dice, one.jaccard, one.volume_similarity), (0.0, 0.0, similarity));
        assert_eq!((one.hausdorff_mm(), one.assd_mm()), (None, None));
        assert_eq!(one.surface_dice(1.0), Some(0.0));
    }
}

/// The same tumour stored on a grid whose origin is three voxels lower: resampled, it is the
/// reference exactly.
#[test]
fn another_grid_is_resampled_through_the_affines() {
    let reference = cuboid([12, 12, 6], [0.5, 0.5, 4.0], [3, 4, 1], [8, 9, 4]);
    let mut test = cuboid([15, 12, 6], [0.5, 0.5, 4.0], [6, 4, 1], [11, 9, 4]);
    test.affine[0][3] = -1.5; // voxel x = 6 is at x = 1.5 mm, where the reference's voxel 3 is
    let a = agreement(&reference, &test).unwrap();
    assert!(a.resampled);
    assert_eq!((a.dice, a.hausdorff_mm()), (1.0, Some(0.0)));

    // Twice as coarse in-plane: each test voxel covers four reference voxels.
    let mut coarse = cuboid([6, 6, 6], [1.0, 1.0, 4.0], [1, 2, 1], [4, 4, 4]);
    coarse.affine[0][3] = 0.25; // coarse voxel 1 spans reference voxels 2 and 3 (x 1.0 and 1.5 mm)
    coarse.affine[1][3] = 0.25;
    let a = agreement(&reference, &coarse).unwrap();
    assert!(a.resampled);
    assert_eq!(a.true_positive + a.false_positive, 6 * 4 * 3);
}

#[test]
fn grids_that_share_no_space_are_refused() {
    let reference = cuboid([5, 5, 5], ISO, [1; 3], [3; 3]);
    let mut far = reference.clone();
    far.affine[2][3] = 500.0;
    let why = agreement(&reference, &far).unwrap_err();
    assert!(why.contains("the reference spans x 0.0…4.0"), "{why}");
}

proptest! {
    /// Swapping the masks swaps false positives and negatives and keeps everything symmetric.
    #[test]
    fn symmetric_where_it_should_be(
        a_lo in [0usize..5, 0usize..5, 0usize..4], a_size in [1usize..5, 1usize..5, 1usize..4],
        b_lo in [0usize..5, 0usize..5, 0usize..4], b_size in [1usize..5, 1usize..5, 1usize..4],
    ) {
        let hi = |lo: [usize; 3], size: [usize; 3]| std::array::from_fn(|k| lo[k] + size[k]);
        let spacing = [0.7, 0.9, 3.0];
        let a = cuboid([10, 10, 8], spacing, a_lo, hi(a_lo, a_size));
        let b = cuboid([10, 10, 8], spacing, b_lo, hi(b_lo, b_size));
        let ab = agreement(&a, &b).unwrap();
        let ba = agreement(&b, &a).unwrap();
        prop_assert_eq!(ab.dice, ba.dice);
        prop_assert_eq!(ab.false_positive, ba.false_negative);
        prop_assert_eq!(ab.hausdorff_mm(), ba.hausdorff_mm());
        prop_assert_eq!(ab.hausdorff95_mm(), ba.hausdorff95_mm());
        prop_assert!((ab.assd_mm().unwrap() - ba.assd_mm().unwrap()).abs() < 1e-12);
        prop_assert!(ab.hausdorff95_mm() <= ab.hausdorff_mm());
        // A mean of equal distances may round one ulp above them.
        prop_assert!(ab.assd_mm().unwrap() <= ab.hausdorff_mm().unwrap() * (1.0 + 1e-12));
    }
}

/// One row of `tests/reference/agreement/*.csv` (written by make_reference.py), by column name.
fn reference_rows(file: &str) -> Vec<std::collections::HashMap<String, String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/reference/agreement")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap().split(',').map(str::to_string).collect();
    lines
        .map(|line| {
            header
                .iter()
                .cloned()
                .zip(line.split(',').map(str::to_string))
                .collect()
        })
        .collect()
}

/// `ours` against a peer's value: within `relative` (MONAI computes in float32), and None
/// exactly where the peer has no finite value (an empty mask: MONAI's inf or NaN).
fn close(case: &str, what: &str, ours: Option<f64>, peer: &str, relative: f64) {
    let peer: Option<f64> = peer.parse::<f64>().ok().filter(|v| v.is_finite());
    match (ours, peer) {
        (Some(a), Some(b)) => assert!(
            (a - b).abs() <= relative * b.abs().max(1e-12),
            "{case}: {what} {a} against {b}"
        ),
        (None, None) => {}
        _ => panic!("{case}: {what} {ours:?} against {peer:?}"),
    }
}

/// The peers' numbers on the generated pairs: MONAI for the surface distances, SimpleITK for
/// the overlap, both for Dice; the counts exactly.
#[test]
fn agrees_with_monai_and_simpleitk() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/reference/agreement");
    check_against_peers(&root, &reference_rows("cases.csv"));
}

/// T2 against T1 and CE-T1 delineations of sample tumours: other grids, resampled.
#[test]
fn agrees_with_monai_across_the_sample_grids() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let rows = reference_rows("data_sample.csv");
    assert_eq!(rows.len(), 6);
    check_against_peers(&root, &rows);
}

fn check_against_peers(root: &Path, rows: &[std::collections::HashMap<String, String>]) {
    for row in rows {
        let case = row["case"].as_str();
        let a = agreement_of_files(&root.join(&row["reference"]), &root.join(&row["test"])).unwrap();
        let count = |k: &str| row[k].parse::<u64>().unwrap();
        assert_eq!(
            (a.true_positive, a.false_positive, a.false_negative),
            (count("true_positive"), count("false_positive"), count("false_negative")),
            "{case}"
        );
        assert_eq!(a.resampled, row["resampled"] == "True", "{case}");
        // MONAI's metrics are float32.
        close(case, "dice", Some(a.dice), &row["monai_dice"], 1e-6);
        close(case, "hausdorff", a.hausdorff_mm(), &row["monai_hausdorff"], 1e-6);
        // MONAI's percentile is torch.quantile in float32, whose rank q·(n − 1) loses low digits
        // of its fraction (4e-6 relative on a sample tumour); the same distances through numpy's
        // float64 percentile are the definition to hold to.
        close(
            case,
            "hausdorff95",
            a.hausdorff95_mm(),
            &row["monai_hausdorff95_float64"],
            1e-6,
        );
        close(
            case,
            "hausdorff95 (float32)",
            a.hausdorff95_mm(),
            &row["monai_hausdorff95"],
            1e-5,
        );
        close(case, "assd", a.assd_mm(), &row["monai_assd"], 1e-6);
        let tolerance = row["tolerance_mm"].parse().unwrap();
        if a.hausdorff_mm().is_some() {
            close(
                case,
                "surface dice",
                a.surface_dice(tolerance),
                &row["monai_surface_dice"],
                1e-6,
            );
        }
        // SimpleITK in float64, where it answers (not for two empty masks).
        if !row["sitk_dice"].is_empty() {
            close(case, "dice (SimpleITK)", Some(a.dice), &row["sitk_dice"], 1e-12);
            close(case, "jaccard", Some(a.jaccard), &row["sitk_jaccard"], 1e-12);
            close(
                case,
                "volume similarity",
                Some(a.volume_similarity),
                &row["sitk_volume_similarity"],
                1e-12,
            );
        }
    }
}
