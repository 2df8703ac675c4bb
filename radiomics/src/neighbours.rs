//! Which neighbours a texture family looks at, and where: PyRadiomics' `generate_angles`
//! (`radiomics/src/cmatrices.c`, 3.0.1), in its order, so directional matrices line up with
//! PyRadiomics' and the averaged features agree to the last digit; the ROI's [`BoundingBox`];
//! and [`Padded`], the copy of it the families step through without bounds checks.

use crate::Roi;

/// A bounding box in the ROI's box: its first and last voxel (inclusive) and its size, all
/// (x, y, z). Texture families work within the intensity mask's box, as PyRadiomics crops the
/// image to it before a family runs, and its size limits which offsets exist.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BoundingBox {
    pub low: [usize; 3],
    pub high: [usize; 3],
    pub size: [usize; 3],
}

impl BoundingBox {
    /// The bounding box of the ROI's intensity mask. `None` for an empty mask.
    pub(crate) fn of_roi(roi: &Roi) -> Option<BoundingBox> {
        BoundingBox::of_mask(&roi.mask, roi.dims)
    }

    /// The bounding box of the voxels set in `mask`, a box of `dims` voxels. `None` when none is.
    pub(crate) fn of_mask(mask: &[bool], dims: [usize; 3]) -> Option<BoundingBox> {
        let mut low = dims;
        let mut high = [0usize; 3];
        // Row by row: a row's first and last ROI voxel bound x; most rows of the box (grown
        // for local intensity) hold none. As bytes (a bool is 0 or 1), searched by memchr's SIMD.
        let mask: &[u8] = bytemuck::cast_slice(mask);
        for (row, in_roi) in mask.chunks(dims[0].max(1)).enumerate() {
            let (Some(first), Some(last)) = (memchr::memchr(1, in_roi), memchr::memrchr(1, in_roi)) else {
                continue;
            };
            let (y, z) = (row % dims[1], row / dims[1]);
            (low[0], high[0]) = (low[0].min(first), high[0].max(last));
            (low[1], high[1]) = (low[1].min(y), high[1].max(y));
            (low[2], high[2]) = (low[2].min(z), high[2].max(z));
        }
        (low[0] <= high[0]).then(|| BoundingBox {
            low,
            high,
            size: [0, 1, 2].map(|a| high[a] - low[a] + 1),
        })
    }

    /// The voxels of the line from `at` along `direction` (steps of −1, 0 or 1) up to the
    /// box's face, `at` included: counted once rather than checked at every step.
    pub(crate) fn line_length(&self, at: [usize; 3], direction: [isize; 3]) -> usize {
        (0..3)
            .map(|axis| match direction[axis] {
                1 => self.high[axis] - at[axis],
                -1 => at[axis] - self.low[axis],
                _ => usize::MAX,
            })
            .min()
            .map_or(1, |steps| steps.saturating_add(1))
    }

    /// Whether `coordinate + offset` stays inside the box along `axis`.
    pub(crate) fn holds(&self, axis: usize, coordinate: usize, offset: isize) -> bool {
        let moved = coordinate as isize + offset;
        moved >= self.low[axis] as isize && moved <= self.high[axis] as isize
    }
}

/// A texture family's copy of part of the ROI's box (its bounding box, as a rule): the values
/// there with a margin of 0 around them as wide as the farthest offset, so that a neighbour
/// is one load at a fixed step, with no bounds check (0 is outside the ROI, and the box's
/// outside is outside the ROI).
pub(crate) struct Padded {
    /// The copy, x fastest.
    pub values: Vec<u32>,
    /// Each offset as a step through the copy.
    pub steps: Vec<isize>,
    /// The copied part of the box, and the box's size.
    part: BoundingBox,
    box_dims: [usize; 3],
    margin: usize,
    /// The copy's size.
    dims: [usize; 3],
}

impl Padded {
    /// The ROI's levels over its bounding box, for both directions of every offset at
    /// `distances` that fits that box (what PyRadiomics' GLSZM, GLDM and NGTDM look at; the
    /// box is grown beyond the ROI for local intensity, and nothing here lies out there).
    /// `None` for an empty ROI.
    pub(crate) fn of_roi(roi: &Roi, distances: &[usize], plane_normal: Option<usize>) -> Option<Padded> {
        let part = BoundingBox::of_roi(roi)?;
        let offsets = angles(part.size, distances, plane_normal, true);
        Some(Padded::levels(roi, part, &offsets))
    }

    /// The ROI's levels over `part` of its box, for neighbours at `offsets`.
    pub(crate) fn levels(roi: &Roi, part: BoundingBox, offsets: &[[isize; 3]]) -> Padded {
        let mut padded = Padded::new(roi.dims, part, offsets);
        padded.values = padded.copy(&roi.levels);
        padded
    }

