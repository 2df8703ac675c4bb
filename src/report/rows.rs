//! A statement's result as the report's views read it: columns by name, as numbers or labels.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType, Float64Type, SchemaRef};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use datafusion::sql::sqlparser::ast::Ident;

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

    /// The column `name` (an unquoted name: any case), or a fault naming what `view` needed
    /// and what the statement returns.
    pub fn column(&self, view: &'static str, name: &str) -> Result<&ArrayRef, ReportFault> {
        let index = self.position(view, &ColumnName::unquoted(name))?;
        Ok(self.batch.column(index))
    }

    /// The column `name` (an unquoted name: any case) if there is one; a fault when several
    /// STRUCT fields answer to it.
    pub fn find(&self, name: &str) -> Result<Option<&ArrayRef>, ReportFault> {
        Ok(self
            .matching(&ColumnName::unquoted(name))?
            .map(|index| self.batch.column(index)))
    }

    /// Where the column `name` is, or a fault naming what `view` needed and what the statement
    /// returns.
    pub fn position(&self, view: &'static str, name: &ColumnName) -> Result<usize, ReportFault> {
        self.matching(name)?.ok_or_else(|| ReportFault::MissingColumn {
            view,
            column: name.to_string(),
            found: self.names().join(", "),
        })
    }

    /// The column called `name`; else the one field `x[name]` of a STRUCT's fields as
    /// DataFusion names them (`SELECT c.hr` returns a column `c[hr]`); a fault when several are.
    fn matching(&self, name: &ColumnName) -> Result<Option<usize>, ReportFault> {
        let names = self.names();
        let whole = |i: &usize| name.matches(&names[*i]);
        let exact = |i: &usize| names[*i] == name.name;
        if let Some(i) = (0..names.len()).find(exact).or_else(|| (0..names.len()).find(whole)) {
            return Ok(Some(i));
        }
        let fields: Vec<usize> = (0..names.len())
            .filter(|&i| struct_field(&names[i]).is_some_and(|field| name.matches(field)))
            .collect();
        match fields.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            several => Err(ReportFault::BadColumn {
                column: name.to_string(),
                problem: format!(
                    "is ambiguous: the statement returns {}; name one with AS",
                    several
                        .iter()
                        .map(|&i| names[i].as_str())
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            }),
        }
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

/// `f` of a column DataFusion named `x[f]` (a STRUCT field read as `x.f` or `x['f']`).
fn struct_field(column: &str) -> Option<&str> {
    let inner = column.strip_suffix(']')?;
    let open = inner.rfind('[')?;
    (open > 0).then(|| &inner[open + 1..])
}

/// A column as a report names it: an SQL identifier, quoted (`"horTh"`: this case exactly) or
/// not (`horth`, `HORTH`: any case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnName {
    pub name: String,
    pub quoted: bool,
}

impl ColumnName {
    pub fn unquoted(name: &str) -> ColumnName {
        ColumnName {
            name: name.to_string(),
            quoted: false,
        }
    }

    pub fn quoted(name: &str) -> ColumnName {
        ColumnName {
            name: name.to_string(),
            quoted: true,
        }
    }

    /// Whether a column called `column` is this one.
    pub fn matches(&self, column: &str) -> bool {
        if self.quoted {
            column == self.name
        } else {
            column.eq_ignore_ascii_case(&self.name)
        }
    }
}

impl From<Ident> for ColumnName {
    fn from(ident: Ident) -> ColumnName {
        ColumnName {
            name: ident.value,
            quoted: ident.quote_style.is_some(),
        }
    }
}

impl std::fmt::Display for ColumnName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.quoted {
            write!(f, "\"{}\"", self.name.replace('"', "\"\""))
        } else {
            f.write_str(&self.name)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::Int32Array;
    use datafusion::arrow::datatypes::{Field, Schema};

    use super::*;

    fn rows(names: &[&str]) -> Rows {
        let schema = Arc::new(Schema::new(
            names
                .iter()
                .map(|n| Field::new(*n, DataType::Int32, true))
                .collect::<Vec<_>>(),
        ));
        let columns = names
            .iter()
            .enumerate()
            .map(|(i, _)| Arc::new(Int32Array::from(vec![i as i32])) as ArrayRef)
            .collect();
        Rows::new(&schema, &[RecordBatch::try_new(schema.clone(), columns).unwrap()]).unwrap()
    }

    #[test]
    fn quoted_names_keep_their_case_and_unquoted_do_not() {
        let rows = rows(&["horTh", "horth", "Age"]);
        assert_eq!(rows.position("table1", &ColumnName::quoted("horTh")).unwrap(), 0);
        assert_eq!(rows.position("table1", &ColumnName::quoted("horth")).unwrap(), 1);
        assert_eq!(rows.position("table1", &ColumnName::unquoted("AGE")).unwrap(), 2);
        let fault = rows.position("table1", &ColumnName::quoted("AGE")).unwrap_err();
        assert_eq!(
            fault.to_string(),
            "'show: table1' needs a column named \"AGE\"; the statement returns horTh, horth, Age"
        );
    }

    /// `SELECT c.hr` returns a column `c[hr]`: it answers to `hr` when no other column does.
    #[test]
    fn a_struct_field_answers_to_its_name_when_unambiguous() {
        let rows = rows(&["label", "c[hr]", "c[hr_lower]", "x[y][p]", "hr_upper"]);
        assert_eq!(rows.position("forest", &ColumnName::unquoted("hr")).unwrap(), 1);
        assert_eq!(rows.position("forest", &ColumnName::unquoted("HR_LOWER")).unwrap(), 2);
        assert_eq!(rows.position("forest", &ColumnName::unquoted("p")).unwrap(), 3);
        // A column of that very name wins over a field.
        assert_eq!(rows.position("forest", &ColumnName::unquoted("hr_upper")).unwrap(), 4);
        assert!(rows.position("forest", &ColumnName::unquoted("c")).is_err());
        let both = self::rows(&["a[hr]", "b[hr]"]);
        let fault = both.position("forest", &ColumnName::unquoted("hr")).unwrap_err();
        assert!(fault.to_string().contains("a[hr] and b[hr]"), "{fault}");
    }
}
