//! SQL registration of `radiomics(series_dir, mask_path [, settings])`: a STRUCT of every
//! intensity and texture feature of the tumour on that series (`npcql_radiomics`), and its
//! `diagnostics`.
//!
//! As with morphology, each (series, mask, settings) is computed once per version of their
//! files in a process-wide cache, and the distinct uncached ones of a batch in parallel.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Builder, Int64Builder, StringArray, StringBuilder, StructArray,
};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{Documentation, Signature, TypeSignature, Volatility};
use npcql_imaging::cache::{FileVersion, ResultKey, ResultStore, bounded_entry, folder_versions, get_value, put_value};
use npcql_radiomics::extract::{self, ExtractError, Extraction, column_names};
use npcql_radiomics::settings::{Settings, Value};

use super::FunctionContext;
use super::docs::{RADIOMICS, document};
use super::morphology::off_the_runtime;
use super::path_udf::{PathOutput, udf};

/// `radiomics(...)` as a scalar function of the session.
pub fn functions(functions: &Arc<FunctionContext>) -> Vec<datafusion::logical_expr::ScalarUDF> {
    vec![udf(Radiomics, functions)]
}

/// Every feature as (class, feature, column): `("glcm", "idmn", "glcm_idmn")`; the local
/// intensity peaks keep IBSI's whole names as their feature.
pub fn feature_columns() -> Vec<(String, String, String)> {
    let columns = column_names();
    let classes = extract::FEATURES
        .iter()
        .flat_map(|(class, names)| std::iter::repeat_n(*class, names.len()));
    classes
        .zip(columns)
        .map(|(class, column)| {
            let feature = column.strip_prefix(&format!("{class}_")).unwrap_or(column).to_string();
            (class.to_string(), feature, column.clone())
        })
        .collect()
}

/// The fields of `diagnostics`, in order, with their SQL types.
const DIAGNOSTICS: [(&str, DataType); 22] = [
    ("settings", DataType::Utf8),
    ("npcql_version", DataType::Utf8),
    ("voxel_count", DataType::Int64),
    ("morphological_voxel_count", DataType::Int64),
    ("first_column", DataType::Int64),
    ("last_column", DataType::Int64),
    ("first_row", DataType::Int64),
    ("last_row", DataType::Int64),
    ("first_slice", DataType::Int64),
    ("last_slice", DataType::Int64),
    ("grey_levels", DataType::Int64),
    ("roi_minimum", DataType::Float64),
    ("roi_maximum", DataType::Float64),
    ("roi_mean", DataType::Float64),
    ("image_minimum", DataType::Float64),
    ("image_maximum", DataType::Float64),
    ("image_mean", DataType::Float64),
    ("slices_read", DataType::Int64),
    ("slice_count", DataType::Int64),
    ("pairing", DataType::Utf8),
    ("pairing_offset_mm", DataType::Float64),
    ("without_effect", DataType::Utf8),
];

fn diagnostics_fields() -> Fields {
    DIAGNOSTICS
        .iter()
        .map(|(name, t)| Field::new(*name, t.clone(), true))
        .collect()
}

/// Every feature column (DOUBLE), then `diagnostics`.
pub fn radiomics_struct_fields() -> Fields {
    static FIELDS: OnceLock<Fields> = OnceLock::new();
    FIELDS
        .get_or_init(|| {
            column_names()
                .iter()
                .map(|name| Field::new(name, DataType::Float64, true))
                .chain([Field::new("diagnostics", DataType::Struct(diagnostics_fields()), true)])
                .collect()
        })
        .clone()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Radiomics;

impl PathOutput for Radiomics {
    fn name(self) -> &'static str {
        "radiomics"
    }

    fn documentation(self) -> Documentation {
        document(
            RADIOMICS,
            "radiomics(series_dir, mask_path [, settings])",
            "a STRUCT of the tumour's intensity and texture features on that series, PyRadiomics 3.0.1's \
             (`firstorder_*`, `glcm_*`, `glrlm_*`, `glszm_*`, `gldm_*`, `ngtdm_*`: its names in snake_case) and \
             IBSI's (`gldzm_*`, `ivh_*`, `local_intensity_peak`, `global_intensity_peak`), and `diagnostics`; \
             settings in PyRadiomics' names, as `named_struct('binWidth', 25)` or the path of a parameter file",
        )
    }

    fn signature(self) -> Signature {
        // Stable: files may change between queries, never within one.
        Signature::one_of(
            vec![TypeSignature::String(2), TypeSignature::Any(3)],
            Volatility::Stable,
        )
    }

    fn return_type(self) -> DataType {
        DataType::Struct(radiomics_struct_fields())
    }

    fn evaluate(self, args: &[ArrayRef], functions: &FunctionContext) -> Result<ArrayRef> {
        let text =
            |i: usize| -> Result<StringArray> { Ok(cast(&args[i], &DataType::Utf8)?.as_string::<i32>().clone()) };
        let (series, masks) = (text(0)?, text(1)?);
        let settings = match args.get(2) {
            Some(settings) => settings_of(settings, functions)?,
            None => Settings::default(),
        };
        let rows = extractions(&series, &masks, &settings, functions)?;
        Ok(Arc::new(struct_array(&rows)))
    }
}

