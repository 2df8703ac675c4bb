//! Marching cubes at iso-level 0.5 on a binary mask, with `vtkMarchingCubes`' triangles: the
//! surface the NPC dataset authors measured (IBSI 3.1.1; Lorensen & Cline 1987).
//!
//! A cube is 2×2×2 voxel centres; with a binary mask every vertex lies at an edge midpoint, so
//! a table of 256 configurations gives the triangles directly. The table
//! (`vtk_triangle_table.rs`) is not copied from anywhere: `tests/reference/morphology/
//! make_vtk_table.py` runs VTK's `vtkMarchingCubes` on each configuration alone, maps the
//! points it makes back to edge midpoints in our numbering, keeps VTK's triangles and their
//! (outward) winding, and checks the table against VTK on whole masks, triangle for triangle.
//! All 256 entries are used as VTK makes them: no complement folding.
//!
//! Ambiguity. A cube face is ambiguous when its four voxels hold tumour on one diagonal only;
//! the surface must then either cut the two tumour corners off separately or join them across
//! the face, and the two cubes that share the face must make the same choice or the mesh has a
//! hole. VTK's table always separates the tumour corners of an ambiguous face (the background
//! corners stay joined), whatever the other four corners of either cube hold. The choice thus
//! depends on the face's four voxels alone, so both cubes agree: the mesh is closed and
//! manifold, every edge in exactly two triangles, and two tumour voxels that share only an edge
//! get separate surfaces. The script asserts the rule on all 192 ambiguous faces of the 256
//! configurations; `tests` check closedness and orientation on fixtures and random masks.
//!
//! PyRadiomics' table (`cshape.c`) stores configurations below 128 and triangulates `c ≥ 128`
//! as its complement `c ^ 0xff` with the normals flipped, which on an ambiguous face joins the
//! tumour corners instead. Where the two cubes sharing such a face fall on either side of 128
//! they split it differently: the mesh has a hole, its signed-tetrahedra volume depends on the
//! origin, and volume and area change when the grid is stored in another axis order or
//! direction. Without ambiguous faces the two tables make the same surface (per configuration
//! the same area and volume; two configurations split a polygon along the other diagonal), and
//! npcql equals PyRadiomics to round-off. And because VTK decides per face, and the 48
//! symmetries of the cube (axis permutations × flips) map ambiguous faces onto ambiguous faces,
//! the mesh of a reoriented grid is the reoriented mesh, up to splitting some polygons along
//! another diagonal with the same area and volume (the script checks every configuration under
//! every symmetry): volume and area do not depend on how the grid is stored.

use super::vtk_triangle_table::TRIANGLES;
use npcql_imaging::mask::MaskVolume;

/// Cube corner offsets (x, y, z) by bit: PyRadiomics' `gridAngles`, reversed from (z, y, x).
pub const CORNERS: [[usize; 3]; 8] = [
    [0, 0, 0],
    [1, 0, 0],
    [1, 1, 0],
    [0, 1, 0],
    [0, 0, 1],
    [1, 0, 1],
    [1, 1, 1],
    [0, 1, 1],
];

/// Edge midpoints (x, y, z) in voxel units: PyRadiomics' `vertList`, reversed from (z, y, x).
pub const EDGE_MIDPOINTS: [[f64; 3]; 12] = [
    [0.5, 0.0, 0.0],
    [1.0, 0.5, 0.0],
    [0.5, 1.0, 0.0],
    [0.0, 0.5, 0.0],
    [0.5, 0.0, 1.0],
    [1.0, 0.5, 1.0],
    [0.5, 1.0, 1.0],
    [0.0, 0.5, 1.0],
    [0.0, 0.0, 0.5],
    [1.0, 0.0, 0.5],
    [1.0, 1.0, 0.5],
    [0.0, 1.0, 0.5],
];

/// The triangles of cube configuration `config` (bit i = corner i is tumour) as indices into
/// [`EDGE_MIDPOINTS`], three per triangle, wound so that (b − a) × (c − a) points out of the
/// tumour: VTK's, derived by `tests/reference/morphology/make_vtk_table.py`.
pub fn cube_edges(config: u8) -> &'static [u8] {
    TRIANGLES[config as usize]
}

/// The triangles of cube configuration `config`, in cube-local voxel units (x, y, z), wound
/// so that normals point out of the tumour.
pub fn cube_triangles(config: u8) -> impl Iterator<Item = [[f64; 3]; 3]> {
    cube_edges(config)
        .chunks_exact(3)
        .map(|t| [t[0], t[1], t[2]].map(|e| EDGE_MIDPOINTS[e as usize]))
}

/// Calls `visit(config, [x, y, z])` for every cube of the padded crop that the surface
/// crosses (configurations 0 and 255 have no triangles).
pub fn for_each_cube(mask: &MaskVolume, mut visit: impl FnMut(u8, [usize; 3])) {
    let [nx, ny, nz] = mask.dims;
    if nx < 2 || ny < 2 || nz < 2 {
        return;
    }
    let v = &mask.voxels;
    let row = |y: usize, z: usize| &v[(z * ny + y) * nx..(z * ny + y + 1) * nx];
    for z in 0..nz - 1 {
        for y in 0..ny - 1 {
            let (r00, r01, r10, r11) = (row(y, z), row(y + 1, z), row(y, z + 1), row(y + 1, z + 1));
            // Corner bits of the x = 0 (left) and x = 1 (right) faces, per CORNERS.
            let left = |x: usize| r00[x] | r01[x] << 3 | r10[x] << 4 | r11[x] << 7;
            let right = |x: usize| r00[x] << 1 | r01[x] << 2 | r10[x] << 5 | r11[x] << 6;
            for x in 0..nx - 1 {
                let config = left(x) | right(x + 1);
                if config != 0 && config != 0xff {
                    visit(config, [x, y, z]);
                }
            }
        }
    }
}

/// Calls `visit` with every mesh triangle in mm (crop coordinates × spacing).
pub fn for_each_triangle(mask: &MaskVolume, mut visit: impl FnMut([[f64; 3]; 3])) {
    let s = mask.spacing_mm;
    for_each_cube(mask, |config, origin| {
        for tri in cube_triangles(config) {
            visit(tri.map(|p| [0, 1, 2].map(|a| (origin[a] as f64 + p[a]) * s[a])));
        }
    });
}

/// The mesh vertices in half-voxel units of the crop: the midpoint of every grid edge whose
/// two voxels differ, i.e. `2·index + unit step`. Each vertex is listed once.
pub fn surface_vertices(mask: &MaskVolume) -> Vec<[i32; 3]> {
    let [nx, ny, nz] = mask.dims;
    let mut out = Vec::new();
    let v = &mask.voxels;
    let at = |x: usize, y: usize, z: usize| v[(z * ny + y) * nx + x];
    for z in 0..nz {
        for y in 0..ny {
            for x in 0..nx {
                let here = at(x, y, z);
                let h = [2 * x as i32, 2 * y as i32, 2 * z as i32];
                if x + 1 < nx && at(x + 1, y, z) != here {
                    out.push([h[0] + 1, h[1], h[2]]);
                }
                if y + 1 < ny && at(x, y + 1, z) != here {
                    out.push([h[0], h[1] + 1, h[2]]);
                }
                if z + 1 < nz && at(x, y, z + 1) != here {
                    out.push([h[0], h[1], h[2] + 1]);
                }
            }
        }
    }
    out
}
