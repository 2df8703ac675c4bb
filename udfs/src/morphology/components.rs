//! Connected components of a binary mask under 26-connectivity (voxels touching by a face,
//! an edge or a corner belong together), as in scipy.ndimage.label with a full 3×3×3 structure.

use super::mask::MaskVolume;

/// Number of 26-connected tumour components; 0 for an empty mask.
pub fn component_count(mask: &MaskVolume) -> u64 {
    let [nx, ny, nz] = mask.dims;
    let mut seen = vec![false; mask.voxels.len()];
    let mut stack = Vec::new();
    let mut count = 0;
    for start in 0..mask.voxels.len() {
        if mask.voxels[start] == 0 || seen[start] {
            continue;
        }
        count += 1;
        seen[start] = true;
        stack.push(start);
        while let Some(i) = stack.pop() {
            let (x, y, z) = (i % nx, (i / nx) % ny, i / (nx * ny));
            // Clamped to the crop so any volume works, padded or not.
            for dz in z.saturating_sub(1)..=(z + 1).min(nz - 1) {
                for dy in y.saturating_sub(1)..=(y + 1).min(ny - 1) {
                    for dx in x.saturating_sub(1)..=(x + 1).min(nx - 1) {
                        let j = (dz * ny + dy) * nx + dx;
                        if mask.voxels[j] != 0 && !seen[j] {
                            seen[j] = true;
                            stack.push(j);
                        }
                    }
                }
            }
        }
    }
    count
}