/// The settings argument: a STRUCT of PyRadiomics settings, or the path of a parameter file;
/// one value for every row.
fn settings_of(array: &ArrayRef, functions: &FunctionContext) -> Result<Settings> {
    let Some(first) = (0..array.len()).find(|&i| array.is_valid(i)) else {
        return Ok(Settings::default());
    };
    let value = ScalarValue::try_from_array(array, first)?;
    for i in first + 1..array.len() {
        if array.is_valid(i) && ScalarValue::try_from_array(array, i)? != value {
            return plan_err!("radiomics: the settings must be the same for every row");
        }
    }
    let parsed = match &value {
        ScalarValue::Struct(s) => {
            let pairs = s
                .fields()
                .iter()
                .zip(s.columns())
                .map(|(field, column)| {
                    Ok((
                        field.name().clone(),
                        setting_value(&ScalarValue::try_from_array(column, 0)?)?,
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            Settings::from_pairs(&pairs)
        }
        ScalarValue::Utf8(Some(path)) | ScalarValue::Utf8View(Some(path)) | ScalarValue::LargeUtf8(Some(path)) => {
            let path = Path::new(path);
            if !functions.may_read(path) {
                return plan_err!(
                    "radiomics: the parameter file {} is outside the dataset",
                    path.display()
                );
            }
            match std::fs::read_to_string(path) {
                Ok(text) => Settings::from_yaml(&text).map_err(|e| format!("{}: {e}", path.display())),
                Err(e) => return plan_err!("radiomics: cannot read the parameter file {}: {e}", path.display()),
            }
        }
        other => {
            return plan_err!(
                "radiomics: settings are a named_struct(...) of PyRadiomics settings or the path of a parameter file, not {}",
                other.data_type()
            );
        }
    };
    parsed.or_else(|e| plan_err!("radiomics: {e}"))
}

/// One setting's value from SQL.
fn setting_value(value: &ScalarValue) -> Result<Value> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    Ok(match value {
        ScalarValue::Boolean(Some(b)) => Value::Bool(*b),
        ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)) => {
            Value::Text(s.clone())
        }
        ScalarValue::List(list) => {
            let items = list.value(0);
            Value::List(
                (0..items.len())
                    .map(|i| setting_value(&ScalarValue::try_from_array(&items, i)?))
                    .collect::<Result<_>>()?,
            )
        }
        number if number.data_type().is_numeric() => match number.cast_to(&DataType::Float64)? {
            ScalarValue::Float64(Some(n)) => Value::Number(n),
            _ => Value::Null,
        },
        other => return plan_err!("radiomics: a setting of type {} is not understood", other.data_type()),
    })
}

type Outcome = std::result::Result<Extraction, ExtractError>;

/// The extraction of each row's (series, mask): `None` for a NULL argument or a fault (warned,
/// or an error under `strict`).
fn extractions(
    series: &StringArray,
    masks: &StringArray,
    settings: &Settings,
    functions: &FunctionContext,
) -> Result<Vec<Option<Extraction>>> {
    let mut distinct: Vec<(&str, &str)> = series
        .iter()
        .zip(masks.iter())
        .filter_map(|(s, m)| Some((s?, m?)))
        .collect();
    distinct.sort_unstable();
    distinct.dedup();
    let described = settings.describe();
    let Some(results) = off_the_runtime(|| compute_parallel(&distinct, settings, &described, functions)) else {
        return exec_err!("query cancelled");
    };
    let by_pair: HashMap<(&str, &str), &Outcome> = distinct.iter().copied().zip(results.iter()).collect();
    for result in &results {
        if let Err(e) = result {
            if functions.strict {
                return Err(datafusion::error::DataFusionError::External(Box::new(e.clone())));
            }
            functions.warn(e.to_string());
        }
    }
    Ok(series
        .iter()
        .zip(masks.iter())
        .map(|(s, m)| by_pair.get(&(s?, m?)).and_then(|r| r.as_ref().ok().cloned()))
        .collect())
}

/// Each pair's extraction through the cache; uncached ones on all cores. `None` when the query
/// was cancelled meanwhile.
fn compute_parallel(
    pairs: &[(&str, &str)],
    settings: &Settings,
    described: &str,
    functions: &FunctionContext,
) -> Option<Vec<Outcome>> {
    let outside = |p: &str| !functions.may_read(Path::new(p));
    // On all cores too: a slot's key stats every file of the series folder.
    let slots: Vec<Option<Slot>> = crate::parallel::parallel_map(pairs, |(s, m)| {
        if outside(s) || outside(m) {
            None
        } else {
            cache_slot(s, m, described)
        }
    });
    let mut results: Vec<Option<Outcome>> = slots
        .iter()
        .map(|slot| slot.as_ref()?.lock().unwrap_or_else(|e| e.into_inner()).clone())
        .collect();
    let pending: Vec<usize> = (0..pairs.len()).filter(|&i| results[i].is_none()).collect();
    functions.masks_queued(pending.len());
    let query = functions.query();
    let computed = crate::parallel::parallel_map(&pending, |&i| {
        if functions.is_cancelled(query) {
            return (i, None);
        }
        let (series, mask) = pairs[i];
        let result = if outside(series) || outside(mask) {
            Err(ExtractError::Roi {
                mask: mask.into(),
                why: format!(
                    "{series} or the mask is outside the dataset folder, and reading outside it is turned off"
                ),
            })
        } else {
            resolve(series, mask, settings, described, slots[i].as_ref(), functions.store())
        };
        functions.mask_done();
        (i, Some(result))
    });
    for (i, result) in computed {
        results[i] = Some(result?);
    }
    Some(results.into_iter().map(|r| r.expect("cached or computed")).collect())
}

fn resolve(
    series: &str,
    mask: &str,
    settings: &Settings,
    described: &str,
    slot: Option<&Slot>,
    store: Option<&dyn ResultStore>,
) -> Outcome {
    let compute = || through_store(series, mask, settings, described, store);
    let Some(slot) = slot else { return compute() };
    // Holding the lock while computing makes concurrent callers for this pair wait.
    let mut cached = slot.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(result) = &*cached {
        return result.clone();
    }
    let result = compute();
    if !matches!(&result, Err(e) if e.is_transient()) {
        *cached = Some(result.clone());
    }
    result
}

/// The extraction through the persistent cache, which keeps extractions, not faults. The key
/// holds the settings as described (their values, so a parameter file is keyed by what it
/// says, not by its name), every file of the series folder and the mask.
fn through_store(
    series: &str,
    mask: &str,
    settings: &Settings,
    described: &str,
    store: Option<&dyn ResultStore>,
) -> Outcome {
    let key = store.and_then(|_| {
        let mut files = folder_versions(Path::new(series)).ok()?;
        files.push(FileVersion::of(Path::new(mask)).ok()?);
        Some(ResultKey {
            function: "radiomics",
            version: 1,
            settings: described.to_string(),
            files,
        })
    });
    if let Some(key) = &key
        && let Some(extraction) = get_value(store, key)
    {
        return Ok(extraction);
    }
    let result = extract::extract(Path::new(series), Path::new(mask), settings);
    if let (Some(key), Ok(extraction)) = (&key, &result) {
        put_value(store, key, extraction);
    }
    result
}

type Slot = Arc<Mutex<Option<Outcome>>>;

/// The version of a series: every file in its folder (a slice rewritten, added or removed is
/// a new version), and of the mask.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    series: Vec<FileVersion>,
    mask: FileVersion,
    settings: String,
}

