//! The machinery shared by every survival and statistics aggregate: collect the raw rows.
//!
//! None of these statistics can be merged from partial summaries, so each aggregate keeps its
//! (validated, non-NULL) input rows; the partial state of DataFusion's two-phase aggregation is
//! one LIST per stored column, and `evaluate` hands the rows to a kernel.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Float64Type};
use datafusion::common::cast::{as_float64_array, as_list_array, as_string_array};
use datafusion::common::utils::SingleRowListArrayBuilder;
use datafusion::common::{Result, ScalarValue, exec_err, internal_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDFImpl, Documentation, Signature, Volatility};

/// Puts the rows in one canonical order (by every column, NaN-free numbers by value, labels
/// as text). Partial states merge in whatever order the partitions finish, on one machine
/// or across a cluster; the kernels' floating-point sums follow row order, so sorting first
/// makes every result the same to the last bit however the rows arrived.
fn sort_rows(columns: &mut [Column]) {
    let rows = columns.first().map_or(0, Column::len);
    let mut order: Vec<usize> = (0..rows).collect();
    order.sort_by(|&a, &b| {
        columns
            .iter()
            .map(|c| match c {
                Column::Numbers(v) => v[a].total_cmp(&v[b]),
                Column::Labels(v) => v[a].cmp(&v[b]),
            })
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    for column in columns.iter_mut() {
        match column {
            Column::Numbers(v) => {
                let sorted = order.iter().map(|&i| v[i]).collect();
                *v = sorted;
            }
            Column::Labels(v) => {
                let sorted = order.iter().map(|&i| std::mem::take(&mut v[i])).collect();
                *v = sorted;
            }
        }
    }
}

/// What an argument of an aggregate means, which decides how it is coerced and checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Arg {
    /// A follow-up time: numeric, finite, ≥ 0.
    Time,
    /// An event indicator: BOOLEAN or a number that is 0 or 1.
    Event,
    /// A finite number (a value, a risk score, a time point).
    Number,
    /// A number, or a STRUCT of numbers (one stored column per field).
    Numbers,
    /// A category of any type, compared as text.
    Label,
}

/// The rows an aggregate collected: one entry per stored column (a STRUCT argument of `Numbers`
/// contributes one column per field).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Column {
    Numbers(Vec<f64>),
    Labels(Vec<String>),
}

impl Column {
    /// The values of a numeric column (empty for a label column, which `Arg` rules out).
    pub fn numbers(&self) -> &[f64] {
        match self {
            Self::Numbers(v) => v,
            Self::Labels(_) => &[],
        }
    }

    /// The values of a label column.
    pub fn labels(&self) -> &[String] {
        match self {
            Self::Labels(v) => v,
            Self::Numbers(_) => &[],
        }
    }

    /// An event column (stored as 0/1) as booleans.
    pub fn events(&self) -> Vec<bool> {
        self.numbers().iter().map(|&e| e == 1.0).collect()
    }

    fn len(&self) -> usize {
        match self {
            Self::Numbers(v) => v.len(),
            Self::Labels(v) => v.len(),
        }
    }
}

/// Computes the result type from the coerced argument types.
pub(super) type ReturnType = fn(&[DataType]) -> Result<DataType>;
/// Computes the result from the function name, the coerced argument types and the rows.
pub(super) type Finish = fn(&str, &[DataType], &[Column]) -> Result<ScalarValue>;

/// An aggregate over raw rows: `args` say what each argument is, `finish` runs the kernel.
#[derive(Debug)]
pub(super) struct RowsAggregate {
    name: &'static str,
    args: &'static [Arg],
    return_type: ReturnType,
    finish: Finish,
    signature: Signature,
    documentation: Option<Documentation>,
}

impl RowsAggregate {
    pub fn new(name: &'static str, args: &'static [Arg], return_type: ReturnType, finish: Finish) -> Self {
        Self {
            name,
            args,
            return_type,
            finish,
            signature: Signature::user_defined(Volatility::Immutable),
            documentation: None,
        }
    }

