//! The pixel reader: one file of arbitrary bytes as a one-slice series gives its real values or
//! a fault naming the file, never a panic, a hang or a huge allocation (the length guard runs
//! first, then the slice-size bound, then dicom-rs's decoders).
#![no_main]

use libfuzzer_sys::fuzz_target;
use npcql_imaging::dicom::pixels;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("IM0001.dcm"), data).unwrap();
    if let Ok(geometry) = pixels::series_geometry(dir.path())
        && let Ok(volume) = pixels::read_volume(&geometry)
    {
        assert_eq!(volume.values.len(), volume.dims.iter().product::<usize>());
    }
});
