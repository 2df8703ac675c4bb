//! SQL registration of the multiple-testing window functions.
//!
//! `p_adjust(p, method) OVER (PARTITION BY ...)` adjusts every row's p-value over its whole
//! partition: the evaluator sees the partition at once (`uses_window_frame` is false), so an
//! ORDER BY or a frame in the OVER clause changes neither n nor any result.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::cast::as_float64_array;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowFunctionSimplification, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    Documentation, Expr, PartitionEvaluator, Signature, Volatility, WindowUDF, WindowUDFImpl,
};
use datafusion::physical_expr::expressions::Literal;

use super::docs::{MULTIPLE_TESTING, document};
use crate::stats::{PAdjustMethod, p_adjust};

/// The multiple-testing window functions with their documentation, in the README's order.
pub fn window_functions() -> Vec<WindowUDF> {
    vec![WindowUDF::from(PAdjust::new())]
}

/// `p_adjust(p, method)`: R's `p.adjust` over the rows of a window partition.
#[derive(Debug)]
struct PAdjust {
    signature: Signature,
    documentation: Documentation,
}

impl PAdjust {
    fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
            documentation: document(
                MULTIPLE_TESTING,
                "p_adjust(p, method) OVER (PARTITION BY ...)",
                "p adjusted for the tests of its partition, as R's `p.adjust`: method 'BH' (or 'fdr'), \
                 'BY', 'holm', 'hochberg', 'hommel', 'bonferroni' or 'none'; a NULL p stays NULL and \
                 is not counted; p outside [0, 1] is an error",
            ),
        }
    }
}

// Every instance is the same function (Documentation does not compare).
impl PartialEq for PAdjust {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for PAdjust {}
impl Hash for PAdjust {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name().hash(state);
    }
}

impl WindowUDFImpl for PAdjust {
    fn name(&self) -> &str {
        "p_adjust"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.documentation)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [p, method] = arg_types else {
            return plan_err!("p_adjust takes 2 arguments (p, method), got {}", arg_types.len());
        };
        if !(p.is_numeric() || *p == DataType::Null) {
            return plan_err!("p_adjust: argument 1 (p) must be numeric, got {p}");
        }
        let method = match method {
            DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => method.clone(),
            DataType::Null => DataType::Utf8,
            other => return plan_err!("p_adjust: argument 2 (method) must be a string such as 'BH', got {other}"),
        };
        Ok(vec![DataType::Float64, method])
    }

    fn field(&self, field_args: WindowUDFFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(field_args.name(), DataType::Float64, true)))
    }

    /// Checks the method while planning, so a wrong one fails even over no rows (the evaluator,
    /// which checks it again, is only made for a partition that exists).
    fn simplify(&self) -> Option<WindowFunctionSimplification> {
        Some(Box::new(|function, _| {
            let method = match function.params.args.get(1) {
                Some(Expr::Literal(value, _)) => Some(value),
                _ => None,
            };
            method_of(method)?;
            Ok(Expr::from(function))
        }))
    }

    fn partition_evaluator(&self, args: PartitionEvaluatorArgs) -> Result<Box<dyn PartitionEvaluator>> {
        let literal = args.input_exprs().get(1).and_then(|e| e.downcast_ref::<Literal>());
        let method = method_of(literal.map(Literal::value))?;
        Ok(Box::new(PAdjustEvaluator { method }))
    }
}

/// The method named by the second argument's value (`None` when it is not a constant).
fn method_of(value: Option<&ScalarValue>) -> Result<PAdjustMethod> {
    let Some(name) = value.and_then(|v| v.try_as_str().flatten()) else {
        return plan_err!("p_adjust: the method must be a constant string such as 'BH'");
    };
    name.parse().or_else(|e| plan_err!("p_adjust: {e}"))
}

/// Adjusts one whole partition at a time.
#[derive(Debug)]
struct PAdjustEvaluator {
    method: PAdjustMethod,
}

impl PartitionEvaluator for PAdjustEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let Some(p) = values.first() else {
            return exec_err!("p_adjust: no p column");
        };
        let p = cast(p, &DataType::Float64)?;
        let p: Vec<Option<f64>> = as_float64_array(&p)?.iter().collect();
        if p.len() != num_rows {
            return exec_err!("p_adjust: {} p-values for {num_rows} rows", p.len());
        }
        match p_adjust(&p, self.method) {
            Ok(adjusted) => Ok(Arc::new(Float64Array::from(adjusted))),
            Err(e) => exec_err!("p_adjust: {e}"),
        }
    }
}
