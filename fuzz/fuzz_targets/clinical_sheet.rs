//! The clinical sheet reader (csv and xlsx) and the patients table built from it: arbitrary
//! bytes give a table or one clear error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&choice, bytes)) = data.split_first() else { return };
    let name = if choice & 1 == 0 { "clinical.csv" } else { "clinical.xlsx" };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let _ = npcql::dataset::read_sheet(&path, None, None);
});
