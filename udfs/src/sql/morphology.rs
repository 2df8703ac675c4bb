//! SQL registration of the morphology functions: `tumor_volume`, `voxel_volume`,
//! `surface_area`, `max_diameter`, `regularity`, `sphericity` (DOUBLE) and `morphology`
//! (a STRUCT of every feature), each taking a mask path.
//!
//! A mask is read and meshed once per (path, size, mtime), however many functions or
//! queries ask for it: a process-wide cache holds the computed features (not the voxels).
//! The distinct uncached paths of a batch are computed in parallel on all cores.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use npcql_imaging::cache::{FileVersion, ResultKey, ResultStore, bounded_entry, get_value, put_value};

use datafusion::arrow::array::{ArrayRef, Float64Array, Float64Builder, Int64Builder, StringArray, StructArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::cast::as_string_array;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{Documentation, ScalarUDF, Signature, Volatility};

use super::FunctionContext;
use super::docs::{MORPHOLOGY, document};
use super::path_udf::{PathOutput, udf};
use crate::morphology::{MaskError, MaskFault, MorphologyFeatures, compute_file};

/// The fields of `morphology(path)`'s STRUCT, in order, with their SQL types.
pub const MORPHOLOGY_FIELDS: [(&str, DataType); 18] = [
    ("volume_mm3", DataType::Float64),
    ("voxel_volume_mm3", DataType::Float64),
    ("surface_area_mm2", DataType::Float64),
    ("max_diameter_mm", DataType::Float64),
    ("max_axial_diameter_mm", DataType::Float64),
    ("regularity", DataType::Float64),
    ("sphericity", DataType::Float64),
    ("major_axis_mm", DataType::Float64),
    ("minor_axis_mm", DataType::Float64),
    ("least_axis_mm", DataType::Float64),
    ("elongation", DataType::Float64),
    ("flatness", DataType::Float64),
    ("centroid_x_mm", DataType::Float64),
    ("centroid_y_mm", DataType::Float64),
    ("centroid_z_mm", DataType::Float64),
    ("voxel_count", DataType::Int64),
    ("component_count", DataType::Int64),
    ("slice_gaps", DataType::Int64),
];

/// The STRUCT type `morphology(path)` returns.
pub fn morphology_struct_fields() -> Fields {
    MORPHOLOGY_FIELDS
        .iter()
        .map(|(name, t)| Field::new(*name, t.clone(), true))
        .collect()
}

/// The morphology functions, in the order they are documented.
pub fn functions(functions: &Arc<FunctionContext>) -> Vec<ScalarUDF> {
    [
        Output::TumorVolume,
        Output::VoxelVolume,
        Output::SurfaceArea,
        Output::MaxDiameter,
        Output::Regularity,
        Output::Sphericity,
        Output::Struct,
    ]
    .into_iter()
    .map(|output| udf(output, functions))
    .collect()
}

/// What one morphology function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Output {
    TumorVolume,
    VoxelVolume,
    SurfaceArea,
    MaxDiameter,
    Regularity,
    Sphericity,
    Struct,
}

impl Output {
    /// The DOUBLE this function returns for `f`.
    fn value(self, f: &MorphologyFeatures) -> Option<f64> {
        match self {
            Output::TumorVolume => Some(f.mesh_volume_mm3),
            Output::VoxelVolume => Some(f.voxel_volume_mm3),
            Output::SurfaceArea => Some(f.surface_area_mm2),
            Output::MaxDiameter => f.max_diameter_mm,
            Output::Regularity => f.regularity,
            Output::Sphericity => f.sphericity,
            Output::Struct => None,
        }
    }
}

