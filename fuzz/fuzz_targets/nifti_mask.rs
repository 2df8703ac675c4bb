//! The NIfTI mask reader (header validation, then the voxels), plain and gzipped: whatever the
//! bytes, an error naming the file or a mask, never a panic, a hang or a huge allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use npcql_udfs::morphology::{read_mask, read_mask_header};

fuzz_target!(|data: &[u8]| {
    // The first byte chooses the file name, the rest is the file (gzip: as the name says, or
    // not, which the reader must notice either way).
    let Some((&choice, bytes)) = data.split_first() else { return };
    let name = if choice & 1 == 0 { "mask.nii" } else { "mask.nii.gz" };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let _ = read_mask_header(&path);
    if let Ok(mask) = read_mask(&path) {
        let _ = npcql_udfs::morphology::compute_file(&path);
        assert_eq!(mask.voxels.len(), mask.dims.iter().product::<usize>());
    }
});