/// Entries kept before the cache is emptied: an extraction is ~2 KB.
const CACHE_CAPACITY: usize = 20_000;

fn cache() -> &'static Mutex<HashMap<Key, Slot>> {
    static CACHE: OnceLock<Mutex<HashMap<Key, Slot>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

/// The slot of the files' current versions; `None` if one cannot be stat'ed or listed (the
/// extraction then names the fault).
fn cache_slot(series: &str, mask: &str, settings: &str) -> Option<Slot> {
    let key = Key {
        series: folder_versions(Path::new(series)).ok()?,
        mask: FileVersion::of(Path::new(mask)).ok()?,
        settings: settings.to_string(),
    };
    let mut cache = cache().lock().unwrap_or_else(|e| e.into_inner());
    Some(bounded_entry(&mut cache, key, CACHE_CAPACITY).or_default().clone())
}

/// The result column; a row is NULL where its extraction is, a feature NULL where PyRadiomics
/// gives NaN or its class was not asked for.
fn struct_array(rows: &[Option<Extraction>]) -> StructArray {
    let count = column_names().len();
    let mut columns: Vec<ArrayRef> = (0..count)
        .map(|i| {
            let mut b = Float64Builder::with_capacity(rows.len());
            for row in rows {
                b.append_option(row.as_ref().and_then(|r| r.features[i]).filter(|v| !v.is_nan()));
            }
            Arc::new(b.finish()) as ArrayRef
        })
        .collect();
    columns.push(Arc::new(diagnostics_array(rows)));
    let nulls = NullBuffer::from(rows.iter().map(Option::is_some).collect::<Vec<_>>());
    StructArray::new(radiomics_struct_fields(), columns, Some(nulls))
}

