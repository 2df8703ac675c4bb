//! SQL registration of the segmentation agreement functions: `dice`, `jaccard`,
//! `volume_similarity`, `hausdorff_mm`, `hausdorff95_mm`, `assd_mm` (DOUBLE), each of a
//! reference and a test mask path; `surface_dice(reference, test, tolerance_mm)`; and
//! `agreement(reference, test[, tolerance_mm])`, a STRUCT of all of them with the voxel counts.
//!
//! The distinct pairs of a batch are compared in parallel on all cores; an unreadable mask, or
//! two that share no space, is NULL with a warning (an error under `strict`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanBuilder, Float64Array, Float64Builder, Int64Builder, StringArray, StructArray,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::cast::{as_float64_array, as_string_array};
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{Documentation, ScalarUDF, Signature, TypeSignature, Volatility};

use npcql_imaging::cache::{FileVersion, ResultKey, ResultStore, get_value, put_value};

use super::FunctionContext;
use super::docs::{AGREEMENT, document};
use super::path_udf::{PathOutput, udf};
use crate::agreement::{Agreement, AgreementError, agreement_of_files};
use crate::morphology::{MaskError, MaskFault};

/// The fields of `agreement(reference, test)`'s STRUCT, in order.
pub const AGREEMENT_FIELDS: [(&str, DataType); 11] = [
    ("dice", DataType::Float64),
    ("jaccard", DataType::Float64),
    ("volume_similarity", DataType::Float64),
    ("hausdorff_mm", DataType::Float64),
    ("hausdorff95_mm", DataType::Float64),
    ("assd_mm", DataType::Float64),
    ("surface_dice", DataType::Float64),
    ("true_positive", DataType::Int64),
    ("false_positive", DataType::Int64),
    ("false_negative", DataType::Int64),
    ("resampled", DataType::Boolean),
];

/// The agreement functions, in the order they are documented.
pub fn functions(functions: &Arc<FunctionContext>) -> Vec<ScalarUDF> {
    [
        Output::Dice,
        Output::Jaccard,
        Output::VolumeSimilarity,
        Output::Hausdorff,
        Output::Hausdorff95,
        Output::Assd,
        Output::SurfaceDice,
        Output::Struct,
    ]
    .into_iter()
    .map(|output| udf(output, functions))
    .collect()
}

/// What one agreement function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Output {
    Dice,
    Jaccard,
    VolumeSimilarity,
    Hausdorff,
    Hausdorff95,
    Assd,
    SurfaceDice,
    Struct,
}

impl Output {
    /// The DOUBLE this function returns for `a`.
    fn value(self, a: &Agreement, tolerance_mm: Option<f64>) -> Option<f64> {
        match self {
            Output::Dice => Some(a.dice),
            Output::Jaccard => Some(a.jaccard),
            Output::VolumeSimilarity => Some(a.volume_similarity),
            Output::Hausdorff => a.hausdorff_mm(),
            Output::Hausdorff95 => a.hausdorff95_mm(),
            Output::Assd => a.assd_mm(),
            Output::SurfaceDice => a.surface_dice(tolerance_mm?),
            Output::Struct => None,
        }
    }
}

