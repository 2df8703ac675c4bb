//! A table whose rows are computed on first scan and kept: `scans` and `masks` read thousands
//! of file headers, which a session that never touches them should not pay for.

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

type Loader = Box<dyn Fn() -> Result<RecordBatch> + Send + Sync>;

/// A table with a fixed schema whose single batch is loaded once, on first use.
pub(crate) struct LazyTable {
    schema: SchemaRef,
    rows: Arc<LoadOnce>,
}

/// The loader and what it produced. `loading` makes a second caller wait for the first
/// instead of reading every header again; a failed load is not kept, so the next caller
/// tries again.
struct LoadOnce {
    loader: Loader,
    batch: OnceLock<RecordBatch>,
    loading: Mutex<()>,
}

impl LoadOnce {
    /// The rows, loading them on first call. Blocks: call it off the async runtime.
    fn get(&self) -> Result<RecordBatch> {
        if let Some(batch) = self.batch.get() {
            return Ok(batch.clone());
        }
        let _only_one_loader = self.loading.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(batch) = self.batch.get() {
            return Ok(batch.clone());
        }
        let batch = (self.loader)()?;
        Ok(self.batch.get_or_init(|| batch).clone())
    }
}

impl fmt::Debug for LazyTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyTable")
            .field("schema", &self.schema)
            .field("loaded", &self.rows.batch.get().is_some())
            .finish()
    }
}

impl LazyTable {
    /// A table of `schema` whose rows `loader` computes when first scanned.
    pub(crate) fn new(schema: SchemaRef, loader: impl Fn() -> Result<RecordBatch> + Send + Sync + 'static) -> Self {
        Self {
            schema,
            rows: Arc::new(LoadOnce {
                loader: Box::new(loader),
                batch: OnceLock::new(),
                loading: Mutex::new(()),
            }),
        }
    }

    /// The rows, loading them on first call. Blocks the calling thread while headers are read.
    pub(crate) fn batch(&self) -> Result<RecordBatch> {
        self.rows.get()
    }

    /// The rows, read on tokio's blocking pool so the async workers stay free for the query.
    async fn batch_off_runtime(&self) -> Result<RecordBatch> {
        if let Some(batch) = self.rows.batch.get() {
            return Ok(batch.clone());
        }
        let rows = self.rows.clone();
        tokio::task::spawn_blocking(move || rows.get())
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?
    }

    /// Whether the rows have been loaded (for tests).
    #[cfg(test)]
    fn is_loaded(&self) -> bool {
        self.rows.batch.get().is_some()
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
        let batch = self.batch_off_runtime().await?;
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![batch]],
            self.schema.clone(),
            projection.cloned(),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::prelude::SessionContext;

    use super::*;

    /// A table whose loader counts its runs and takes long enough for callers to race.
    fn counting_table(runs: Arc<AtomicUsize>) -> LazyTable {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let loader_schema = schema.clone();
        LazyTable::new(schema, move || {
            runs.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(50));
            Ok(RecordBatch::try_new(
                loader_schema.clone(),
                vec![Arc::new(Int64Array::from(vec![1, 2, 3]))],
            )?)
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn racing_queries_read_the_headers_once() {
        let runs = Arc::new(AtomicUsize::new(0));
        let table = Arc::new(counting_table(runs.clone()));
        let ctx = SessionContext::new();
        ctx.register_table("t", table.clone()).unwrap();
        let query = |ctx: SessionContext| async move { ctx.sql("SELECT sum(n) FROM t").await?.collect().await };
        let (a, b, c) = tokio::join!(
            tokio::spawn(query(ctx.clone())),
            tokio::spawn(query(ctx.clone())),
            tokio::spawn(query(ctx.clone()))
        );
        for result in [a, b, c] {
            assert_eq!(result.unwrap().unwrap()[0].num_rows(), 1);
        }
        // A blocking caller (the shell's background header check) shares the same rows.
        assert_eq!(table.batch().unwrap().num_rows(), 3);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert!(table.is_loaded());
    }

    #[test]
    fn a_failed_load_is_tried_again() {
        let runs = Arc::new(AtomicUsize::new(0));
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let counter = runs.clone();
        let table = LazyTable::new(schema, move || {
            counter.fetch_add(1, Ordering::SeqCst);
            Err(DataFusionError::Execution("disk went away".into()))
        });
        assert!(table.batch().is_err());
        assert!(table.batch().is_err());
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert!(!table.is_loaded());
    }
}
