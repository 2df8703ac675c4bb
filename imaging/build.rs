//! `NPCQL_BUILD_ID`: a hash of the workspace's Rust sources, so that the persistent cache never
//! serves a result of another build (the package version stays 0.1.0 across commits).

use std::hash::Hasher;
use std::path::Path;

fn main() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for crate_dir in ["src", "imaging/src", "radiomics/src", "udfs/src"] {
        let dir = workspace.join(crate_dir);
        println!("cargo::rerun-if-changed={}", dir.display());
        collect(&dir, &mut files);
    }
    files.sort();
    // FNV-1a, written out: std's hashers may change between Rust releases, and a build id
    // needs no more than "different sources, different id".
    let mut hash = Fnv(0xcbf2_9ce4_8422_2325);
    for file in &files {
        hash.write(
            file.strip_prefix(&workspace)
                .unwrap_or(file)
                .to_string_lossy()
                .as_bytes(),
        );
        hash.write(&std::fs::read(file).unwrap_or_default());
    }
    println!("cargo::rustc-env=NPCQL_BUILD_ID={:016x}", hash.finish());
}

fn collect(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

struct Fnv(u64);

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}