impl PathOutput for Output {
    fn name(self) -> &'static str {
        match self {
            Output::TumorVolume => "tumor_volume",
            Output::VoxelVolume => "voxel_volume",
            Output::SurfaceArea => "surface_area",
            Output::MaxDiameter => "max_diameter",
            Output::Regularity => "regularity",
            Output::Sphericity => "sphericity",
            Output::Struct => "morphology",
        }
    }

    /// What the function returns, as `.functions`, `information_schema.routines` and the README
    /// say it.
    fn documentation(self) -> Documentation {
        let returns = match self {
            Output::TumorVolume => "volume V of the mesh, mm³ (IBSI RNU0, PyRadiomics MeshVolume)",
            Output::VoxelVolume => "tumour voxel count × voxel volume, mm³ (IBSI YEKZ)",
            Output::SurfaceArea => "area S of the mesh, mm² (IBSI C0JK)",
            Output::MaxDiameter => {
                "largest distance between two mesh vertices, mm (IBSI L0JK; found on the convex hull)"
            }
            Output::Regularity => {
                "surface regularity SR = V / (4/3·π·r³) with r = sqrt(S / 4π), i.e. 6·sqrt(π)·V / S^1.5; 1 for a sphere"
            }
            Output::Sphericity => "IBSI sphericity (36π·V²)^(1/3) / S (= SR^(2/3))",
            Output::Struct => "a STRUCT of every feature (below)",
        };
        document(MORPHOLOGY, &format!("{}(path)", self.name()), returns)
    }

    fn signature(self) -> Signature {
        // Stable: a file may change between queries, never within one.
        Signature::exact(vec![DataType::Utf8], Volatility::Stable)
    }

    fn return_type(self) -> DataType {
        match self {
            Output::Struct => DataType::Struct(morphology_struct_fields()),
            _ => DataType::Float64,
        }
    }

    fn evaluate(self, args: &[ArrayRef], functions: &FunctionContext) -> Result<ArrayRef> {
        let features = features_of(as_string_array(&args[0])?, functions)?;
        Ok(match self {
            Output::Struct => Arc::new(struct_array(&features)),
            output => Arc::new(
                features
                    .iter()
                    .map(|f| f.as_ref().and_then(|f| output.value(f)))
                    .collect::<Float64Array>(),
            ),
        })
    }
}

/// The features of each row's mask: `None` for a NULL path or an unreadable file (warned, or
/// an error under `strict`).
fn features_of(paths: &StringArray, functions: &FunctionContext) -> Result<Vec<Option<MorphologyFeatures>>> {
    let mut distinct: Vec<&str> = paths.iter().flatten().collect();
    distinct.sort_unstable();
    distinct.dedup();
    // Files outside the dataset, when reading them is off, are refused without being opened.
    let (readable, refused): (Vec<&str>, Vec<&str>) = distinct.iter().partition(|p| functions.may_read(Path::new(p)));
    let Some(mut results) = off_the_runtime(|| compute_parallel(&readable, functions)) else {
        return exec_err!("query cancelled");
    };
    results.extend(refused.iter().map(|p| {
        Err(MaskError {
            path: PathBuf::from(p),
            fault: MaskFault::OutsideDataset,
        })
    }));
    let by_path: HashMap<&str, &Result<MorphologyFeatures, MaskError>> =
        readable.iter().chain(&refused).copied().zip(results.iter()).collect();
    for result in &results {
        if let Err(e) = result {
            if functions.strict {
                // External, so a front end can tell a bad file from bad SQL (Python raises
                // npcql.FileError); the message is the mask error's own.
                return Err(datafusion::error::DataFusionError::External(Box::new(e.clone())));
            }
            functions.warn(e.to_string());
        }
    }
    Ok(paths
        .iter()
        .map(|p| p.and_then(|p| by_path[p].as_ref().ok().copied()))
        .collect())
}

/// Features of each path, through the cache; uncached paths on all cores, reported to
/// `functions` as queued and done for the shell's progress bar. `None` when the query was
/// cancelled meanwhile.
fn compute_parallel(paths: &[&str], functions: &FunctionContext) -> Option<Vec<Result<MorphologyFeatures, MaskError>>> {
    let slots: Vec<Option<Slot>> = paths.iter().map(|p| cache_slot(Path::new(p))).collect();
    let mut results: Vec<Option<Result<MorphologyFeatures, MaskError>>> = slots
        .iter()
        .map(|slot| {
            let cached = slot.as_ref()?.lock().unwrap_or_else(|e| e.into_inner());
            cached.clone()
        })
        .collect();
    // Uncached, including paths that cannot be stat'ed: reading them names their fault.
    let pending: Vec<usize> = (0..paths.len()).filter(|&i| results[i].is_none()).collect();
    if pending.is_empty() {
        return Some(results.into_iter().flatten().collect());
    }
    functions.masks_queued(pending.len());
    let query = functions.query();
    let computed = crate::parallel::parallel_map(&pending, |&i| {
        // Ctrl-C abandons the query: the masks not started yet are not meshed.
        if functions.is_cancelled(query) {
            return (i, None);
        }
        let result = resolve(Path::new(paths[i]), slots[i].as_ref(), functions.store());
        functions.mask_done();
        (i, Some(result))
    });
    for (i, result) in computed {
        results[i] = Some(result?);
    }
    Some(
        results
            .into_iter()
            .map(|r| r.expect("every path is either cached or computed"))
            .collect(),
    )
}

