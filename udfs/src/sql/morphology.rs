//! SQL registration of the morphology functions.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::prelude::SessionContext;

use super::FunctionContext;

/// Registers the morphology functions (none yet).
pub fn register(_ctx: &SessionContext, _functions: Arc<FunctionContext>) -> Result<()> {
    Ok(())
}
