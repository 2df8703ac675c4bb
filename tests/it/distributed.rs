//! The same SQL on two datafusion-distributed workers (cargo feature `distributed`): identical
//! rows, work on both workers, and clear errors when a worker is wrong or gone.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use npcql::distributed::Worker;
use npcql::{Engine, EngineOptions};

use crate::support::{copy_of_sample, stderr};

/// Two workers on ephemeral ports of 127.0.0.1, served by `runtime`; their addresses.
fn start_workers(runtime: &tokio::runtime::Runtime, data: &Path) -> (Vec<Worker>, Vec<String>) {
    let mut workers = Vec::new();
    let mut addresses = Vec::new();
    for _ in 0..2 {
        let worker = Worker::new(data).expect("the worker opens the dataset");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("an ephemeral port");
        addresses.push(listener.local_addr().unwrap().to_string());
        let serving = worker.clone();
        runtime.spawn(async move { serving.serve(listener).await });
        workers.push(worker);
    }
    (workers, addresses)
}

fn on_workers(addresses: &[String]) -> EngineOptions {
    EngineOptions {
        workers: addresses.to_vec(),
        ..EngineOptions::default()
    }
}

/// Each statement's rows as one batch.
fn rows(runtime: &tokio::runtime::Runtime, engine: &Engine, sql: &str) -> Vec<RecordBatch> {
    let results = runtime.block_on(npcql::query::run(engine, sql)).expect("the SQL runs");
    results
        .into_iter()
        .map(|r| concat_batches(&r.schema, &r.batches).unwrap())
        .collect()
}

#[test]
fn saved_analyses_give_the_same_rows_on_two_workers_as_on_one_machine() {
    // A fresh copy: the morphology cache is per process, and the workers run in this one.
    let data = copy_of_sample(48);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (workers, addresses) = start_workers(&runtime, data.path());
    let cluster = Engine::open_with(data.path(), &on_workers(&addresses)).expect("the coordinator opens");
    let local = Engine::open(data.path(), false).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
    // The radiomics analyses read the pixels of every series on the workers.
    for analysis in [
        "morphology_by_ebv.sql",
        "pfs_by_ebv.sql",
        "cox_morphology.sql",
        "radiomics_by_ebv.sql",
        "radiomics_cox_screen.sql",
    ] {
        let sql = std::fs::read_to_string(root.join(analysis)).unwrap();
        // The cluster first, so that the workers, not the local engine, mesh the masks.
        let distributed = rows(&runtime, &cluster, &sql);
        assert_eq!(distributed, rows(&runtime, &local, &sql), "{analysis}");
        assert!(distributed.iter().any(|b| b.num_rows() > 0), "{analysis} returns rows");
    }
    let meshed: Vec<usize> = workers.iter().map(Worker::masks_meshed).collect();
    assert!(meshed.iter().all(|&n| n > 0), "both workers meshed masks: {meshed:?}");
    // A function's progress counts the masks it worked on: each of the 144 masks meshed once,
    // and its radiomics computed once (the second radiomics analysis hits the workers' cache).
    assert_eq!(
        meshed.iter().sum::<usize>(),
        2 * 144,
        "each mask meshed once and its radiomics computed once, on one worker"
    );

    let plan = rows(
        &runtime,
        &cluster,
        "EXPLAIN ANALYZE SELECT p.ebv_status, median(m.volume_mm3) FROM morphology m \
         JOIN patients p USING (patient_id) GROUP BY 1",
    );
    let plan = datafusion::arrow::util::pretty::pretty_format_batches(&plan)
        .unwrap()
        .to_string();
    for expected in [
        "DistributedExec",
        "NetworkShuffleExec",
        "tasks=2",
        "HeaderScanExec: masks, files per task [72, 72]",
    ] {
        assert!(plan.contains(expected), "{expected} in the plan:\n{plan}");
    }
}

#[test]
fn a_worker_serving_another_dataset_path_is_refused() {
    let (ours, theirs) = (copy_of_sample(2), copy_of_sample(2));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (_workers, addresses) = start_workers(&runtime, theirs.path());
    let error = Engine::open_with(ours.path(), &on_workers(&addresses))
        .err()
        .expect("a worker on another path is refused")
        .to_string();
    let theirs = theirs.path().canonicalize().unwrap();
    assert!(
        error.contains(&format!(
            "worker {} serves {}, not this dataset",
            addresses[0],
            theirs.display()
        )),
        "{error}"
    );
}