/// Runs CPU-bound work of up to seconds (meshing a batch of masks) without stalling the async
/// runtime: on a multi-threaded tokio worker, `block_in_place` first hands the worker's other
/// tasks (the shell's Ctrl-C listener, other partitions' streams) to another thread. A UDF is
/// called synchronously, so `spawn_blocking`, which needs an `.await`, is not an option here.
pub(crate) fn off_the_runtime<R>(work: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(work),
        _ => work(),
    }
}

/// The features of `path` through its cache slot, then the persistent cache, computing them
/// if nobody has yet.
fn resolve(path: &Path, slot: Option<&Slot>, store: Option<&dyn ResultStore>) -> Result<MorphologyFeatures, MaskError> {
    match slot {
        Some(slot) => {
            // Holding the lock while computing makes concurrent callers for this file wait.
            let mut cached = slot.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(result) = &*cached {
                return result.clone();
            }
            let result = through_store(path, store);
            // The key names the file's contents, so a fault of the contents is kept with it; a
            // failed open or read may be transient and is tried again next time.
            let transient = matches!(&result, Err(e) if matches!(e.fault, MaskFault::Io(_)));
            if !transient {
                *cached = Some(result.clone());
            }
            result
        }
        // Missing or unreadable: let the reader name the fault; nothing to cache.
        None => compute_file(path),
    }
}

/// [`compute_file`] through the persistent cache, which keeps features, not faults: a bad
/// mask is read again and warned about again in the next process.
fn through_store(path: &Path, store: Option<&dyn ResultStore>) -> Result<MorphologyFeatures, MaskError> {
    let key = store.and_then(|_| {
        Some(ResultKey {
            function: "morphology",
            version: 1,
            settings: String::new(),
            files: vec![FileVersion::of(path).ok()?],
        })
    });
    if let Some(key) = &key
        && let Some(features) = get_value(store, key)
    {
        return Ok(features);
    }
    let result = compute_file(path);
    if let (Some(key), Ok(features)) = (&key, &result) {
        put_value(store, key, features);
    }
    result
}

type Slot = Arc<Mutex<Option<Result<MorphologyFeatures, MaskError>>>>;

/// Entries kept before the cache is emptied: features are ~200 bytes, so this bounds it
/// at a few tens of MB in a long session.
const CACHE_CAPACITY: usize = 100_000;

fn cache() -> &'static Mutex<HashMap<FileVersion, Slot>> {
    static CACHE: OnceLock<Mutex<HashMap<FileVersion, Slot>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

/// The features of the mask at `path`, computed at most once per (path, size, mtime).
/// Concurrent callers for the same file wait for the one computing it.
pub fn cached_features(path: &Path) -> Result<MorphologyFeatures, MaskError> {
    resolve(path, cache_slot(path).as_ref(), None)
}

/// The cache slot of the file's current version; `None` if it cannot be stat'ed.
fn cache_slot(path: &Path) -> Option<Slot> {
    let key = FileVersion::of(path).ok()?;
    let mut cache = cache().lock().unwrap_or_else(|e| e.into_inner());
    Some(bounded_entry(&mut cache, key, CACHE_CAPACITY).or_default().clone())
}

