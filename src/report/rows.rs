//! A statement's result as the report's views read it: columns by name, as numbers or labels.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType, Float64Type, SchemaRef};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use super::ReportFault;

/// One statement's rows in one batch.
#[derive(Debug, Clone)]
pub struct Rows {
    batch: RecordBatch,
}

impl Rows {
    pub fn new(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Rows, ReportFault> {
        let batch = concat_batches(schema, batches).map_err(|e| ReportFault::Data(e.to_string()))?;
        Ok(Rows { batch })
    }

    pub fn batch(&self) -> &RecordBatch {
        &self.batch
    }

    pub fn len(&self) -> usize {
        self.batch.num_rows()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The column names, in order.
    pub fn names(&self) -> Vec<String> {
        self.batch.schema().fields().iter().map(|f| f.name().clone()).collect()
    }

    /// The column `name` (case-insensitive), or a fault naming what `view` needed and what the
    /// statement returns.
    pub fn column(&self, view: &'static str, name: &str) -> Result<&ArrayRef, ReportFault> {
        self.find(name).ok_or_else(|| ReportFault::MissingColumn {
            view,
            column: name.to_string(),
            found: self.names().join(", "),
        })
    }

    /// The column `name` if there is one.
    pub fn find(&self, name: &str) -> Option<&ArrayRef> {
        let schema = self.batch.schema();
        let index = schema
            .fields()
            .iter()
            .position(|f| f.name().eq_ignore_ascii_case(name))?;
        Some(self.batch.column(index))
    }

    /// Whether the column holds numbers.
    pub fn is_numeric(array: &ArrayRef) -> bool {
        array.data_type().is_numeric()
    }

    /// A numeric column as f64; NULL, NaN and ±inf are `None` (missing: no statistic or figure
    /// can place them); a fault when the column is not numeric.
    pub fn numbers(column: &str, array: &ArrayRef) -> Result<Vec<Option<f64>>, ReportFault> {
        if !(array.data_type().is_numeric() || *array.data_type() == DataType::Boolean) {
            return Err(ReportFault::BadColumn {
                column: column.to_string(),
                problem: format!("holds {}, not numbers", array.data_type()),
            });
        }
        let floats = cast(array, &DataType::Float64).map_err(|e| ReportFault::Data(e.to_string()))?;
        let finite = |v: Option<f64>| v.filter(|v| v.is_finite());
        Ok(floats.as_primitive::<Float64Type>().iter().map(finite).collect())
    }

    /// A column as text, as the CLI prints it (NULL stays `None`).
    pub fn labels(array: &ArrayRef) -> Vec<Option<String>> {
        let options = FormatOptions::default();
        let Ok(formatter) = ArrayFormatter::try_new(array.as_ref(), &options) else {
            return vec![None; array.len()];
        };
        (0..array.len())
            .map(|i| array.is_valid(i).then(|| formatter.value(i).to_string()))
            .collect()
    }
}
