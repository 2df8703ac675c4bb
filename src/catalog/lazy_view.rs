//! A view whose plan is built when a query first names it: the radiomics views project some
//! 110 fields of a struct each, and planning them at start-up was a quarter of a `SELECT 1`
//! process, paid by every query that never reads them.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::{TableType, ViewTable};
use datafusion::logical_expr::{Expr, LogicalPlan, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;

type Build = Box<dyn Fn() -> Result<LogicalPlan> + Send + Sync>;

/// A [`ViewTable`] of the plan `build` makes, made on first use and kept.
pub(crate) struct LazyView {
    name: &'static str,
    build: Build,
    /// The view, or why its plan could not be built (said by every use).
    view: OnceLock<std::result::Result<ViewTable, String>>,
}

impl LazyView {
    pub(crate) fn new(name: &'static str, build: impl Fn() -> Result<LogicalPlan> + Send + Sync + 'static) -> Self {
        LazyView {
            name,
            build: Box::new(build),
            view: OnceLock::new(),
        }
    }

    fn view(&self) -> Result<&ViewTable> {
        let built = self.view.get_or_init(|| {
            (self.build)()
                .map(|plan| ViewTable::new(plan, None))
                .map_err(|e| e.to_string())
        });
        built
            .as_ref()
            .map_err(|why| DataFusionError::Plan(format!("the view {} cannot be planned: {why}", self.name)))
    }
}

impl fmt::Debug for LazyView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyView")
            .field("name", &self.name)
            .field("built", &self.view.get().is_some())
            .finish()
    }
}

#[async_trait]
impl TableProvider for LazyView {
    /// The plan, for DataFusion to inline as it does a [`ViewTable`]'s; `None` when it cannot
    /// be built, so that planning goes on to [`scan`](Self::scan), which says why.
    fn get_logical_plan(&'_ self) -> Option<Cow<'_, LogicalPlan>> {
        self.view().ok().map(|view| Cow::Borrowed(view.logical_plan()))
    }

    fn schema(&self) -> SchemaRef {
        self.view()
            .map_or_else(|_| Arc::new(Schema::empty()), |view| view.schema())
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        self.view()?.supports_filters_pushdown(filters)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.view()?.scan(state, projection, filters, limit).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use datafusion::logical_expr::LogicalPlanBuilder;
    use datafusion::prelude::{SessionContext, lit};

    use super::*;

    #[tokio::test]
    async fn the_plan_is_built_once_when_a_query_first_names_the_view() {
        let builds = Arc::new(AtomicUsize::new(0));
        let counter = builds.clone();
        let ctx = SessionContext::new();
        let view = LazyView::new("answer", move || {
            counter.fetch_add(1, Ordering::SeqCst);
            LogicalPlanBuilder::empty(true)
                .project(vec![lit(42i64).alias("n")])?
                .build()
        });
        ctx.register_table("answer", Arc::new(view)).unwrap();
        ctx.sql("SELECT 1").await.unwrap().collect().await.unwrap();
        assert_eq!(builds.load(Ordering::SeqCst), 0);
        for _ in 0..2 {
            let batches = ctx.sql("SELECT n FROM answer").await.unwrap().collect().await.unwrap();
            assert_eq!(batches[0].num_rows(), 1);
        }
        assert_eq!(builds.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_plan_that_cannot_be_built_is_an_error_naming_the_view() {
        let ctx = SessionContext::new();
        let view = LazyView::new("broken", || {
            LogicalPlanBuilder::empty(true)
                .project(vec![datafusion::prelude::col("nope")])?
                .build()
        });
        ctx.register_table("broken", Arc::new(view)).unwrap();
        let error = match ctx.sql("SELECT * FROM broken").await {
            Ok(frame) => frame.collect().await.unwrap_err(),
            Err(e) => e,
        };
        assert!(
            error.to_string().contains("the view broken cannot be planned"),
            "{error}"
        );
    }
}
