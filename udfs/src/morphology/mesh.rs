//! Volume and surface area of the marching-cubes mesh (IBSI 3.1.1 "Volume (mesh)" RNU0,
//! 3.1.3 "Surface area (mesh)" C0JK).

use super::marching_cubes::{EDGE_MIDPOINTS, cube_edges, for_each_cube};
use npcql_imaging::mask::MaskVolume;

/// Volume and area of the iso-0.5 mesh of a mask.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeshMeasures {
    /// V = Σ a·(b×c)/6 over the outward-wound faces (signed tetrahedra to any origin: the
    /// mesh is closed), mm³.
    pub volume_mm3: f64,
    /// A = Σ |(b−a)×(c−a)|/2 over the faces, mm².
    pub surface_area_mm2: f64,
}

/// Largest |component| of a triangle normal (b−a)×(c−a) in half-voxel units: edge vectors
/// between edge midpoints of one cube have components in −2..=2.
const MAX_NORMAL: usize = 8;

/// Mesh volume and surface area (IBSI 3.1.1, 3.1.3) of VTK's marching-cubes surface.
///
/// Vertices are edge midpoints, i.e. integers in half-voxel units, and spacing only scales
/// the axes, so both measures are computed exactly on integers before one multiplication by
/// the spacing:
/// - volume: every cube of one configuration has the same triangles up to a translation o,
///   and det(o+a, o+b, o+c) = det(a, b, c) + o·(b×c + c×a + a×b), so we count the cubes of
///   each configuration and sum their positions, and 48·V / (sx·sy·sz) is an exact integer;
/// - area: a triangle with normal n (half-voxel units) has area |n ⊙ (sy·sz, sz·sx, sx·sy)|/8,
///   so we count triangles by |n| and add one term per distinct |n| (a dozen).
///
/// Permuting or flipping the grid's axes (spacing permuted with them) permutes the terms, so
/// the results agree to round-off in a handful of additions, and the volume does not depend on
/// the origin because the mesh is closed.
pub fn mesh_measures(mask: &MaskVolume) -> MeshMeasures {
    let mut counts = [0u64; 256];
    let mut positions = [[0u64; 3]; 256];
    for_each_cube(mask, |config, origin| {
        counts[config as usize] += 1;
        for a in 0..3 {
            positions[config as usize][a] += origin[a] as u64;
        }
    });
    // 48·V in voxel units: Σ det over triangles in half-voxel units (det ×8, then /6).
    let mut det_sum: i128 = 0;
    let mut normals = [[[0u64; MAX_NORMAL + 1]; MAX_NORMAL + 1]; MAX_NORMAL + 1];
    for config in 0..256 {
        let count = counts[config];
        if count == 0 {
            continue;
        }
        let (mut det, mut linear) = (0i64, [0i64; 3]);
        for t in cube_edges(config as u8).chunks_exact(3) {
            let [a, b, c] = [t[0], t[1], t[2]].map(|e| HALF_MIDPOINTS[e as usize]);
            det += idot(a, icross(b, c));
            linear = iadd(linear, iadd(iadd(icross(b, c), icross(c, a)), icross(a, b)));
            let n = icross(isub(b, a), isub(c, a)).map(|v| v.unsigned_abs() as usize);
            normals[n[0]][n[1]][n[2]] += count;
        }
        det_sum += count as i128 * det as i128;
        for a in 0..3 {
            // Cube origin in half-voxel units is 2·position.
            det_sum += 2 * positions[config][a] as i128 * linear[a] as i128;
        }
    }
    let s = mask.spacing_mm;
    let scale = [s[1] * s[2], s[2] * s[0], s[0] * s[1]];
    let mut area = 0.0;
    for (i, plane) in normals.iter().enumerate() {
        for (j, row) in plane.iter().enumerate() {
            for (k, &count) in row.iter().enumerate() {
                if count != 0 {
                    let n = [i as f64 * scale[0], j as f64 * scale[1], k as f64 * scale[2]];
                    area += count as f64 * norm(n);
                }
            }
        }
    }
    MeshMeasures {
        volume_mm3: det_sum as f64 / 48.0 * (s[0] * s[1] * s[2]),
        surface_area_mm2: area / 8.0,
    }
}

/// [`EDGE_MIDPOINTS`] in half-voxel units.
const HALF_MIDPOINTS: [[i64; 3]; 12] = {
    let mut out = [[0i64; 3]; 12];
    let mut e = 0;
    while e < 12 {
        let mut a = 0;
        while a < 3 {
            out[e][a] = (EDGE_MIDPOINTS[e][a] * 2.0) as i64;
            a += 1;
        }
        e += 1;
    }
    out
};

fn isub(a: [i64; 3], b: [i64; 3]) -> [i64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn iadd(a: [i64; 3], b: [i64; 3]) -> [i64; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

fn icross(a: [i64; 3], b: [i64; 3]) -> [i64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

fn idot(a: [i64; 3], b: [i64; 3]) -> i64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn norm(a: [f64; 3]) -> f64 {
    dot(a, a).sqrt()
}