    /// The same aggregate with what it returns documented.
    pub fn with_documentation(self, documentation: Documentation) -> Self {
        Self {
            documentation: Some(documentation),
            ..self
        }
    }
}

// Two instances are the same function when they have the same name (fn pointers don't compare).
impl PartialEq for RowsAggregate {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}
impl Eq for RowsAggregate {}
impl Hash for RowsAggregate {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

/// The type a stored column of `arg` has after coercion.
fn coerce(name: &str, position: usize, arg: Arg, t: &DataType) -> Result<DataType> {
    let numeric = t.is_numeric() || *t == DataType::Null;
    match arg {
        Arg::Label => Ok(DataType::Utf8),
        Arg::Event if numeric || *t == DataType::Boolean => Ok(DataType::Float64),
        Arg::Time | Arg::Number | Arg::Numbers if numeric => Ok(DataType::Float64),
        Arg::Numbers => match t {
            DataType::Struct(fields) if !fields.is_empty() => {
                let fields = fields.iter().map(|f| {
                    coerce(name, position, Arg::Number, f.data_type())
                        .map(|_| Field::new(f.name(), DataType::Float64, true))
                });
                Ok(DataType::Struct(fields.collect::<Result<Fields>>()?))
            }
            _ => plan_err!("{name}: argument {position} must be numeric or a STRUCT of numbers, got {t}"),
        },
        Arg::Event => plan_err!("{name}: argument {position} (event) must be BOOLEAN or 0/1, got {t}"),
        Arg::Time => plan_err!("{name}: argument {position} (time) must be numeric, got {t}"),
        Arg::Number => plan_err!("{name}: argument {position} must be numeric, got {t}"),
    }
}

/// One stored column's type per argument, STRUCT arguments expanded to their fields.
fn stored_columns(types: &[DataType]) -> Vec<DataType> {
    types
        .iter()
        .flat_map(|t| match t {
            DataType::Struct(fields) => fields.iter().map(|f| f.data_type().clone()).collect(),
            t => vec![t.clone()],
        })
        .collect()
}

impl AggregateUDFImpl for RowsAggregate {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.documentation.as_ref()
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() != self.args.len() {
            return plan_err!(
                "{} takes {} arguments, got {}",
                self.name,
                self.args.len(),
                arg_types.len()
            );
        }
        let pairs = self.args.iter().zip(arg_types).enumerate();
        pairs.map(|(i, (&arg, t))| coerce(self.name, i + 1, arg, t)).collect()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        (self.return_type)(arg_types)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let types: Vec<DataType> = args.input_fields.iter().map(|f| f.data_type().clone()).collect();
        let columns = stored_columns(&types).into_iter().enumerate();
        Ok(columns
            .map(|(i, t)| {
                let list = DataType::new_list(t, true);
                Arc::new(Field::new(format!("{}[rows_{i}]", args.name), list, true))
            })
            .collect())
    }

    fn accumulator(&self, acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let types: Vec<DataType> = acc_args.expr_fields.iter().map(|f| f.data_type().clone()).collect();
        let columns = stored_columns(&types)
            .iter()
            .map(|t| match t {
                DataType::Utf8 => Column::Labels(vec![]),
                _ => Column::Numbers(vec![]),
            })
            .collect();
        Ok(Box::new(RowsAccumulator {
            name: self.name,
            args: self.args,
            types,
            finish: self.finish,
            columns,
        }))
    }
}

/// Collects the rows of one group.
#[derive(Debug)]
struct RowsAccumulator {
    name: &'static str,
    args: &'static [Arg],
    types: Vec<DataType>,
    finish: Finish,
    columns: Vec<Column>,
}