#[test]
fn an_unreachable_worker_is_named() {
    let data = copy_of_sample(1);
    // A port nobody listens on: bound, then closed.
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let error = Engine::open_with(data.path(), &on_workers(std::slice::from_ref(&address)))
        .err()
        .expect("an unreachable worker is an error")
        .to_string();
    assert!(error.contains(&format!("cannot reach worker {address}")), "{error}");
}

/// `npcql worker` as a user starts it; its address from the line it prints.
fn spawn_worker(data: &Path) -> (Child, String) {
    let mut child = crate::support::npcql_command()
        .args(["worker", "--listen", "127.0.0.1:0", "-d"])
        .arg(data)
        .stderr(Stdio::piped())
        .spawn()
        .expect("npcql worker starts");
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .strip_prefix("npcql worker listening on ")
        .and_then(|rest| rest.split(',').next())
        .unwrap_or_else(|| panic!("the worker says where it listens: {line:?}"))
        .to_string();
    (child, address)
}

#[test]
fn a_worker_that_dies_mid_query_is_named_and_nothing_hangs() {
    let data = copy_of_sample(12);
    let (mut first, first_address) = spawn_worker(data.path());
    let (mut second, second_address) = spawn_worker(data.path());
    // Long enough (seconds) on the workers for the second to die while it runs.
    let query = "SELECT count(*) FROM masks m CROSS JOIN range(200000000) r WHERE r.value % 97 = m.dim_x";
    let coordinator = crate::support::npcql_command()
        .args(["--workers", &format!("{first_address},{second_address}"), "-d"])
        .arg(data.path())
        .args(["-c", query])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    second.kill().unwrap();
    let started = std::time::Instant::now();
    let output = coordinator.wait_with_output().unwrap();
    first.kill().unwrap();
    let message = stderr(&output);
    assert!(!output.status.success(), "the query fails: {message}");
    assert!(
        message.contains(&format!("worker {second_address} stopped answering")),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "one line: {message}");
    assert!(started.elapsed().as_secs() < 30, "the coordinator gave up promptly");
}

#[test]
fn workers_read_a_predictions_folder_outside_the_dataset_under_no_external_files() {
    let data = copy_of_sample(4);
    let outside = tempfile::tempdir().unwrap();
    let models = crate::support::data_sample().join("predictions");
    for model in ["dilated", "shifted"] {
        for patient in ["001", "002", "003", "004"] {
            crate::support::copy_dir(
                &models.join(model).join("MRI-Segments").join(patient),
                &outside.path().join(model).join("MRI-Segments").join(patient),
            );
        }
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (workers, addresses) = start_workers(&runtime, data.path());
    let guarded = EngineOptions {
        no_external_files: true,
        predictions: Some(outside.path().to_path_buf()),
        ..EngineOptions::default()
    };
    let cluster = Engine::open_with(
        data.path(),
        &EngineOptions {
            workers: addresses,
            ..guarded.clone()
        },
    )
    .expect("the coordinator opens");
    let local = Engine::open_with(data.path(), &guarded).unwrap();
    let sql = "SELECT pr.model, pr.patient_id, pr.modality, agreement(k.path, pr.path).dice AS dice \
               FROM predictions pr JOIN masks k USING (patient_id, modality) \
               ORDER BY 1, 2, 3";
    let distributed = rows(&runtime, &cluster, sql);
    assert_eq!(distributed, rows(&runtime, &local, sql));
    let dice = &distributed[0].column(3);
    assert_eq!(dice.len(), 24, "2 models x 4 patients x 3 modalities");
    assert_eq!(dice.null_count(), 0, "every pair compared");
    let warnings: Vec<String> = workers.iter().flat_map(Worker::take_warnings).collect();
    assert!(warnings.is_empty(), "{warnings:?}");
}

/// The dataset flags go before `worker` as after it; a worker takes `-d` only, and names the
/// flags that are the coordinator's instead of ignoring them.
#[test]
fn a_worker_takes_the_dataset_flag_before_or_after_and_refuses_the_coordinators() {
    let data = copy_of_sample(2);
    let mut child = crate::support::npcql_command()
        .arg("-d")
        .arg(data.path())
        .args(["worker", "--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("npcql worker starts");
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    let root = data.path().canonicalize().unwrap();
    assert!(
        line.starts_with("npcql worker listening on") && line.contains(root.to_str().unwrap()),
        "{line}"
    );
    let refused = crate::support::npcql_command()
        .args(["--strict", "worker", "--listen", "127.0.0.1:0", "-m", "1g", "-d"])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains(
            "npcql worker takes -d and the cache flags only: --strict, --memory-limit belong to the coordinator"
        ),
        "{}",
        stderr(&refused)
    );
}
