//! Agreement with VTK (the NPC dataset authors' method), PyRadiomics 3.0.1 and IBSI on the
//! fixtures of `tests/reference/morphology/` (built by its `make_reference.py`), and property
//! tests: a closed, consistently oriented mesh, the same in all 48 orientations of the grid.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::diameter::{max_axial_diameter_mm, max_diameter_mm};
use super::marching_cubes::{for_each_triangle, surface_vertices};
use super::*;

/// Mesh features (volume, area, sphericity, regularity) against VTK: VTK keeps its points in
/// float32, so its values carry ~1e-7 relative round-off.
const VTK_TOLERANCE: f64 = 1e-6;
/// Every feature against PyRadiomics, on the fixtures and the 144 `data-sample` masks (mesh
/// features only where its mesh is closed, i.e. no face-diagonal square): round-off only.
const PYRADIOMICS_TOLERANCE: f64 = 1e-12;
/// Volume and area of one mask stored in each of the 48 orientations of its grid.
const ORIENTATION_TOLERANCE: f64 = 1e-12;

fn reference_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/reference/morphology")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Rows of a reference CSV (no quoting in these files), keyed by their first column.
fn read_csv(name: &str) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(reference_dir().join(name)).expect("reference csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    lines
        .map(|l| {
            header
                .iter()
                .zip(l.split(','))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn value(row: &HashMap<String, String>, key: &str) -> Option<f64> {
    let v = row.get(key)?;
    if v.is_empty() || v == "nan" {
        None
    } else {
        Some(v.parse().expect("number"))
    }
}

/// Relative error; absolute only where the reference is 0.
fn rel_err(ours: f64, reference: f64) -> f64 {
    let d = (ours - reference).abs();
    if reference == 0.0 { d } else { d / reference.abs() }
}

fn fixture(name: &str) -> PathBuf {
    reference_dir().join("masks").join(format!("{name}.nii.gz"))
}

fn fixture_names() -> Vec<String> {
    read_csv("vtk.csv").into_iter().map(|r| r["mask"].clone()).collect()
}

/// Fixtures with face-diagonal squares, where PyRadiomics' mesh has holes and differs from
/// VTK's (and ours). Every other fixture has none.
const AMBIGUOUS_FIXTURES: [&str; 5] = [
    "irregular_blob",
    "speckle",
    "edge_touching_lesions",
    "outline_diagonals",
    "edge_pair",
];

/// PyRadiomics features that depend on the triangulation.
const MESH_FEATURES: [&str; 3] = ["MeshVolume", "SurfaceArea", "Sphericity"];

/// Our features by PyRadiomics feature name.
fn as_pyradiomics(f: &MorphologyFeatures) -> Vec<(&'static str, Option<f64>)> {
    let nonempty = f.voxel_count > 0;
    vec![
        ("MeshVolume", nonempty.then_some(f.mesh_volume_mm3)),
        ("VoxelVolume", nonempty.then_some(f.voxel_volume_mm3)),
        ("SurfaceArea", nonempty.then_some(f.surface_area_mm2)),
        ("Maximum3DDiameter", f.max_diameter_mm),
        ("Maximum2DDiameterSlice", f.max_axial_diameter_mm),
        ("Sphericity", f.sphericity),
        ("MajorAxisLength", f.major_axis_mm),
        ("MinorAxisLength", f.minor_axis_mm),
        ("LeastAxisLength", f.least_axis_mm),
        ("Elongation", f.elongation),
        ("Flatness", f.flatness),
    ]
}

/// Compares with PyRadiomics (mesh features only if `closed`); returns the largest relative
/// error seen.
fn check_pyradiomics(
    label: &str,
    ours: &MorphologyFeatures,
    row: &HashMap<String, String>,
    closed: bool,
    tolerance: f64,
) -> f64 {
    let mut worst = 0.0f64;
    for (name, got) in as_pyradiomics(ours) {
        if !closed && MESH_FEATURES.contains(&name) {
            continue;
        }
        let want = value(row, name);
        match (got, want) {
            // A flat mask's zero eigenvalue: we give exactly 0, PyRadiomics its float32
            // round-off (3e-8 mm for the least axis of `diagonal_chain`).
            (Some(g), Some(w)) if g == 0.0 && w.abs() < 1e-7 => {}
            (Some(g), Some(w)) => {
                let e = rel_err(g, w);
                assert!(e <= tolerance, "{label} {name}: ours {g}, PyRadiomics {w} (rel {e:e})");
                worst = worst.max(e);
            }
            (None, None) => {}
            (g, w) => panic!("{label} {name}: ours {g:?}, PyRadiomics {w:?}"),
        }
    }
    worst
}

/// The dataset authors' values of a mask from VTK's volume V, area S and diameter, with the
/// ratios computed from them as they define them.
fn vtk_values(row: &HashMap<String, String>) -> Option<[(&'static str, f64); 5]> {
    let v = value(row, "vtk_volume")?;
    let s = value(row, "vtk_area")?;
    let pi = std::f64::consts::PI;
    Some([
        ("volume", v),
        ("area", s),
        ("max_diameter", value(row, "vtk_max_diameter")?),
        ("sphericity", (36.0 * pi * v * v).cbrt() / s),
        ("regularity", 6.0 * pi.sqrt() * v / s.powf(1.5)),
    ])
}

/// Compares with VTK; returns the largest relative error of volume and of area.
fn check_vtk(label: &str, ours: &MorphologyFeatures, row: &HashMap<String, String>) -> (f64, f64) {
    let Some(want) = vtk_values(row) else {
        assert_eq!(ours.voxel_count, 0, "{label}: VTK found no surface");
        return (0.0, 0.0);
    };
    let got = [
        Some(ours.mesh_volume_mm3),
        Some(ours.surface_area_mm2),
        ours.max_diameter_mm,
        ours.sphericity,
        ours.regularity,
    ];
    let mut errors = [0.0; 5];
    for (i, ((what, w), g)) in want.into_iter().zip(got).enumerate() {
        let g = g.unwrap_or_else(|| panic!("{label} {what}: ours NULL, VTK {w}"));
        errors[i] = rel_err(g, w);
        assert!(
            errors[i] <= VTK_TOLERANCE,
            "{label} {what}: ours {g}, VTK {w} (rel {:e})",
            errors[i]
        );
    }
    (errors[0], errors[1])
}

#[test]
fn fixtures_agree_with_vtk_to_1e_6() {
    let (mut volume, mut area, mut checked) = (0.0f64, 0.0f64, 0);
    for row in read_csv("vtk.csv") {
        let name = &row["mask"];
        let ours = compute_file(fixture(name)).unwrap();
        let (v, a) = check_vtk(name, &ours, &row);
        (volume, area) = (volume.max(v), area.max(a));
        checked += 1;
    }
    assert_eq!(checked, 15);
    eprintln!("fixtures: max relative difference vs VTK: volume {volume:e}, area {area:e}");
}

#[test]
fn fixtures_agree_with_pyradiomics_where_its_mesh_is_closed() {
    let (mut worst, mut closed_count) = (0.0f64, 0);
    for row in read_csv("pyradiomics.csv") {
        let name = &row["mask"];
        let mask = read_mask(fixture(name)).unwrap();
        let closed = !has_ambiguous_face(&mask);
        assert_eq!(closed, !AMBIGUOUS_FIXTURES.contains(&name.as_str()), "{name}");
        closed_count += closed as usize;
        let ours = compute(&mask);
        assert_eq!(ours.voxel_count, value(&row, "voxel_count").unwrap() as u64, "{name}");
        assert_eq!(
            ours.component_count,
            value(&row, "components").unwrap() as u64,
            "{name}"
        );
        worst = worst.max(check_pyradiomics(name, &ours, &row, closed, PYRADIOMICS_TOLERANCE));
        let centroid = ["centroid_x", "centroid_y", "centroid_z"].map(|k| value(&row, k));
        match ours.centroid_mm {
            Some(c) => {
                for a in 0..3 {
                    let want = centroid[a].unwrap();
                    let e = rel_err(c[a], want);
                    assert!(e <= PYRADIOMICS_TOLERANCE, "{name} centroid {c:?} vs {centroid:?}");
                    worst = worst.max(e);
                }
            }
            None => assert!(centroid[0].is_none(), "{name}: centroid expected"),
        }
    }
    assert_eq!(closed_count, 15 - AMBIGUOUS_FIXTURES.len());
    eprintln!("fixtures: max relative error vs PyRadiomics {worst:e}");
}

/// Every mask of `data-sample` against PyRadiomics and VTK. The sample is committed with the
/// reference; a mask whose hash no longer matches means `make_reference.py` must be rerun.
#[test]
fn data_sample_agrees_with_vtk_and_pyradiomics() {
    let rows = read_csv("data_sample.csv");
    assert_eq!(rows.len(), 144, "3 masks × 48 patients");
    let (mut checked, mut ambiguous, mut worst) = (0, 0, 0.0f64);
    let (mut worst_volume, mut worst_area) = (0.0f64, 0.0f64);
    for row in &rows {
        let path = repo_root().join(&row["mask"]);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            format!("{:016x}", fnv1a64(&bytes)),
            row["fnv1a64"],
            "{} changed since data_sample.csv was written: rerun make_reference.py",
            path.display()
        );
        let mask = read_mask(&path).unwrap();
        let ours = compute(&mask);
        let closed = !has_ambiguous_face(&mask);
        ambiguous += !closed as usize;
        worst = worst.max(check_pyradiomics(
            &row["mask"],
            &ours,
            row,
            closed,
            PYRADIOMICS_TOLERANCE,
        ));
        let (v, a) = check_vtk(&row["mask"], &ours, row);
        (worst_volume, worst_area) = (worst_volume.max(v), worst_area.max(a));
        checked += 1;
    }
    assert_eq!(checked, 144);
    eprintln!(
        "data-sample: {checked} masks ({ambiguous} with face-diagonal squares); max relative \
         error vs VTK: volume {worst_volume:e}, area {worst_area:e}; vs PyRadiomics {worst:e}"
    );
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf29ce484222325, |h, &b| (h ^ b as u64).wrapping_mul(0x100000001b3))
}

/// The 48 orientations of a grid: axis `a` of the result is axis `perm[a]` of the source,
/// then flipped where `flips[a]` (as numpy's `flip(transpose(a, perm), axis)`).
fn orientations() -> Vec<([usize; 3], [bool; 3])> {
    let perms = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    let mut out = Vec::new();
    for perm in perms {
        for bits in 0..8 {
            out.push((perm, [bits & 4 != 0, bits & 2 != 0, bits & 1 != 0]));
        }
    }
    out
}

/// `mask` stored in another orientation of its grid (spacing permuted with the axes).
fn reoriented(mask: &MaskVolume, perm: [usize; 3], flips: [bool; 3]) -> MaskVolume {
    let dims = perm.map(|p| mask.dims[p]);
    let spacing = perm.map(|p| mask.spacing_mm[p]);
    MaskVolume::from_fn(dims, spacing, |x, y, z| {
        let moved = [x, y, z];
        let mut source = [0i64; 3];
        for a in 0..3 {
            let i = if flips[a] { dims[a] - 1 - moved[a] } else { moved[a] };
            source[perm[a]] = i as i64;
        }
        mask.get(source[0], source[1], source[2])
    })
}

/// The two fixtures of `orientations.csv`, in each of the 48 orientations: ours equals VTK
/// and does not change; PyRadiomics' volume and area do.
#[test]
fn orientations_agree_with_vtk_where_pyradiomics_changes() {
    let rows = read_csv("orientations.csv");
    assert_eq!(rows.len(), 2 * 48);
    let mut by_mask: HashMap<String, Vec<(f64, f64, f64, f64)>> = HashMap::new();
    for row in &rows {
        let name = &row["mask"];
        let mask = read_mask(fixture(name)).unwrap();
        let digits = |k: &str| -> Vec<usize> { row[k].bytes().map(|b| (b - b'0') as usize).collect() };
        let (p, f) = (digits("permutation"), digits("flips"));
        let moved = reoriented(&mask, [p[0], p[1], p[2]], [f[0] == 1, f[1] == 1, f[2] == 1]);
        let ours = compute(&moved);
        for (what, got, want) in [
            ("volume", ours.mesh_volume_mm3, value(row, "vtk_volume").unwrap()),
            ("area", ours.surface_area_mm2, value(row, "vtk_area").unwrap()),
        ] {
            let e = rel_err(got, want);
            assert!(e <= VTK_TOLERANCE, "{name} {p:?} {f:?} {what}: ours {got}, VTK {want}");
        }
        by_mask.entry(name.clone()).or_default().push((
            ours.mesh_volume_mm3,
            ours.surface_area_mm2,
            value(row, "pyradiomics_volume").unwrap(),
            value(row, "pyradiomics_area").unwrap(),
        ));
    }
    for (name, values) in &by_mask {
        let spread = |f: fn(&(f64, f64, f64, f64)) -> f64| {
            let (lo, hi) = values
                .iter()
                .map(f)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
            (hi - lo) / lo
        };
        let ours = [spread(|v| v.0), spread(|v| v.1)];
        let theirs = [spread(|v| v.2), spread(|v| v.3)];
        assert!(ours.iter().all(|&s| s <= ORIENTATION_TOLERANCE), "{name}: {ours:?}");
        assert!(
            theirs.iter().all(|&s| s > 1e-3),
            "{name}: PyRadiomics spread {theirs:?}"
        );
        eprintln!(
            "{name}, 48 orientations: volume/area spread ours {:e}/{:e}, PyRadiomics {:.2}%/{:.2}%",
            ours[0],
            ours[1],
            100.0 * theirs[0],
            100.0 * theirs[1]
        );
    }
}

/// Two voxels that share one edge, the smallest mask where PyRadiomics' mesh has a hole (the
/// README's example). VTK and npcql: two separate octahedra, V = 2·(1/6) mm³ and
/// A = 2·√3 mm², in every orientation. PyRadiomics 3.0.1 (`orientations.csv`): that in 24 of
/// the 48 orientations, A = 4.3301 mm² (a hole) in the other 24, and V = 2/3 mm³ in 8 of them.
#[test]
fn edge_pair_is_two_octahedra_where_pyradiomics_leaves_a_hole() {
    let mask = read_mask(fixture("edge_pair")).unwrap();
    assert!(has_ambiguous_face(&mask));
    let (volume, area) = (1.0 / 3.0, 2.0 * 3f64.sqrt());
    for (perm, flips) in orientations() {
        let moved = reoriented(&mask, perm, flips);
        assert_eq!(watertight(&moved), Ok(16));
        let f = compute(&moved);
        assert!(rel_err(f.mesh_volume_mm3, volume) <= 1e-15, "{perm:?} {flips:?}");
        assert!(rel_err(f.surface_area_mm2, area) <= 1e-15, "{perm:?} {flips:?}");
    }
    let rows: Vec<_> = read_csv("orientations.csv")
        .into_iter()
        .filter(|r| r["mask"] == "edge_pair")
        .collect();
    let count = |v: f64, a: f64| {
        rows.iter()
            .filter(|r| {
                rel_err(value(r, "pyradiomics_volume").unwrap(), v) < 1e-12
                    && rel_err(value(r, "pyradiomics_area").unwrap(), a) < 1e-12
            })
            .count()
    };
    let holed_area = 2.5 * 3f64.sqrt();
    assert_eq!(count(volume, area), 24);
    assert_eq!(count(volume, holed_area), 16);
    assert_eq!(count(2.0 / 3.0, holed_area), 8);
}

#[test]
fn ibsi_phantom_within_ibsi_tolerances() {
    let f = compute_file(fixture("ibsi_phantom")).unwrap();
    let within = |got: f64, reference: f64, tol: f64| (got - reference).abs() <= tol;
    assert!(within(f.mesh_volume_mm3, 556.0, 4.0));
    assert!(within(f.voxel_volume_mm3, 592.0, 4.0));
    assert!(within(f.surface_area_mm2, 388.0, 3.0));
    assert!(within(f.sphericity.unwrap(), 0.843, 0.005));
    assert!(within(f.max_diameter_mm.unwrap(), 13.1, 0.1));
    assert!(within(f.major_axis_mm.unwrap(), 11.4, 0.1));
    assert!(within(f.elongation.unwrap(), 0.816, 0.005));
    assert!(within(f.flatness.unwrap(), 0.749, 0.005));
    // Surface regularity of the phantom (reference/ibsi-morphology.md).
    assert!(within(f.regularity.unwrap(), 0.77392, 1e-5));
}

#[test]
fn slice_gaps_count_the_empty_slices_inside_the_tumour() {
    // Tumour on slices 1, 2, 5 and 7 of 9: slices 3, 4 and 6 are gaps; 0 and 8 are outside it.
    let held = [1, 2, 5, 7];
    let mask = MaskVolume::from_fn([4, 4, 9], [1.0; 3], |x, y, z| x == 1 && y == 2 && held.contains(&z));
    assert_eq!(compute(&mask).slice_gaps, 3);
    let contiguous = MaskVolume::from_fn([4, 4, 9], [1.0; 3], |x, _, z| x == 1 && (2..6).contains(&z));
    assert_eq!(compute(&contiguous).slice_gaps, 0);
    let empty = MaskVolume::from_fn([4, 4, 9], [1.0; 3], |_, _, _| false);
    assert_eq!(compute(&empty).slice_gaps, 0);
}

#[test]
fn empty_mask_has_zero_volume_and_no_ratios() {
    let f = compute_file(fixture("empty")).unwrap();
    assert_eq!((f.voxel_count, f.component_count), (0, 0));
    assert_eq!(
        (f.mesh_volume_mm3, f.voxel_volume_mm3, f.surface_area_mm2),
        (0.0, 0.0, 0.0)
    );
    assert_eq!((f.sphericity, f.regularity, f.max_diameter_mm), (None, None, None));
    assert_eq!((f.elongation, f.major_axis_mm, f.centroid_mm), (None, None, None));
}

#[test]
fn single_voxel_is_an_octahedron() {
    let mask = MaskVolume::from_fn([3, 3, 3], [1.0, 2.0, 3.0], |x, y, z| (x, y, z) == (1, 1, 1));
    let f = compute(&mask);
    // Octahedron with half-axes 0.5, 1, 1.5 mm: V = 4/3·a·b·c.
    assert!((f.mesh_volume_mm3 - 4.0 / 3.0 * 0.5 * 1.0 * 1.5).abs() < 1e-12);
    assert_eq!(f.max_diameter_mm, Some(3.0));
    assert_eq!(f.max_axial_diameter_mm, Some(2.0));
    assert_eq!((f.elongation, f.flatness), (None, None));
    assert_eq!(f.major_axis_mm, Some(0.0));
    assert_eq!(f.centroid_mm, Some([1.0, 2.0, 3.0]));
}

fn random_mask(dims: [usize; 3], bits: &[bool], spacing: [f64; 3]) -> MaskVolume {
    MaskVolume::from_fn(dims, spacing, |x, y, z| bits[(z * dims[1] + y) * dims[0] + x])
}

/// Whether the mesh is closed and consistently oriented: every directed edge (in half-voxel
/// units) occurs exactly once and its reverse occurs too, so every edge is in exactly two
/// triangles, traversed in opposite directions. Returns the number of triangles.
fn watertight(mask: &MaskVolume) -> Result<usize, String> {
    let mut directed: HashMap<([i64; 3], [i64; 3]), u32> = HashMap::new();
    let mut triangles = 0;
    let mut degenerate = 0;
    for_each_triangle(mask, |t| {
        let t = t.map(|p| [0, 1, 2].map(|a| (p[a] / mask.spacing_mm[a] * 2.0).round() as i64));
        triangles += 1;
        degenerate += (t[0] == t[1] || t[1] == t[2] || t[2] == t[0]) as usize;
        for i in 0..3 {
            *directed.entry((t[i], t[(i + 1) % 3])).or_default() += 1;
        }
    });
    if degenerate > 0 {
        return Err(format!("{degenerate} degenerate triangles"));
    }
    if let Some((e, n)) = directed.iter().find(|&(_, &n)| n != 1) {
        return Err(format!("directed edge {e:?} in {n} triangles"));
    }
    if let Some((e, _)) = directed.iter().find(|((a, b), _)| !directed.contains_key(&(*b, *a))) {
        return Err(format!("open edge {e:?}"));
    }
    Ok(triangles)
}

/// Whether some 2×2 square of voxels has tumour on one diagonal only.
fn has_ambiguous_face(mask: &MaskVolume) -> bool {
    let [nx, ny, nz] = mask.dims.map(|d| d as i64);
    let g = |p: [i64; 3]| mask.get(p[0], p[1], p[2]);
    let axes = [([1, 0, 0], [0, 1, 0]), ([1, 0, 0], [0, 0, 1]), ([0, 1, 0], [0, 0, 1])];
    (0..nz).any(|z| {
        (0..ny).any(|y| {
            (0..nx).any(|x| {
                axes.iter().any(|(u, v)| {
                    let p = [x, y, z];
                    let a = g(p);
                    let b = g([p[0] + u[0], p[1] + u[1], p[2] + u[2]]);
                    let c = g([p[0] + v[0], p[1] + v[1], p[2] + v[2]]);
                    let d = g([p[0] + u[0] + v[0], p[1] + u[1] + v[1], p[2] + u[2] + v[2]]);
                    a == d && b == c && a != b
                })
            })
        })
    })
}

#[test]
fn fixture_meshes_are_watertight() {
    for name in fixture_names() {
        let mask = read_mask(fixture(&name)).unwrap();
        let triangles = watertight(&mask).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(triangles == 0, mask.voxel_count == 0, "{name}");
    }
}

/// SplitMix64: a small deterministic generator for the masks below.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }

    /// Uniform in lo..hi.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo) as u64) as i64
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Masks where closedness and orientation are at stake, by `kind`:
/// 0 speckle; 1 a blob with one-voxel diagonal spicules and diagonal notches (face-diagonal
/// squares on a solid tumour, as hand-drawn outlines have); 2 two box lesions touching along
/// an edge, with a third touching one of them at a corner; 3 diagonal chains.
fn generated_mask(kind: u8, seed: u64, spacing: [f64; 3]) -> MaskVolume {
    let mut rng = Rng(seed);
    // Kind 2: box A at (1, 1, 1); B touches A along an edge (offset by A's size on two axes,
    // overlapping on the third); C touches B at one corner only.
    let a_size = [rng.range(3, 6), rng.range(3, 6), rng.range(3, 5)];
    let b_size = [rng.range(3, 6), rng.range(3, 6), rng.range(3, 5)];
    let along = rng.range(0, 3) as usize;
    let shift = rng.range(0, a_size[along]);
    let a0 = [1, 1, 1];
    let mut b0 = [0, 1, 2].map(|a| a0[a] + a_size[a]);
    b0[along] = a0[along] + shift;
    let c0 = [0, 1, 2].map(|a| b0[a] + b_size[a]);
    let dims = match kind {
        0 => [rng.range(2, 9), rng.range(2, 9), rng.range(2, 6)],
        2 => c0.map(|c| c + 2),
        3 => [rng.range(3, 9), rng.range(3, 9), rng.range(2, 7)],
        _ => [rng.range(8, 14), rng.range(8, 14), rng.range(4, 8)],
    };
    let [nx, ny, nz] = dims;
    let mut bits = vec![false; (nx * ny * nz) as usize];
    let inside = |p: [i64; 3]| (0..3).all(|a| (0..dims[a]).contains(&p[a]));
    let index = |p: [i64; 3]| ((p[2] * ny + p[1]) * nx + p[0]) as usize;
    let diagonal_step = |rng: &mut Rng| loop {
        let s = [rng.range(-1, 2), rng.range(-1, 2), rng.range(-1, 2)];
        if s.iter().filter(|&&c| c != 0).count() >= 2 {
            return s;
        }
    };
    match kind {
        0 => {
            let density = 0.2 + 0.4 * rng.unit();
            bits.iter_mut().for_each(|b| *b = rng.unit() < density);
        }
        1 => {
            let c = dims.map(|d| d as f64 / 2.0 - 0.5 + rng.unit() - 0.5);
            let r = dims.map(|d| d as f64 * (0.25 + 0.15 * rng.unit()));
            for z in 0..nz {
                for y in 0..ny {
                    for x in 0..nx {
                        let p = [x, y, z];
                        let d: f64 = (0..3).map(|a| ((p[a] as f64 - c[a]) / r[a]).powi(2)).sum();
                        bits[index(p)] = d <= 1.0;
                    }
                }
            }
            for line in 0..rng.range(2, 7) {
                let mut p = c.map(|v| v.round() as i64);
                let step = diagonal_step(&mut rng);
                // Spicules (added) run out from the centre; notches (removed) from the edge.
                let add = line % 2 == 0;
                if !add {
                    p = [0, 1, 2].map(|a| p[a] - step[a] * (r[a].ceil() as i64 + 1));
                }
                for _ in 0..rng.range(3, 9) {
                    if inside(p) {
                        bits[index(p)] = add;
                    }
                    p = [0, 1, 2].map(|a| p[a] + step[a]);
                }
            }
        }
        2 => {
            for (o, s) in [(a0, a_size), (b0, b_size), (c0, [1, 1, 1])] {
                for z in o[2]..o[2] + s[2] {
                    for y in o[1]..o[1] + s[1] {
                        for x in o[0]..o[0] + s[0] {
                            bits[index([x, y, z])] = true;
                        }
                    }
                }
            }
            // A few voxels off, so not every cube is a plain box corner.
            for _ in 0..rng.range(0, 4) {
                let p = [rng.range(0, nx), rng.range(0, ny), rng.range(0, nz)];
                bits[index(p)] = false;
            }
        }
        _ => {
            for _ in 0..rng.range(1, 4) {
                let mut p = [rng.range(0, nx), rng.range(0, ny), rng.range(0, nz)];
                let step = diagonal_step(&mut rng);
                for _ in 0..rng.range(2, 8) {
                    if inside(p) {
                        bits[index(p)] = true;
                    }
                    p = [0, 1, 2].map(|a| p[a] + step[a]);
                }
            }
        }
    }
    let dims = dims.map(|d| d as usize);
    random_mask(dims, &bits, spacing)
}

/// The generator makes masks where closedness is at stake: most have face-diagonal squares,
/// and the blobs and touching lesions are solid (not one voxel thin).
#[test]
fn generated_masks_have_face_diagonal_squares() {
    for kind in 0..4u8 {
        let (mut ambiguous, mut thick) = (0, 0);
        for seed in 0..100 {
            let mask = generated_mask(kind, seed, [1.0; 3]);
            ambiguous += has_ambiguous_face(&mask) as usize;
            // A voxel with all six face neighbours in the tumour.
            let [nx, ny, nz] = mask.dims.map(|d| d as i64);
            let solid = (0..nz).any(|z| {
                (0..ny).any(|y| {
                    (0..nx).any(|x| {
                        [
                            (0, 0, 0),
                            (1, 0, 0),
                            (-1, 0, 0),
                            (0, 1, 0),
                            (0, -1, 0),
                            (0, 0, 1),
                            (0, 0, -1),
                        ]
                        .iter()
                        .all(|&(dx, dy, dz)| mask.get(x + dx, y + dy, z + dz))
                    })
                })
            });
            thick += solid as usize;
        }
        eprintln!("kind {kind}: {ambiguous} of 100 with face-diagonal squares, {thick} solid");
        // Chains: a third of the steps are body diagonals, which touch only at corners.
        let wanted = [70, 90, 90, 40][kind as usize];
        assert!(
            ambiguous >= wanted,
            "kind {kind}: {ambiguous} of 100 with face-diagonal squares"
        );
        if kind == 1 || kind == 2 {
            assert!(thick >= 90, "kind {kind}: {thick} of 100 solid");
        }
    }
}

/// The figure behind the README's invariance claim: the largest relative spread of volume and
/// area over the 48 orientations, for 25 generated masks of each kind at an anisotropic
/// spacing (the property test below checks random ones against the same bound).
#[test]
fn orientation_spread_on_generated_masks() {
    let (mut volume, mut area) = (0.0f64, 0.0f64);
    for kind in 0..4u8 {
        for seed in 0..25 {
            let mask = generated_mask(kind, seed, [0.78, 0.83, 6.5]);
            let base = compute(&mask);
            for (perm, flips) in orientations() {
                let f = compute(&reoriented(&mask, perm, flips));
                volume = volume.max(rel_err(f.mesh_volume_mm3, base.mesh_volume_mm3));
                area = area.max(rel_err(f.surface_area_mm2, base.surface_area_mm2));
            }
        }
    }
    assert!(volume <= ORIENTATION_TOLERANCE && area <= ORIENTATION_TOLERANCE);
    eprintln!("100 generated masks × 48 orientations: spread volume {volume:e}, area {area:e}");
}

fn spacing_strategy() -> impl Strategy<Value = [f64; 3]> {
    [0.2f64..3.0, 0.2f64..3.0, 0.5f64..6.0]
}

fn mask_strategy() -> impl Strategy<Value = ([usize; 3], Vec<bool>)> {
    (1usize..7, 1usize..7, 1usize..5)
        .prop_flat_map(|(x, y, z)| (Just([x, y, z]), proptest::collection::vec(any::<bool>(), x * y * z)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// The mesh is closed and consistently oriented on every mask, face-diagonal squares,
    /// lesions touching at an edge or a corner and diagonal chains included.
    #[test]
    fn mesh_is_watertight(kind in 0u8..4, seed in any::<u64>()) {
        let mask = generated_mask(kind, seed, [1.0; 3]);
        let triangles = watertight(&mask);
        prop_assert!(triangles.is_ok(), "{:?}", triangles);
        prop_assert_eq!(triangles.unwrap() == 0, mask.voxel_count == 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// One mask stored in each of the 48 axis permutations × flips of its grid (spacing
    /// permuted with the axes) has the same volume, area, sphericity, regularity and
    /// diameter, to round-off (≤ 1e-12 relative).
    #[test]
    fn invariant_under_48_orientations(kind in 0u8..4, seed in any::<u64>(), s in spacing_strategy()) {
        let mask = generated_mask(kind, seed, s);
        let base = compute(&mask);
        let close = |p: f64, q: f64| rel_err(p, q) <= ORIENTATION_TOLERANCE;
        for (perm, flips) in orientations() {
            let f = compute(&reoriented(&mask, perm, flips));
            let context = format!("{perm:?} {flips:?}: {f:?} vs {base:?}");
            prop_assert!(close(f.mesh_volume_mm3, base.mesh_volume_mm3), "{}", context);
            prop_assert!(close(f.surface_area_mm2, base.surface_area_mm2), "{}", context);
            for (a, b) in [
                (f.sphericity, base.sphericity),
                (f.regularity, base.regularity),
                (f.max_diameter_mm, base.max_diameter_mm),
            ] {
                prop_assert_eq!(a.is_some(), b.is_some());
                if let (Some(a), Some(b)) = (a, b) {
                    prop_assert!(close(a, b), "{}", context);
                }
            }
            prop_assert!(close(f.voxel_volume_mm3, base.voxel_volume_mm3), "{}", context);
            prop_assert_eq!(f.voxel_count, base.voxel_count);
            prop_assert_eq!(f.component_count, base.component_count);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Exact diameters from the hull equal brute force over all mesh vertices.
    #[test]
    fn hull_diameters_equal_brute_force((dims, bits) in mask_strategy(), s in spacing_strategy()) {
        let mask = random_mask(dims, &bits, s);
        let v = surface_vertices(&mask);
        let mm: Vec<[f64; 3]> = v.iter().map(|h| [0, 1, 2].map(|a| h[a] as f64 * 0.5 * s[a])).collect();
        let (mut best, mut best_axial) = (None::<f64>, None::<f64>);
        for i in 0..mm.len() {
            for j in i + 1..mm.len() {
                let d = (0..3).map(|a| (mm[i][a] - mm[j][a]).powi(2)).sum::<f64>();
                best = Some(best.map_or(d, |b| b.max(d)));
                if v[i][2] == v[j][2] {
                    best_axial = Some(best_axial.map_or(d, |b| b.max(d)));
                }
            }
        }
        prop_assert_eq!(max_diameter_mm(&v, s), best.map(f64::sqrt));
        prop_assert_eq!(max_axial_diameter_mm(&v, s), best_axial.map(f64::sqrt));
    }

    /// Moving the mask inside a larger grid changes nothing but the centroid.
    #[test]
    fn translation_invariant((dims, bits) in mask_strategy(), s in spacing_strategy(), shift in [0usize..4, 0usize..4, 0usize..4]) {
        let a = compute(&random_mask(dims, &bits, s));
        let big = [0, 1, 2].map(|i| dims[i] + shift[i] + 2);
        let b = compute(&MaskVolume::from_fn(big, s, |x, y, z| {
            let p = [x, y, z];
            (0..3).all(|i| p[i] >= shift[i] && p[i] < shift[i] + dims[i])
                && bits[((z - shift[2]) * dims[1] + (y - shift[1])) * dims[0] + (x - shift[0])]
        }));
        // The padded crop is the same grid, so the measures are the same numbers.
        prop_assert_eq!(a.mesh_volume_mm3, b.mesh_volume_mm3);
        prop_assert_eq!(a.surface_area_mm2, b.surface_area_mm2);
        prop_assert_eq!(a.max_diameter_mm, b.max_diameter_mm);
        prop_assert_eq!(a.component_count, b.component_count);
        prop_assert_eq!(a.voxel_count, b.voxel_count);
    }

    /// Voxel volume is count × spacing product; mesh volume is linear in each spacing.
    #[test]
    fn scaling_laws((dims, bits) in mask_strategy(), s in spacing_strategy(), k in 0.3f64..4.0) {
        let unit = compute(&random_mask(dims, &bits, [1.0; 3]));
        let scaled = compute(&random_mask(dims, &bits, s));
        let n = bits.iter().filter(|&&b| b).count() as f64;
        let close = |p: f64, q: f64| rel_err(p, q) <= 1e-12;
        prop_assert!(close(scaled.voxel_volume_mm3, n * s[0] * s[1] * s[2]));
        prop_assert!(close(scaled.mesh_volume_mm3, unit.mesh_volume_mm3 * s[0] * s[1] * s[2]));
        // Isotropic scaling by k: lengths ×k, area ×k², volume ×k³.
        let iso = compute(&random_mask(dims, &bits, [k; 3]));
        prop_assert!(close(iso.surface_area_mm2, unit.surface_area_mm2 * k * k));
        prop_assert!(close(iso.mesh_volume_mm3, unit.mesh_volume_mm3 * k * k * k));
        if let (Some(a), Some(b)) = (iso.max_diameter_mm, unit.max_diameter_mm) {
            prop_assert!(close(a, b * k));
        }
        if let (Some(a), Some(b)) = (iso.sphericity, unit.sphericity) {
            prop_assert!(close(a, b));
        }
    }
}

#[test]
fn box_volume_area_and_diameter_have_closed_forms() {
    for (a, b, c) in [(1, 1, 1), (2, 3, 4), (5, 5, 5), (10, 2, 7)] {
        let f = compute(&MaskVolume::from_fn([a + 2, b + 2, c + 2], [1.0; 3], |x, y, z| {
            (1..=a).contains(&x) && (1..=b).contains(&y) && (1..=c).contains(&z)
        }));
        let (a, b, c) = (a as f64, b as f64, c as f64);
        // The mesh is the box [-½, n-½]³ with its 12 edges chamfered (cross-section 1/8 over
        // length n-1) and its 8 corners cut to the plane x+y+z = -½ (5/48 each).
        let volume = a * b * c - (a + b + c - 3.0) / 2.0 - 5.0 / 6.0;
        let area = 2.0 * ((a - 1.0) * (b - 1.0) + (b - 1.0) * (c - 1.0) + (a - 1.0) * (c - 1.0))
            + 2.0 * 2f64.sqrt() * (a + b + c - 3.0)
            + 3f64.sqrt();
        let d2 = [
            a * a + (b - 1.0).powi(2) + (c - 1.0).powi(2),
            (a - 1.0).powi(2) + b * b + (c - 1.0).powi(2),
            (a - 1.0).powi(2) + (b - 1.0).powi(2) + c * c,
        ];
        assert!(
            (f.mesh_volume_mm3 - volume).abs() < 1e-9,
            "{a}×{b}×{c}: {}",
            f.mesh_volume_mm3
        );
        assert!(
            (f.surface_area_mm2 - area).abs() < 1e-9,
            "{a}×{b}×{c}: {}",
            f.surface_area_mm2
        );
        let diameter = d2.into_iter().fold(0.0, f64::max).sqrt();
        assert!((f.max_diameter_mm.unwrap() - diameter).abs() < 1e-12);
        assert_eq!(f.voxel_volume_mm3, a * b * c);
    }
}
