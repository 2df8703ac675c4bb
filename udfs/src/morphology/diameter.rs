//! Maximum 3D diameter (IBSI 3.1.11 "Maximum 3D diameter" L0JK) and PyRadiomics'
//! Maximum2DDiameterSlice, over the marching-cubes mesh vertices.

use std::collections::BTreeMap;

use super::hull::{hull_vertices_2d, hull_vertices_3d};

/// Largest Euclidean distance (mm) between two mesh vertices given in half-voxel units;
/// `None` for fewer than two vertices.
///
/// The farthest pair of a point set are vertices of its convex hull, so we search the hull's
/// vertices only (exact, and far fewer than the mesh's). Distances are computed in mm as
/// PyRadiomics does: coordinate = (half-units / 2) × spacing.
pub fn max_diameter_mm(vertices: &[[i32; 3]], spacing_mm: [f64; 3]) -> Option<f64> {
    let hull = hull_vertices_3d(vertices);
    let points: Vec<[f64; 3]> = hull.iter().map(|&i| to_mm(vertices[i], spacing_mm)).collect();
    max_distance(&points)
}

/// Largest distance (mm) between two mesh vertices that lie in the same axial plane
/// (equal z): PyRadiomics' `Maximum2DDiameterSlice` (its array axis 0 is NIfTI's z).
/// `None` when no plane holds two vertices.
pub fn max_axial_diameter_mm(vertices: &[[i32; 3]], spacing_mm: [f64; 3]) -> Option<f64> {
    let mut planes: BTreeMap<i32, Vec<[i32; 2]>> = BTreeMap::new();
    for v in vertices {
        planes.entry(v[2]).or_default().push([v[0], v[1]]);
    }
    planes
        .iter()
        .filter_map(|(&z, plane)| {
            let points: Vec<[f64; 3]> = hull_vertices_2d(plane)
                .into_iter()
                .map(|i| to_mm([plane[i][0], plane[i][1], z], spacing_mm))
                .collect();
            max_distance(&points)
        })
        .reduce(f64::max)
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
