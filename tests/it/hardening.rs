//! Embedding safety: `--no-external-files`, `--memory-limit`, one engine shared by many threads,
//! and what a lying header can make npcql allocate.

use std::sync::Arc;

use crate::support::{copy_of_sample, data_sample, npcql, stderr, stdout};

const REFUSED: &str = "reading or writing files outside the dataset is turned off (--no-external-files)";

#[test]
fn no_external_files_refuses_every_way_to_a_file_outside_the_dataset() {
    let data = data_sample();
    let data = data.to_str().unwrap();
    let outside = std::env::temp_dir().join("npcql-outside.csv");
    std::fs::write(&outside, "a\n1\n").unwrap();
    let outside = outside.to_str().unwrap();
    for sql in [
        format!("SELECT * FROM '{outside}'"),
        format!("COPY (SELECT 1) TO '{outside}.out.csv'"),
        format!("CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '{outside}'"),
    ] {
        let run = npcql(&["-d", data, "--no-external-files", "-c", &sql]);
        assert_eq!(run.status.code(), Some(1), "{sql}");
        let message = stderr(&run);
        assert!(
            message.contains(REFUSED) && message.lines().count() == 1,
            "{sql}: {message}"
        );
    }
    assert!(
        !std::path::Path::new(&format!("{outside}.out.csv")).exists(),
        "COPY wrote nothing"
    );
    // Without the flag the same file reads: the refusal is the flag's doing.
    let run = npcql(&["-d", data, "-c", &format!("SELECT * FROM '{outside}'")]);
    assert_eq!((run.status.code(), stdout(&run)), (Some(0), "a\n1\n".into()));

    // The path functions: a file outside (even through `..`) is NULL with a warning and is not
    // opened; the dataset's own masks still read.
    let escape = format!("{data}/MRI-Segments/../../{}", "Cargo.toml");
    let sql = format!(
        "SELECT tumor_volume('{outside}') IS NULL AS a, tumor_volume('{escape}') IS NULL AS b, \
         count(tumor_volume(path)) AS read FROM masks"
    );
    let run = npcql(&["-d", data, "--no-external-files", "-c", &sql]);
    assert_eq!(stdout(&run), "a,b,read\ntrue,true,144\n", "{}", stderr(&run));
    assert!(
        stderr(&run).contains(&format!("{outside}: outside the dataset folder")),
        "{}",
        stderr(&run)
    );
    // An unknown table is still "not found", not a refusal.
    let run = npcql(&["-d", data, "--no-external-files", "-c", "SELECT * FROM nowhere"]);
    assert!(
        stderr(&run).contains("table 'datafusion.public.nowhere' not found"),
        "{}",
        stderr(&run)
    );
    // A query cannot turn the policy off.
    let run = npcql(&[
        "-d",
        data,
        "--no-external-files",
        "-c",
        "SET npcql.no_external_files = false",
    ]);
    assert_eq!(run.status.code(), Some(1));
    // Nor raise the service's memory limit (or choose where to spill): the limit holds.
    let sort = "SELECT patient_id FROM patients ORDER BY pfs_months LIMIT 1";
    let set = format!("SET datafusion.runtime.memory_limit = '8G'; {sort}");
    let run = npcql(&["-d", data, "--no-external-files", "-m", "1k", "-c", &set]);
    assert_eq!(run.status.code(), Some(1));
    let err = stderr(&run);
    assert!(
        err.contains("SET datafusion.runtime.memory_limit: runtime settings") && err.lines().count() == 1,
        "{err}"
    );
    // Without the policy, datafusion-cli's habit: the query may raise it.
    let run = npcql(&["-d", data, "-m", "1k", "-c", &set]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
}

/// Under `--no-external-files` a quoted path inside the dataset reads (through `..` that stays
/// inside, and from the working folder), and one that leads out (by its name, by `..`, by a
/// symlink, or a folder holding such a symlink) is refused naming the path and the dataset folder.
#[test]
fn no_external_files_reads_quoted_paths_inside_the_dataset_only() {
    let scratch = tempfile::tempdir().unwrap();
    let data = copy_of_sample(2);
    let root = data.path().canonicalize().unwrap();
    let outside = scratch.path().join("outside.csv");
    std::fs::write(&outside, "a\n1\n").unwrap();
    std::fs::create_dir(data.path().join("extra")).unwrap();
    std::fs::write(data.path().join("extra/notes.csv"), "n\n7\n").unwrap();
    std::os::unix::fs::symlink(&outside, data.path().join("link.csv")).unwrap();
    std::fs::create_dir(data.path().join("leaky")).unwrap();
    std::os::unix::fs::symlink(&outside, data.path().join("leaky/out.csv")).unwrap();
    let d = data.path().to_str().unwrap();
    let run = |sql: &str| {
        let run = npcql(&["-d", d, "--no-external-files", "-c", sql]);
        (run.status.code(), stdout(&run), stderr(&run))
    };
    for (inside, rows) in [
        (format!("{d}/clinical.csv"), 2),
        (format!("{d}/MRI-Segments/../clinical.csv"), 2),
        (format!("{d}/extra/notes.csv"), 1),
    ] {
        let (code, out, err) = run(&format!("SELECT count(*) AS n FROM '{inside}'"));
        assert_eq!((code, out), (Some(0), format!("n\n{rows}\n")), "{inside}: {err}");
    }
    let (code, out, err) = run(&format!("SELECT n FROM '{d}/extra'"));
    assert_eq!((code, out.as_str()), (Some(0), "n\n7\n"), "{err}");
    // From the working folder, as a user types it.
    let relative = crate::support::npcql_command()
        .current_dir(data.path())
        .args([
            "-d",
            ".",
            "--no-external-files",
            "-c",
            "SELECT count(*) AS n FROM 'clinical.csv'",
        ])
        .output()
        .unwrap();
    assert_eq!(stdout(&relative), "n\n2\n", "{}", stderr(&relative));

    let outside = outside.canonicalize().unwrap();
    // Beside the dataset's folder, reached from inside it by `..`.
    let beside = format!("npcql-beside-{}.csv", std::process::id());
    let beside_path = data.path().parent().unwrap().join(&beside);
    std::fs::copy(&outside, &beside_path).unwrap();
    let escape = format!("{d}/MRI-Segments/../../{beside}");
    let refused = [
        (outside.display().to_string(), format!("{}: outside", outside.display())),
        (escape.clone(), format!("{escape} resolves to ")),
        (
            format!("{d}/link.csv"),
            format!("{d}/link.csv resolves to {}, outside", outside.display()),
        ),
        (
            format!("{d}/leaky"),
            format!(
                "{d}/leaky: {d}/leaky/out.csv resolves to {}, outside",
                outside.display()
            ),
        ),
    ];
    for (path, named) in refused {
        let (code, out, err) = run(&format!("SELECT * FROM '{path}'"));
        assert_eq!((code, out.as_str()), (Some(1), ""), "{path}: {err}");
        assert!(err.contains(&named), "{path}: {err}");
        assert!(
            err.contains(&format!("outside the dataset folder {}; {REFUSED}\n", root.display()))
                && err.lines().count() == 1,
            "{path}: {err}"
        );
    }
    std::fs::remove_file(beside_path).unwrap();
}

#[test]
fn memory_limit_bounds_what_a_query_may_hold() {
    let data = data_sample();
    let data = data.to_str().unwrap();
    let sort = "SELECT patient_id FROM patients ORDER BY pfs_months LIMIT 1";
    let run = npcql(&["-d", data, "--memory-limit", "1k", "-c", sort]);
    assert_eq!(run.status.code(), Some(1));
    assert!(stderr(&run).contains("Resources exhausted"), "{}", stderr(&run));
    let run = npcql(&["-d", data, "-m", "1g", "-c", sort]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let run = npcql(&["-d", data, "--memory-limit", "lots", "-c", sort]);
    assert_eq!(run.status.code(), Some(2));
    assert!(stderr(&run).contains("lots: not a size"), "{}", stderr(&run));
    for (text, bytes) in [
        ("512m", 512 << 20),
        ("2g", 2 << 30),
        ("1.5GB", 3 << 29),
        ("4096", 4096),
        ("64KiB", 64 << 10),
    ] {
        assert_eq!(npcql::catalog::parse_size(text).unwrap(), bytes, "{text}");
    }
    for bad in ["", "0", "-1g", "1x", "nan"] {
        assert!(npcql::catalog::parse_size(bad).is_err(), "{bad}");
    }
}

#[test]
fn one_engine_serves_eight_threads_with_the_serial_results() {
    let engine = Arc::new(npcql::Engine::open(&data_sample(), false).expect("data-sample opens"));
    let queries = [
        "SELECT ebv_status, km_median(pfs_months, pfs_event) AS m FROM patients GROUP BY 1 ORDER BY 1",
        "SELECT patient_id, modality, tumor_volume(path) AS v FROM masks ORDER BY 1, 2",
        "SELECT cox_ph(pfs_months, pfs_event, age) AS c FROM patients",
        "SELECT count(*) AS n FROM scans",
        "SELECT logrank_test(pfs_months, pfs_event, ebv_status) AS t FROM patients",
    ];
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let run = |engine: &npcql::Engine, sql: &str| {
        let results = runtime.block_on(npcql::query::run(engine, sql)).expect("query runs");
        let result = results.into_iter().next().unwrap();
        datafusion::arrow::compute::concat_batches(&result.schema, &result.batches).unwrap()
    };
    let serial: Vec<_> = queries.iter().map(|q| run(&engine, q)).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                let (engine, serial, run) = (&engine, &serial, &run);
                scope.spawn(move || {
                    for round in 0..3 {
                        let i = (t + round) % queries.len();
                        assert_eq!(run(engine, queries[i]), serial[i], "thread {t}: {}", queries[i]);
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().expect("thread finished");
        }
    });
}

#[test]
fn a_200_byte_header_claiming_2_to_the_40_voxels_costs_little_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.nii");
    // A NIfTI-1 header: sizeof_hdr 348, dim = [3, 2^14, 2^14, 2^12] (2^40 voxels), uint8,
    // spacing 1 mm, vox_offset 352, magic "n+1"; cut to 200 bytes.
    let mut header = vec![0u8; 348];
    header[0..4].copy_from_slice(&348i32.to_le_bytes());
    for (i, d) in [3i16, 1 << 14, 1 << 14, 1 << 12, 1, 1, 1, 1].iter().enumerate() {
        header[40 + 2 * i..42 + 2 * i].copy_from_slice(&d.to_le_bytes());
    }
    header[70..72].copy_from_slice(&2i16.to_le_bytes());
    header[72..74].copy_from_slice(&8i16.to_le_bytes());
    for i in 0..4 {
        header[76 + 4 * i..80 + 4 * i].copy_from_slice(&1f32.to_le_bytes());
    }
    header[108..112].copy_from_slice(&352f32.to_le_bytes());
    header[344..348].copy_from_slice(b"n+1\0");
    // The counter counts: a real mask's voxels are held at once while it is read.
    let real = data_sample().join("MRI-Segments/001/ROI-T1.nii");
    let (volume, peak) = crate::allocation::peak_of(|| npcql_udfs::morphology::read_mask(&real));
    let voxels: usize = volume.expect("data-sample's mask reads").dims.iter().product();
    assert!(peak >= voxels, "peak {peak} bytes for {voxels} voxels");
    for bytes in [&header[..200], &header[..]] {
        std::fs::write(&path, bytes).unwrap();
        let (result, peak) = crate::allocation::peak_of(|| npcql_udfs::morphology::read_mask(&path));
        let error = result.expect_err("refused").to_string();
        assert!(error.starts_with(&path.display().to_string()), "{error}");
        assert!(
            peak < 10 << 20,
            "{} bytes: peak allocation {peak} bytes ({error})",
            bytes.len()
        );
    }
}

/// Every file under `dir` (relative path) with its bytes' hash, size and modification time.
fn fingerprint(
    dir: &std::path::Path,
) -> std::collections::BTreeMap<std::path::PathBuf, (u64, u64, std::time::SystemTime)> {
    use std::hash::{Hash, Hasher};
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            bytes.hash(&mut hasher);
            let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
            out.insert(
                path.strip_prefix(dir).unwrap().to_path_buf(),
                (hasher.finish(), bytes.len() as u64, modified),
            );
        }
    }
    out
}