/// Builds the `morphology` STRUCT column; a row is NULL where its features are.
fn struct_array(rows: &[Option<MorphologyFeatures>]) -> StructArray {
    let float = |get: &dyn Fn(&MorphologyFeatures) -> Option<f64>| -> ArrayRef {
        let mut b = Float64Builder::with_capacity(rows.len());
        for r in rows {
            b.append_option(r.as_ref().and_then(get));
        }
        Arc::new(b.finish())
    };
    let int = |get: &dyn Fn(&MorphologyFeatures) -> u64| -> ArrayRef {
        let mut b = Int64Builder::with_capacity(rows.len());
        for r in rows {
            b.append_option(r.as_ref().map(|f| get(f) as i64));
        }
        Arc::new(b.finish())
    };
    let centroid = |axis: usize| move |f: &MorphologyFeatures| f.centroid_mm.map(|c| c[axis]);
    let columns: Vec<ArrayRef> = vec![
        float(&|f| Some(f.mesh_volume_mm3)),
        float(&|f| Some(f.voxel_volume_mm3)),
        float(&|f| Some(f.surface_area_mm2)),
        float(&|f| f.max_diameter_mm),
        float(&|f| f.max_axial_diameter_mm),
        float(&|f| f.regularity),
        float(&|f| f.sphericity),
        float(&|f| f.major_axis_mm),
        float(&|f| f.minor_axis_mm),
        float(&|f| f.least_axis_mm),
        float(&|f| f.elongation),
        float(&|f| f.flatness),
        float(&centroid(0)),
        float(&centroid(1)),
        float(&centroid(2)),
        int(&|f| f.voxel_count),
        int(&|f| f.component_count),
        int(&|f| f.slice_gaps),
    ];
    let nulls = NullBuffer::from(rows.iter().map(Option::is_some).collect::<Vec<_>>());
    StructArray::new(morphology_struct_fields(), columns, Some(nulls))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, AsArray, Float64Array};
    use datafusion::arrow::datatypes::Float64Type;
    use datafusion::prelude::SessionContext;

    fn fixture(name: &str) -> String {
        format!(
            "{}/../tests/reference/morphology/masks/{name}.nii.gz",
            env!("CARGO_MANIFEST_DIR")
        )
    }

    fn context(strict: bool) -> (SessionContext, Arc<FunctionContext>) {
        let ctx = SessionContext::new();
        let functions = Arc::new(FunctionContext::new(strict));
        crate::sql::register_all(&ctx, functions.clone()).unwrap();
        (ctx, functions)
    }

    async fn floats(ctx: &SessionContext, sql: &str) -> Vec<Option<f64>> {
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let mut out = Vec::new();
        for b in &batches {
            for c in b.columns() {
                let c = c.as_any().downcast_ref::<Float64Array>().expect("DOUBLE column");
                out.extend(c.iter());
            }
        }
        out
    }

    #[tokio::test]
    async fn scalar_functions_match_the_kernels() {
        let (ctx, functions) = context(false);
        let path = fixture("sphere_aniso");
        let f = compute_file(&path).unwrap();
        let got = floats(
            &ctx,
            &format!(
                "SELECT tumor_volume('{path}'), voxel_volume('{path}'), surface_area('{path}'), \
                 max_diameter('{path}'), regularity('{path}'), sphericity('{path}')"
            ),
        )
        .await;
        let want = [
            Some(f.mesh_volume_mm3),
            Some(f.voxel_volume_mm3),
            Some(f.surface_area_mm2),
            f.max_diameter_mm,
            f.regularity,
            f.sphericity,
        ];
        assert_eq!(got, want);
        assert!(functions.take_warnings().is_empty());
    }

    #[tokio::test]
    async fn struct_over_a_table_of_paths() {
        let (ctx, _) = context(false);
        let rows = ["sphere_aniso", "empty", "two_lesions_int16", "sphere_aniso"]
            .map(|n| format!("('{}')", fixture(n)))
            .join(", ");
        let sql = format!(
            "SELECT m['volume_mm3'], m['regularity'], m['component_count'], m['centroid_z_mm'] \
             FROM (SELECT morphology(column1) AS m FROM (VALUES {rows}, (NULL)))"
        );
        let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
        let b = &batches[0];
        let volume = b.column(0).as_primitive::<Float64Type>();
        let regularity = b.column(1).as_primitive::<Float64Type>();
        let components = b.column(2).as_primitive::<datafusion::arrow::datatypes::Int64Type>();
        assert_eq!(b.num_rows(), 5);
        assert_eq!(volume.value(1), 0.0); // empty mask: volume 0 ...
        assert!(regularity.is_null(1)); // ... and NULL ratios
        assert_eq!(components.value(2), 2);
        assert_eq!(volume.value(0), volume.value(3));
        assert!(volume.is_null(4) && components.is_null(4)); // NULL path
    }

    #[tokio::test]
    async fn accepts_any_string_type() {
        let (ctx, _) = context(false);
        let path = fixture("box_aniso");
        let want = compute_file(&path).unwrap().surface_area_mm2;
        for t in ["Utf8View", "LargeUtf8"] {
            let sql = format!("SELECT surface_area(arrow_cast('{path}', '{t}'))");
            assert_eq!(floats(&ctx, &sql).await, [Some(want)], "{t}");
        }
    }

    #[tokio::test]
    async fn bad_file_is_null_with_a_warning_or_an_error_when_strict() {
        let missing = "/nonexistent/ROI-T1.nii";
        let (ctx, functions) = context(false);
        let got = floats(&ctx, &format!("SELECT tumor_volume('{missing}')")).await;
        assert_eq!(got, [None]);
        let warnings = functions.take_warnings();
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with(&format!("{missing}: cannot read file")));

        let (ctx, _) = context(true);
        let err = match ctx.sql(&format!("SELECT max_diameter('{missing}')")).await {
            Ok(df) => df.collect().await.unwrap_err(),
            Err(e) => e,
        };
        assert!(err.to_string().contains(missing), "{err}");
        // The mask's own error, so a front end can tell a bad file from bad SQL.
        let datafusion::error::DataFusionError::External(root) = err.find_root() else {
            panic!("{err:?}")
        };
        assert!(root.downcast_ref::<MaskError>().is_some(), "{root:?}");
    }

    // On tokio's multi-threaded runtime (as the CLI and the shell run queries) meshing leaves the
    // worker through block_in_place.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn progress_counts_each_uncached_mask_once() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let copies = ["box_aniso", "single_voxel"].map(|n| {
            let copy = dir.join(format!("{n}.nii.gz"));
            std::fs::copy(fixture(n), &copy).unwrap();
            copy.display().to_string()
        });
        let corrupt = dir.join("corrupt.nii");
        std::fs::write(&corrupt, b"not a NIfTI file").unwrap();
        let corrupt = corrupt.display().to_string();
        let (ctx, functions) = context(false);
        let rows = [&copies[0], &copies[1], &copies[0], &corrupt]
            .map(|p| format!("('{p}')"))
            .join(", ");
        let sql = format!("SELECT tumor_volume(column1), surface_area(column1) FROM (VALUES {rows})");
        floats(&ctx, &sql).await;
        // Two masks and the corrupt file, each queued and done once across both functions.
        assert_eq!(functions.mask_progress(), (3, 3));
        functions.start_query();
        floats(&ctx, &format!("SELECT max_diameter('{}')", copies[1])).await;
        assert_eq!(functions.mask_progress(), (0, 0), "served from the cache");
        assert_eq!(functions.take_warnings().len(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_query_meshes_nothing_more() {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("mask.nii.gz");
        std::fs::copy(fixture("sphere_aniso"), &copy).unwrap();
        let (ctx, functions) = context(false);
        functions.cancel();
        let err = ctx
            .sql(&format!("SELECT tumor_volume('{}')", copy.display()))
            .await
            .unwrap()
            .collect()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("query cancelled"), "{err}");
        // Queued (by each attempt DataFusion makes at the constant), never meshed.
        let (done, queued) = functions.mask_progress();
        assert!(done == 0 && queued >= 1, "{done} of {queued}");
        // The next query starts afresh.
        functions.start_query();
        let got = floats(&ctx, &format!("SELECT tumor_volume('{}')", copy.display())).await;
        assert!(got[0].is_some_and(|v| v > 0.0), "{got:?}");
    }

    #[test]
    fn cache_is_keyed_by_path_size_and_mtime() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        let copy = dir.join("mask.nii.gz");
        std::fs::copy(fixture("torus_qform"), &copy).unwrap();
        let first = cache_slot(&copy).unwrap();
        let features = cached_features(&copy).unwrap();
        assert!(Arc::ptr_eq(&first, &cache_slot(&copy).unwrap()));
        assert_eq!(*first.lock().unwrap(), Some(Ok(features)));
        // A changed file (here: a different size) is a new entry.
        std::fs::copy(fixture("sphere_aniso"), &copy).unwrap();
        assert!(!Arc::ptr_eq(&first, &cache_slot(&copy).unwrap()));
        assert_ne!(cached_features(&copy).unwrap(), features);
    }

    #[test]
    fn a_read_error_is_not_cached() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the mask should be: it stats, but reading it fails (EISDIR).
        let path = dir.path().join("mask.nii.gz");
        std::fs::create_dir(&path).unwrap();
        let slot = cache_slot(&path).unwrap();
        let fault = resolve(&path, Some(&slot), None).unwrap_err().fault;
        assert!(matches!(fault, MaskFault::Io(_)), "{fault:?}");
        assert!(slot.lock().unwrap().is_none(), "the read error is not kept");
        // The same cache entry once the file is readable: computed, and then kept.
        std::fs::remove_dir(&path).unwrap();
        std::fs::copy(fixture("torus_qform"), &path).unwrap();
        let features = resolve(&path, Some(&slot), None).unwrap();
        assert_eq!(*slot.lock().unwrap(), Some(Ok(features)));
    }
}
