//! The DICOM series header reader with its element-length guard: one file of arbitrary bytes in
//! a series folder gives a series row or a fault naming the file, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("IM0001.dcm"), data).unwrap();
    let _ = npcql_imaging::dicom::read_series(dir.path());
});
