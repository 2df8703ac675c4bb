//! Volume and surface area of the marching-cubes mesh (IBSI 3.1.1 "Volume (mesh)" RNU0,
//! 3.1.3 "Surface area (mesh)" C0JK).

use super::marching_cubes::{cube_triangles, for_each_cube};
use super::mask::MaskVolume;

/// Volume and area of the iso-0.5 mesh of a mask.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeshMeasures {
    /// V = Σ a·(b×c)/6 over the outward-wound faces (signed tetrahedra to the origin), mm³.
    pub volume_mm3: f64,
    /// A = Σ |(a−c)×(b−c)|/2 over the faces, mm².
    pub surface_area_mm2: f64,
}

/// Per-configuration sums that make a cube's contribution independent of its position.
#[derive(Clone, Copy, Default)]
struct ConfigSums {
    area: f64,
    /// Σ det(a, b, c) with the cube at the origin.
    det: f64,
    /// Σ (b×c + c×a + a×b): det(o+a, o+b, o+c) = det(a, b, c) + o·this.
    linear: [f64; 3],
}

/// Mesh volume and surface area (IBSI 3.1.1, 3.1.3), as PyRadiomics' `cshape.c` defines them.
///
/// Positions are those of the padded crop, i.e. PyRadiomics' extractor origin, which matters
/// only for masks whose mesh has holes (see [`super::marching_cubes`]).
///
/// Every cube of one configuration has the same triangles up to a translation o, and
/// det(o+a, o+b, o+c) is det(a, b, c) plus a term linear in o, so we only count the cubes of
/// each configuration and sum their (integer) positions, then add up 256 terms.
pub fn mesh_measures(mask: &MaskVolume) -> MeshMeasures {
    let s = mask.spacing_mm;
    let mut counts = [0u64; 256];
    let mut positions = [[0u64; 3]; 256];
    for_each_cube(mask, |config, origin| {
        counts[config as usize] += 1;
        for a in 0..3 {
            positions[config as usize][a] += origin[a] as u64;
        }
    });
    let (mut six_volume, mut area) = (0.0, 0.0);
    for config in 0..256 {
        if counts[config] == 0 {
            continue;
        }
        let sums = config_sums(config as u8, s);
        let position_mm = [0, 1, 2].map(|a| positions[config][a] as f64 * s[a]);
        six_volume += counts[config] as f64 * sums.det + dot(position_mm, sums.linear);
        area += counts[config] as f64 * sums.area;
    }
    MeshMeasures {
        volume_mm3: six_volume / 6.0,
        surface_area_mm2: area,
    }
}

fn config_sums(config: u8, s: [f64; 3]) -> ConfigSums {
    let mut sums = ConfigSums::default();
    for tri in cube_triangles(config) {
        let [a, b, c] = tri.map(|p| [p[0] * s[0], p[1] * s[1], p[2] * s[2]]);
        sums.area += 0.5 * norm(cross(sub(a, c), sub(b, c)));
        sums.det += dot(a, cross(b, c));
        let l = add(add(cross(b, c), cross(c, a)), cross(a, b));
        sums.linear = add(sums.linear, l);
    }
    sums
}

pub(crate) fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn add(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] + b[0], a[1] + b[1], a[2] + b[2]]
}

pub(crate) fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

pub(crate) fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn norm(a: [f64; 3]) -> f64 {
    dot(a, a).sqrt()
}