/// An argument array as stored columns: STRUCTs split into fields, each cast to its stored type
/// (a no-op after coercion), with the STRUCT's own nulls applied to every field.
fn flatten(arg: Arg, array: &ArrayRef) -> Result<Vec<(Arg, ArrayRef)>> {
    if let DataType::Struct(_) = array.data_type() {
        let strukt = array.as_struct();
        return strukt
            .columns()
            .iter()
            .map(|c| {
                let c = cast(c, &DataType::Float64)?;
                let nulls = datafusion::arrow::buffer::NullBuffer::union(strukt.nulls(), c.nulls());
                let values = Float64Array::new(c.as_primitive::<Float64Type>().values().clone(), nulls);
                Ok((Arg::Number, Arc::new(values) as ArrayRef))
            })
            .collect();
    }
    let target = if arg == Arg::Label {
        DataType::Utf8
    } else {
        DataType::Float64
    };
    Ok(vec![(arg, cast(array, &target)?)])
}

impl Accumulator for RowsAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let mut flat = Vec::with_capacity(self.columns.len());
        for (&arg, array) in self.args.iter().zip(values) {
            flat.extend(flatten(arg, array)?);
        }
        let rows = values.first().map_or(0, |a| a.len());
        // Downcast once per batch, not once per cell.
        let typed = flat
            .iter()
            .map(|(arg, a)| match a.data_type() {
                DataType::Utf8 => as_string_array(a).map(Typed::Labels),
                _ => as_float64_array(a).map(|a| Typed::Numbers(*arg, a)),
            })
            .collect::<Result<Vec<_>>>()?;
        for row in 0..rows {
            // A NULL in any argument drops the row.
            if flat.iter().any(|(_, a)| a.is_null(row)) {
                continue;
            }
            for (array, column) in typed.iter().zip(&mut self.columns) {
                match (array, column) {
                    (Typed::Labels(a), Column::Labels(v)) => v.push(a.value(row).to_string()),
                    (Typed::Numbers(arg, a), Column::Numbers(v)) => {
                        let x = a.value(row);
                        check(self.name, *arg, x)?;
                        v.push(x);
                    }
                    _ => return internal_err!("{}: stored column type changed", self.name),
                }
            }
        }
        Ok(())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        sort_rows(&mut self.columns);
        (self.finish)(self.name, &self.types, &self.columns)
    }

    fn size(&self) -> usize {
        let rows = self.columns.first().map_or(0, Column::len);
        std::mem::size_of_val(self)
            + self
                .columns
                .iter()
                .map(|c| match c {
                    Column::Numbers(v) => v.capacity() * 8,
                    Column::Labels(v) => v.iter().map(|s| s.capacity() + 24).sum(),
                })
                .sum::<usize>()
            + rows
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(self
            .columns
            .iter()
            .map(|c| {
                let array: ArrayRef = match c {
                    Column::Numbers(v) => Arc::new(Float64Array::from(v.clone())),
                    Column::Labels(v) => Arc::new(StringArray::from(v.clone())),
                };
                SingleRowListArrayBuilder::new(array).build_list_scalar()
            })
            .collect())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        for (state, column) in states.iter().zip(&mut self.columns) {
            let lists = as_list_array(state)?;
            for i in (0..lists.len()).filter(|&i| lists.is_valid(i)) {
                let values = lists.value(i);
                match column {
                    Column::Numbers(v) => v.extend(as_float64_array(&values)?.values()),
                    Column::Labels(v) => v.extend(as_string_array(&values)?.iter().flatten().map(String::from)),
                }
            }
        }
        Ok(())
    }
}

/// A batch's argument column, downcast.
enum Typed<'a> {
    Numbers(Arg, &'a Float64Array),
    Labels(&'a StringArray),
}

/// Rejects a value its argument cannot hold, naming the function.
fn check(name: &str, arg: Arg, x: f64) -> Result<()> {
    match arg {
        Arg::Time if !(x.is_finite() && x >= 0.0) => {
            exec_err!("{name}: time must be a finite non-negative number, got {x}")
        }
        Arg::Event if x != 0.0 && x != 1.0 => {
            exec_err!("{name}: event must be BOOLEAN or 0/1, got {x}")
        }
        Arg::Number | Arg::Numbers if !x.is_finite() => {
            exec_err!("{name}: arguments must be finite numbers, got {x}")
        }
        _ => Ok(()),
    }
}