#[test]
fn the_dataset_is_never_touched() {
    let data = crate::support::copy_of_sample(12);
    let dir = data.path().to_str().unwrap();
    let before = fingerprint(data.path());
    assert!(
        before.len() > 100,
        "the copy holds the series and masks: {} files",
        before.len()
    );
    let out = tempfile::tempdir().unwrap();
    let out = out.path();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    // Every saved analysis, strict or not; every export format; the report with its figures;
    // the shell reading commands from a pipe.
    for file in std::fs::read_dir(root.join("queries")).unwrap() {
        let file = file.unwrap().path();
        if file.extension().is_some_and(|e| e == "sql") && !file.ends_with("survival_report.sql") {
            for strict in [false, true] {
                let mut args = vec!["-d", dir, "-f", file.to_str().unwrap()];
                if strict {
                    args.push("--strict");
                }
                let run = npcql(&args);
                assert!(strict || run.status.success(), "{}: {}", file.display(), stderr(&run));
            }
        }
    }
    for format in npcql::output::Format::ALL {
        let target = out.join(format!("masks.{}", format.name()));
        let run = npcql(&[
            "-d",
            dir,
            "-c",
            "SELECT *, tumor_volume(path) AS v FROM masks",
            "-o",
            target.to_str().unwrap(),
        ]);
        assert!(run.status.success(), "{}", stderr(&run));
    }
    let report = root.join("queries/survival_report.sql");
    let page = out.join("r.html");
    let figures = out.join("figures");
    let run = npcql(&[
        "report",
        report.to_str().unwrap(),
        "-o",
        page.to_str().unwrap(),
        "-d",
        dir,
        "--figures",
        figures.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", stderr(&run));
    let mut shell = crate::support::npcql_command()
        .args(["-d", dir])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    shell
        .stdin
        .take()
        .unwrap()
        .write_all(b"SELECT * FROM morphology;\n.tables\n.schema masks\nSELECT * FROM dataset_issues;\n")
        .unwrap();
    assert!(shell.wait().unwrap().success());
    assert_eq!(fingerprint(data.path()), before, "a dataset file changed");
}
