//! Shared helpers: the bundled sample, the npcql binary, scratch datasets.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The bundled `data-sample`.
pub fn data_sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data-sample")
}

/// Runs the npcql binary with `args` ([`npcql_command`]).
pub fn npcql(args: &[&str]) -> Output {
    npcql_command().args(args).output().expect("the npcql binary runs")
}

/// The npcql binary, apart from the developer's environment: no `NPCQL_DATA` (tests choose
/// their dataset), and its persistent cache and shell history under the temp folder, not in
/// the developer's home (`HOME` there; `NPCQL_CACHE_DIR` and `XDG_CACHE_HOME` cleared). A test
/// may set any of them again.
pub fn npcql_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_npcql"));
    command
        .env_remove("NPCQL_DATA")
        .env_remove("NPCQL_CACHE_DIR")
        .env_remove("XDG_CACHE_HOME")
        .env("HOME", std::env::temp_dir());
    command
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A scratch copy of the first `patients` patients of data-sample, with their clinical rows.
pub fn copy_of_sample(patients: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let segments = data_sample().join("MRI-Segments");
    for i in 1..=patients {
        let id = format!("{i:03}");
        copy_dir(&segments.join(&id), &dir.path().join("MRI-Segments").join(&id));
    }
    // The clinical rows of those patients only: the header and `patients` rows.
    let clinical = std::fs::read_to_string(data_sample().join("clinical.csv")).expect("read clinical.csv");
    let rows: Vec<&str> = clinical.lines().take(patients + 1).collect();
    std::fs::write(dir.path().join("clinical.csv"), rows.join("\n") + "\n").expect("write clinical.csv");
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// Writes `bytes` at `offset` of the file at `path` (a damaged copy of a sample file).
pub fn overwrite(path: &Path, offset: u64, bytes: &[u8]) {
    use std::io::{Seek, SeekFrom, Write};
    let mut file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.seek(SeekFrom::Start(offset)).unwrap();
    file.write_all(bytes).unwrap();
}