fn diagnostics_array(rows: &[Option<Extraction>]) -> StructArray {
    let text = |get: &dyn Fn(&Extraction) -> String| -> ArrayRef {
        let mut b = StringBuilder::new();
        for row in rows {
            b.append_option(row.as_ref().map(get));
        }
        Arc::new(b.finish())
    };
    let int = |get: &dyn Fn(&Extraction) -> usize| -> ArrayRef {
        let mut b = Int64Builder::with_capacity(rows.len());
        for row in rows {
            b.append_option(row.as_ref().map(|r| get(r) as i64));
        }
        Arc::new(b.finish())
    };
    let float = |get: &dyn Fn(&Extraction) -> Option<f64>| -> ArrayRef {
        let mut b = Float64Builder::with_capacity(rows.len());
        for row in rows {
            b.append_option(row.as_ref().and_then(get));
        }
        Arc::new(b.finish())
    };
    let bound = |i: usize| move |r: &Extraction| r.diagnostics.bounding_box[i];
    let columns: Vec<ArrayRef> = vec![
        text(&|r| r.diagnostics.settings.clone()),
        text(&|_| env!("CARGO_PKG_VERSION").to_string()),
        int(&|r| r.diagnostics.voxel_count),
        int(&|r| r.diagnostics.morphological_voxel_count),
        int(&bound(0)),
        int(&bound(3)),
        int(&bound(1)),
        int(&bound(4)),
        int(&bound(2)),
        int(&bound(5)),
        int(&|r| r.diagnostics.grey_levels),
        float(&|r| Some(r.diagnostics.roi_minimum)),
        float(&|r| Some(r.diagnostics.roi_maximum)),
        float(&|r| Some(r.diagnostics.roi_mean)),
        float(&|r| Some(r.diagnostics.image_minimum)),
        float(&|r| Some(r.diagnostics.image_maximum)),
        float(&|r| Some(r.diagnostics.image_mean)),
        int(&|r| r.diagnostics.slices_read),
        int(&|r| r.diagnostics.slice_count),
        text(&|r| r.diagnostics.pairing.clone()),
        float(&|r| r.diagnostics.pairing_offset_mm),
        text(&|r| r.diagnostics.without_effect.join(", ")),
    ];
    let nulls = NullBuffer::from(rows.iter().map(Option::is_some).collect::<Vec<_>>());
    StructArray::new(diagnostics_fields(), columns, Some(nulls))
}