impl PathOutput for Output {
    fn name(self) -> &'static str {
        match self {
            Output::Dice => "dice",
            Output::Jaccard => "jaccard",
            Output::VolumeSimilarity => "volume_similarity",
            Output::Hausdorff => "hausdorff_mm",
            Output::Hausdorff95 => "hausdorff95_mm",
            Output::Assd => "assd_mm",
            Output::SurfaceDice => "surface_dice",
            Output::Struct => "agreement",
        }
    }

    fn documentation(self) -> Documentation {
        let returns = match self {
            Output::Dice => "2·TP / (2·TP + FP + FN) over voxels; 1 when both masks are empty",
            Output::Jaccard => "TP / (TP + FP + FN); 1 when both masks are empty",
            Output::VolumeSimilarity => {
                "2·(V_test − V_reference) / (V_test + V_reference) over voxel counts, positive when the test mask is larger (SimpleITK's, test as source)"
            }
            Output::Hausdorff => {
                "largest distance from a surface voxel of either mask to the other's surface, mm (MONAI HausdorffDistanceMetric); NULL when a mask is empty"
            }
            Output::Hausdorff95 => {
                "the larger of the two directed 95th percentiles of those distances, mm (MONAI's percentile=95, linear between ranks)"
            }
            Output::Assd => "mean of the surface distances both ways, mm (MONAI SurfaceDistanceMetric, symmetric)",
            Output::SurfaceDice => {
                "share of both surfaces within tolerance_mm of the other (normalised surface Dice, MONAI SurfaceDiceMetric); 1 when both masks are empty"
            }
            Output::Struct => {
                "a STRUCT of the above (surface_dice at tolerance_mm; NULL without it) with true_positive, false_positive, false_negative (voxels) and resampled (the test mask lay on another grid)"
            }
        };
        let syntax = match self {
            Output::SurfaceDice => "surface_dice(reference, test, tolerance_mm)".to_string(),
            Output::Struct => "agreement(reference, test[, tolerance_mm])".to_string(),
            _ => format!("{}(reference, test)", self.name()),
        };
        document(AGREEMENT, &syntax, returns)
    }

    fn signature(self) -> Signature {
        let paths = vec![DataType::Utf8, DataType::Utf8];
        // Any number for the tolerance: it is cast to DOUBLE.
        let with_tolerance = [DataType::Float64, DataType::Int64].map(|number| {
            let mut types = paths.clone();
            types.push(number);
            TypeSignature::Exact(types)
        });
        // Stable: a file may change between queries, never within one.
        match self {
            Output::SurfaceDice => Signature::one_of(with_tolerance.to_vec(), Volatility::Stable),
            Output::Struct => {
                let mut forms = vec![TypeSignature::Exact(paths)];
                forms.extend(with_tolerance);
                Signature::one_of(forms, Volatility::Stable)
            }
            _ => Signature::exact(paths, Volatility::Stable),
        }
    }

    fn return_type(self) -> DataType {
        match self {
            Output::Struct => DataType::Struct(agreement_struct_fields()),
            _ => DataType::Float64,
        }
    }

    fn evaluate(self, args: &[ArrayRef], functions: &FunctionContext) -> Result<ArrayRef> {
        let (references, tests) = (as_string_array(&args[0])?, as_string_array(&args[1])?);
        let tolerances = match args.get(2) {
            Some(t) => Some(cast(t, &DataType::Float64)?),
            None => None,
        };
        let tolerances = tolerances.as_ref().map(|t| as_float64_array(t)).transpose()?;
        let agreements = agreements_of(references, tests, functions)?;
        let tolerance = |row: usize| tolerances.and_then(|t| t.is_valid(row).then(|| t.value(row)));
        Ok(match self {
            Output::Struct => Arc::new(struct_array(&agreements, tolerance)),
            output => Arc::new(
                agreements
                    .iter()
                    .enumerate()
                    .map(|(row, a)| a.as_ref().and_then(|a| output.value(a, tolerance(row))))
                    .collect::<Float64Array>(),
            ),
        })
    }
}

/// The STRUCT type `agreement(reference, test)` returns.
pub fn agreement_struct_fields() -> Fields {
    AGREEMENT_FIELDS
        .iter()
        .map(|(name, t)| Field::new(*name, t.clone(), true))
        .collect()
}

