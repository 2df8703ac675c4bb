//! Connected components of a binary mask under 26-connectivity (voxels touching by a face,
//! an edge or a corner belong together), as in scipy.ndimage.label with a full 3×3×3 structure.

use npcql_imaging::mask::MaskVolume;

/// A run of tumour voxels `x0..x1` in crop row `row = z·ny + y`.
struct Run {
    row: usize,
    x0: usize,
    x1: usize,
}

/// Number of 26-connected tumour components; 0 for an empty mask.
///
/// Labels x-runs rather than voxels (union-find): two runs in rows whose y and z differ by at
/// most 1 touch iff their x-ranges, widened by one voxel, overlap.
pub fn component_count(mask: &MaskVolume) -> u64 {
    let [nx, ny, nz] = mask.dims;
    let mut runs = Vec::new();
    // Index of each row's first run; row_start[r]..row_start[r + 1] are its runs.
    let mut row_start = Vec::with_capacity(ny * nz + 1);
    for (row, voxels) in mask.voxels.chunks_exact(nx.max(1)).enumerate() {
        row_start.push(runs.len());
        let mut x = 0;
        while x < nx {
            if voxels[x] == 0 {
                x += 1;
                continue;
            }
            let x0 = x;
            while x < nx && voxels[x] != 0 {
                x += 1;
            }
            runs.push(Run { row, x0, x1: x });
        }
    }
    row_start.push(runs.len());
    let mut parent: Vec<usize> = (0..runs.len()).collect();
    let mut components = runs.len() as u64;
    for (i, run) in runs.iter().enumerate() {
        let (y, z) = (run.row % ny, run.row / ny);
        // Earlier neighbour rows only: (y-1, z) and the three rows at z-1.
        let earlier = [(0, 1), (1, -1), (1, 0), (1, 1)];
        for (dz, dy) in earlier {
            let (Some(oz), Some(oy)) = (z.checked_sub(dz), y.checked_add_signed(-dy)) else {
                continue;
            };
            if oy >= ny {
                continue;
            }
            let other = oz * ny + oy;
            let (start, end) = (row_start[other], row_start[other + 1]);
            for (j, r) in runs.iter().enumerate().take(end).skip(start) {
                if r.x0 <= run.x1 && run.x0 <= r.x1 && union(&mut parent, i, j) {
                    components -= 1;
                }
            }
        }
    }
    components
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]]; // path halving
        i = parent[i];
    }
    i
}

/// Joins the sets of `a` and `b`; true if they were separate.
fn union(parent: &mut [usize], a: usize, b: usize) -> bool {
    let (ra, rb) = (find(parent, a), find(parent, b));
    parent[ra] = rb;
    ra != rb
}