    /// The geometry alone (no values yet) of `part` of a box of `box_dims` voxels, for
    /// neighbours at `offsets`.
    pub(crate) fn new(box_dims: [usize; 3], part: BoundingBox, offsets: &[[isize; 3]]) -> Padded {
        let margin = offsets.iter().flatten().map(|d| d.unsigned_abs()).max().unwrap_or(0);
        let dims: [usize; 3] = part.size.map(|size| size + 2 * margin);
        Padded {
            values: Vec::new(),
            steps: offsets
                .iter()
                .map(|d| d[0] + (d[1] + d[2] * dims[1] as isize) * dims[0] as isize)
                .collect(),
            part,
            box_dims,
            margin,
            dims,
        }
    }

    /// Other values of the box (GLDZM's distances, a mask), copied as the levels were.
    pub(crate) fn copy<T: Copy + Default>(&self, values: &[T]) -> Vec<T> {
        let [px, py, pz] = self.dims;
        let mut out = vec![T::default(); px * py * pz];
        self.for_each_row(|from, to, width| out[to..to + width].copy_from_slice(&values[from..from + width]));
        out
    }

    /// Writes a copy's values back to `out`, the box's (its margin is dropped).
    pub(crate) fn copy_back<T: Copy>(&self, padded: &[T], out: &mut [T]) {
        self.for_each_row(|from, to, width| out[from..from + width].copy_from_slice(&padded[to..to + width]));
    }

    /// Each row of the copied part: where it starts in the box and in the copy, and its width.
    fn for_each_row(&self, mut row: impl FnMut(usize, usize, usize)) {
        let (BoundingBox { low, high, size }, box_dims, margin) = (self.part, self.box_dims, self.margin);
        let [px, py, _] = self.dims;
        let width = size[0];
        for z in low[2]..=high[2] {
            for y in low[1]..=high[1] {
                let from = (z * box_dims[1] + y) * box_dims[0] + low[0];
                let to = ((z - low[2] + margin) * py + y - low[1] + margin) * px + margin;
                row(from, to, width);
            }
        }
    }

    /// Calls `visit` with the index in the copy of every voxel of the copied part whose value
    /// is not 0 (an ROI voxel, for levels), in memory order.
    #[inline]
    pub(crate) fn for_each_inside(&self, mut visit: impl FnMut(usize)) {
        self.for_each_row(|_, to, width| {
            for index in to..to + width {
                if self.values[index] != 0 {
                    visit(index);
                }
            }
        });
    }
}

/// The offsets (dx, dy, dz) whose Chebyshev norm is one of `distances`, none as long as the
/// ROI's bounding box `size` (x, y, z) in its axis, none leaving the plane normal to
/// `plane_normal` (force2D). PyRadiomics' order: offsets in numpy's (z, y, x) order counting
/// down from +max to −max, z slowest. Unless `bidirectional`, only the first half: one of each
/// ± pair, the one whose first non-zero (z, y, x) component is positive.
pub(crate) fn angles(
    size: [usize; 3],
    distances: &[usize],
    plane_normal: Option<usize>,
    bidirectional: bool,
) -> Vec<[isize; 3]> {
    let max = distances.iter().copied().max().unwrap_or(0) as isize;
    let fits =
        |offset: isize, axis: usize| offset.unsigned_abs() < size[axis] && (offset == 0 || plane_normal != Some(axis));
    let mut out = Vec::new();
    for dz in (-max..=max).rev() {
        for dy in (-max..=max).rev() {
            for dx in (-max..=max).rev() {
                let norm = dx.abs().max(dy.abs()).max(dz.abs()) as usize;
                if norm > 0 && distances.contains(&norm) && fits(dx, 0) && fits(dy, 1) && fits(dz, 2) {
                    out.push([dx, dy, dz]);
                }
            }
        }
    }
    if !bidirectional {
        // The valid set is symmetric, and the order puts every positive half first.
        out.truncate(out.len() / 2);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirteen_directions_in_3d_and_four_in_a_plane() {
        let all = angles([5, 5, 5], &[1], None, false);
        assert_eq!(all.len(), 13);
        assert_eq!(all[0], [1, 1, 1]);
        assert!(all.iter().all(|a| !all.contains(&a.map(|v| -v))));
        assert_eq!(angles([5, 5, 5], &[1], None, true).len(), 26);
        let plane = angles([5, 5, 5], &[1], Some(2), false);
        assert_eq!(plane, [[1, 1, 0], [0, 1, 0], [-1, 1, 0], [1, 0, 0]]);
    }

    #[test]
    fn offsets_never_reach_past_the_box() {
        // A single slice: no offset moves in z, as if force2D were set.
        assert_eq!(
            angles([5, 5, 1], &[1], None, false),
            angles([5, 5, 5], &[1], Some(2), false)
        );
        // Distance 2 in a 2-voxel-wide box: only the axes that are long enough.
        let far = angles([2, 5, 5], &[2], None, true);
        assert!(far.iter().all(|a| a[0].abs() < 2 && a.iter().any(|v| v.abs() == 2)));
        assert_eq!(angles([5, 5, 5], &[1, 2], None, true).len(), 124);
    }
}
