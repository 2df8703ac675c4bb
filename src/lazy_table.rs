//! A table whose rows are computed on first scan and kept: `scans` and `masks` read thousands
//! of file headers, which a session that never touches them should not pay for.

use std::fmt;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::Result;
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

type Loader = Box<dyn Fn() -> Result<RecordBatch> + Send + Sync>;

/// A table with a fixed schema whose single batch is loaded once, on first use.
pub struct LazyTable {
    schema: SchemaRef,
    loader: Loader,
    batch: OnceLock<RecordBatch>,
}

impl fmt::Debug for LazyTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyTable")
            .field("schema", &self.schema)
            .field("loaded", &self.batch.get().is_some())
            .finish()
    }
}

impl LazyTable {
    /// A table of `schema` whose rows `loader` computes when first scanned.
    pub fn new(schema: SchemaRef, loader: impl Fn() -> Result<RecordBatch> + Send + Sync + 'static) -> Self {
        Self {
            schema,
            loader: Box::new(loader),
            batch: OnceLock::new(),
        }
    }

    /// The rows, loading them on first call.
    pub fn batch(&self) -> Result<RecordBatch> {
        if let Some(batch) = self.batch.get() {
            return Ok(batch.clone());
        }
        let batch = (self.loader)()?;
        Ok(self.batch.get_or_init(|| batch).clone())
    }
}

#[async_trait]
impl TableProvider for LazyTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let batch = self.batch()?;
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![batch]],
            self.schema.clone(),
            projection.cloned(),
        )?)
    }
}