/// Each row's agreement: `None` for a NULL path or a pair that cannot be compared (warned, or
/// an error under `strict`).
fn agreements_of(
    references: &StringArray,
    tests: &StringArray,
    functions: &FunctionContext,
) -> Result<Vec<Option<Agreement>>> {
    let rows: Vec<Option<(&str, &str)>> = references
        .iter()
        .zip(tests.iter())
        .map(|(r, t)| Some((r?, t?)))
        .collect();
    let mut pairs: Vec<(&str, &str)> = rows.iter().flatten().copied().collect();
    pairs.sort_unstable();
    pairs.dedup();
    let query = functions.query();
    let compare_all = || {
        crate::parallel::parallel_map(&pairs, |&(reference, test)| {
            if functions.is_cancelled(query) {
                return None;
            }
            // Files outside the dataset, when reading them is off, are refused without being opened.
            for path in [reference, test] {
                if !functions.may_read(Path::new(path)) {
                    return Some(Err(AgreementError::Mask(MaskError {
                        path: PathBuf::from(path),
                        fault: MaskFault::OutsideDataset,
                    })));
                }
            }
            Some(through_store(Path::new(reference), Path::new(test), functions.store()))
        })
    };
    let results = super::morphology::off_the_runtime(compare_all);
    let mut by_pair = std::collections::HashMap::new();
    for (pair, result) in pairs.iter().zip(results) {
        let Some(result) = result else {
            return exec_err!("query cancelled");
        };
        match result {
            Ok(agreement) => {
                by_pair.insert(*pair, agreement);
            }
            Err(e) if functions.strict => {
                // External, so a front end can tell a bad file from bad SQL.
                return Err(datafusion::error::DataFusionError::External(Box::new(e)));
            }
            Err(e) => functions.warn(e.to_string()),
        }
    }
    Ok(rows
        .iter()
        .map(|row| row.and_then(|p| by_pair.get(&p).cloned()))
        .collect())
}

/// [`agreement_of_files`] through the persistent cache, which keeps agreements, not faults.
/// This function has no memory tier: a pair is compared once per query.
fn through_store(reference: &Path, test: &Path, store: Option<&dyn ResultStore>) -> Result<Agreement, AgreementError> {
    let key = store.and_then(|_| {
        Some(ResultKey {
            function: "agreement",
            version: 1,
            settings: String::new(),
            files: vec![FileVersion::of(reference).ok()?, FileVersion::of(test).ok()?],
        })
    });
    if let Some(key) = &key
        && let Some(agreement) = get_value(store, key)
    {
        return Ok(agreement);
    }
    let result = agreement_of_files(reference, test);
    if let (Some(key), Ok(agreement)) = (&key, &result) {
        put_value(store, key, agreement);
    }
    result
}

fn struct_array(agreements: &[Option<Agreement>], tolerance: impl Fn(usize) -> Option<f64>) -> StructArray {
    let float = |f: &dyn Fn(&Agreement) -> Option<f64>| -> ArrayRef {
        let mut b = Float64Builder::with_capacity(agreements.len());
        for a in agreements {
            b.append_option(a.as_ref().and_then(f));
        }
        Arc::new(b.finish())
    };
    let count = |f: &dyn Fn(&Agreement) -> u64| -> ArrayRef {
        let mut b = Int64Builder::with_capacity(agreements.len());
        for a in agreements {
            b.append_option(a.as_ref().map(|a| f(a) as i64));
        }
        Arc::new(b.finish())
    };
    let mut resampled = BooleanBuilder::with_capacity(agreements.len());
    for a in agreements {
        resampled.append_option(a.as_ref().map(|a| a.resampled));
    }
    let columns: Vec<ArrayRef> = vec![
        float(&|a| Some(a.dice)),
        float(&|a| Some(a.jaccard)),
        float(&|a| Some(a.volume_similarity)),
        float(&|a| a.hausdorff_mm()),
        float(&|a| a.hausdorff95_mm()),
        float(&|a| a.assd_mm()),
        Arc::new(
            (agreements.iter().enumerate())
                .map(|(row, a)| a.as_ref().and_then(|a| a.surface_dice(tolerance(row)?)))
                .collect::<Float64Array>(),
        ),
        count(&|a| a.true_positive),
        count(&|a| a.false_positive),
        count(&|a| a.false_negative),
        Arc::new(resampled.finish()),
    ];
    let valid = NullBuffer::from(agreements.iter().map(Option::is_some).collect::<Vec<_>>());
    StructArray::new(agreement_struct_fields(), columns, Some(valid))
}
