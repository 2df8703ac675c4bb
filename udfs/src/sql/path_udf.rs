//! What the morphology and agreement functions share: each is one output of a family of
//! scalar functions over mask paths, evaluated a batch at a time with the session's
//! [`FunctionContext`] (warnings, strictness, the folders it may read).

use std::fmt::Debug;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature};

use super::FunctionContext;

/// One function of a family (`tumor_volume`, `dice`, ...): its name, SQL signature and
/// documentation, and how it turns a batch of arguments into a column.
pub(crate) trait PathOutput: Copy + Eq + Hash + Debug + Send + Sync + 'static {
    fn name(self) -> &'static str;
    fn signature(self) -> Signature;
    fn documentation(self) -> Documentation;
    fn return_type(self) -> DataType;
    /// The function's column for `args` (arrays of one length).
    fn evaluate(self, args: &[ArrayRef], functions: &FunctionContext) -> Result<ArrayRef>;
}

/// `output` as a DataFusion scalar function bound to the session's function context.
pub(crate) fn udf<O: PathOutput>(output: O, functions: &Arc<FunctionContext>) -> ScalarUDF {
    ScalarUDF::from(PathUdf {
        output,
        signature: output.signature(),
        documentation: output.documentation(),
        functions: functions.clone(),
    })
}

#[derive(Debug)]
struct PathUdf<O> {
    output: O,
    signature: Signature,
    documentation: Documentation,
    functions: Arc<FunctionContext>,
}

// DataFusion compares UDFs for plan equality; the function context is compared by identity.
impl<O: PathOutput> PartialEq for PathUdf<O> {
    fn eq(&self, other: &Self) -> bool {
        self.output == other.output && Arc::ptr_eq(&self.functions, &other.functions)
    }
}
impl<O: PathOutput> Eq for PathUdf<O> {}
impl<O: PathOutput> Hash for PathUdf<O> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.output.hash(state);
        Arc::as_ptr(&self.functions).hash(state);
    }
}

impl<O: PathOutput> ScalarUDFImpl for PathUdf<O> {
    fn name(&self) -> &str {
        self.output.name()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&self.documentation)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.output.return_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let scalar_input = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let out = self.output.evaluate(&arrays, &self.functions)?;
        if scalar_input && out.len() == 1 {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?));
        }
        Ok(ColumnarValue::Array(out))
    }
}
