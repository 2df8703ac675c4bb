//! SQL registration of the survival and statistics functions.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::prelude::SessionContext;

use super::FunctionContext;

/// Registers the survival and statistics functions (none yet).
pub fn register(_ctx: &SessionContext, _functions: Arc<FunctionContext>) -> Result<()> {
    Ok(())
}
