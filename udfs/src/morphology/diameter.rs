//! Maximum 3D diameter (IBSI 3.1.11 "Maximum 3D diameter" L0JK) and PyRadiomics'
//! Maximum2DDiameterSlice, over the marching-cubes mesh vertices.

use super::hull::{hull_vertices_2d, hull_vertices_3d};

/// Largest Euclidean distance (mm) between two mesh vertices given in half-voxel units;
/// `None` for fewer than two vertices.
///
/// The farthest pair of a point set are extreme points (squared distance is strictly convex),
/// so we search only points that are extreme along their x-, y- and z-grid lines and, of
/// those, the convex hull's vertices: exact, and far fewer than the mesh's. Distances are
/// computed in mm as PyRadiomics does: coordinate = (half-units / 2) × spacing.
pub fn max_diameter_mm(vertices: &[[i32; 3]], spacing_mm: [f64; 3]) -> Option<f64> {
    let candidates = line_extremes(vertices, &[0, 1, 2]);
    let hull = hull_vertices_3d(&candidates);
    let points: Vec<[f64; 3]> = hull.iter().map(|&i| to_mm(candidates[i], spacing_mm)).collect();
    max_distance(&points)
}

/// Largest distance (mm) between two mesh vertices that lie in the same axial plane
/// (equal z): PyRadiomics' `Maximum2DDiameterSlice` (its array axis 0 is NIfTI's z).
/// `None` when no plane holds two vertices.
pub fn max_axial_diameter_mm(vertices: &[[i32; 3]], spacing_mm: [f64; 3]) -> Option<f64> {
    let mut candidates = line_extremes(vertices, &[0, 1]);
    candidates.sort_unstable_by_key(|v| v[2]);
    candidates
        .chunk_by(|a, b| a[2] == b[2])
        .filter_map(|plane| {
            let flat: Vec<[i32; 2]> = plane.iter().map(|v| [v[0], v[1]]).collect();
            let points: Vec<[f64; 3]> = hull_vertices_2d(&flat)
                .into_iter()
                .map(|i| to_mm(plane[i], spacing_mm))
                .collect();
            max_distance(&points)
        })
        .reduce(f64::max)
}

/// The points that are the lowest or highest on the grid line through them along each of
/// `axes` (a point between two others on a line is not extreme). Coordinates must be ≥ 0.
pub fn line_extremes(points: &[[i32; 3]], axes: &[usize]) -> Vec<[i32; 3]> {
    let Some(size) = (0..3)
        .map(|a| points.iter().map(|p| p[a] as usize + 1).max())
        .collect::<Option<Vec<usize>>>()
    else {
        return Vec::new();
    };
    // For each axis a (with the other two b, c): (min, max) of a along every line,
    // indexed by (b, c).
    type LineTable = (usize, usize, usize, Vec<(i32, i32)>);
    let tables: Vec<LineTable> = axes
        .iter()
        .map(|&a| {
            let (b, c) = ((a + 1) % 3, (a + 2) % 3);
            let mut t = vec![(i32::MAX, i32::MIN); size[b] * size[c]];
            for p in points {
                let e = &mut t[p[b] as usize * size[c] + p[c] as usize];
                *e = (e.0.min(p[a]), e.1.max(p[a]));
            }
            (a, b, c, t)
        })
        .collect();
    points
        .iter()
        .filter(|p| {
            tables.iter().all(|(a, b, c, t)| {
                let (lo, hi) = t[p[*b] as usize * size[*c] + p[*c] as usize];
                p[*a] == lo || p[*a] == hi
            })
        })
        .copied()
        .collect()
}

fn to_mm(half_units: [i32; 3], spacing_mm: [f64; 3]) -> [f64; 3] {
    [0, 1, 2].map(|a| half_units[a] as f64 * 0.5 * spacing_mm[a])
}

/// Brute-force farthest pair of a (small) point set.
fn max_distance(points: &[[f64; 3]]) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let mut best = 0.0f64;
    for (i, a) in points.iter().enumerate() {
        for b in &points[i + 1..] {
            let d = [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
            best = best.max(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
        }
    }
    Some(best.sqrt())
}
