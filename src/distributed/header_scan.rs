//! `scans` and `masks` as a leaf plan that travels: the list of series folders or mask files,
//! split by count into one list per task, read on whichever worker runs the task.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::TreeNode;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result, exec_err};
use datafusion::datasource::TableType;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::{EquivalenceProperties, Partitioning, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use datafusion_distributed::{
    DesiredTaskCountEvent, DesiredTaskCountEventResponse, DistributedTaskContext, NetworkBoundaryExt, RouteTasksEvent,
    RouteTasksEventResponse, ScaleUpLeafNodeEvent, ScaleUpLeafNodeEventResponse,
};
use url::Url;

use crate::dataset::Dataset;
use crate::tables::{
    MaskJob, SeriesJob, mask_jobs, masks_batch, masks_schema, read_all_series, scans_batch, scans_schema, series_jobs,
};
use npcql_imaging::cache::ResultStore;

/// What a [`HeaderScanExec`] reads: series folders (`scans`) or mask files (`masks`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Jobs {
    Series(Vec<SeriesJob>),
    Masks(Vec<MaskJob>),
}

/// The persistent cache the header scans read through, kept in the session's configuration
/// (a coordinator's and each worker's); `None`: uncached.
#[derive(Debug, Default)]
pub(crate) struct HeaderStore(pub Option<Arc<dyn ResultStore>>);

impl Jobs {
    fn len(&self) -> usize {
        match self {
            Jobs::Series(jobs) => jobs.len(),
            Jobs::Masks(jobs) => jobs.len(),
        }
    }

    /// Jobs `range` of this list.
    fn slice(&self, range: std::ops::Range<usize>) -> Jobs {
        match self {
            Jobs::Series(jobs) => Jobs::Series(jobs[range].to_vec()),
            Jobs::Masks(jobs) => Jobs::Masks(jobs[range].to_vec()),
        }
    }

    pub(crate) fn schema(&self) -> SchemaRef {
        match self {
            Jobs::Series(_) => scans_schema(),
            Jobs::Masks(_) => masks_schema(),
        }
    }

    /// Reads the headers (through the persistent cache `store`, if any): the table's rows for
    /// these jobs. Blocking.
    fn read(&self, store: Option<&dyn ResultStore>) -> Result<RecordBatch> {
        match self {
            Jobs::Series(jobs) => scans_batch(&read_all_series(jobs, store)),
            Jobs::Masks(jobs) => {
                // Each mask is checked against its series' grid, so read those series too.
                let series: Vec<SeriesJob> = jobs
                    .iter()
                    .filter_map(|job| {
                        Some(SeriesJob {
                            patient_id: job.patient_id.clone(),
                            modality: job.modality,
                            dir: job.series_dir.clone()?,
                        })
                    })
                    .collect();
                masks_batch(jobs, &read_all_series(&series, store), store)
            }
        }
    }
}

/// `scans` or `masks` on a cluster: scanning plans a [`HeaderScanExec`] over every job.
#[derive(Debug)]
pub(crate) struct HeaderTable {
    dataset: Arc<Dataset>,
    masks: bool,
}

impl HeaderTable {
    pub(crate) fn scans(dataset: Arc<Dataset>) -> Self {
        Self { dataset, masks: false }
    }

    pub(crate) fn masks(dataset: Arc<Dataset>) -> Self {
        Self { dataset, masks: true }
    }

    fn jobs(&self) -> Jobs {
        if self.masks {
            Jobs::Masks(mask_jobs(&self.dataset))
        } else {
            Jobs::Series(series_jobs(&self.dataset))
        }
    }
}

#[async_trait]
impl TableProvider for HeaderTable {
    fn schema(&self) -> SchemaRef {
        if self.masks { masks_schema() } else { scans_schema() }
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
        Ok(Arc::new(HeaderScanExec::new(vec![self.jobs()], projection.cloned())?))
    }
}

/// Reads the headers of one list of jobs per task: task `i` (of a distributed stage, or the
/// only one on a single machine) reads `tasks[i]`.
#[derive(Debug, Clone)]
pub(crate) struct HeaderScanExec {
    pub(crate) tasks: Vec<Jobs>,
    pub(crate) projection: Option<Vec<usize>>,
    properties: Arc<PlanProperties>,
}

impl HeaderScanExec {
    pub(crate) fn new(tasks: Vec<Jobs>, projection: Option<Vec<usize>>) -> Result<Self> {
        let Some(first) = tasks.first() else {
            return exec_err!("a header scan needs at least one task");
        };
        let schema = first.schema();
        let schema = match &projection {
            Some(columns) => Arc::new(schema.project(columns)?),
            None => schema,
        };
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
        Ok(Self {
            tasks,
            projection,
            properties,
        })
    }

    fn table_name(&self) -> &'static str {
        match self.tasks.first() {
            Some(Jobs::Masks(_)) => "masks",
            _ => "scans",
        }
    }
}

impl DisplayAs for HeaderScanExec {
    fn fmt_as(&self, _format: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let counts: Vec<String> = self.tasks.iter().map(|t| t.len().to_string()).collect();
        write!(
            f,
            "HeaderScanExec: {}, files per task [{}]",
            self.table_name(),
            counts.join(", ")
        )
    }
}

impl ExecutionPlan for HeaderScanExec {
    fn name(&self) -> &str {
        "HeaderScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(self: Arc<Self>, _children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(self)
    }

    fn execute(&self, _partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let task = DistributedTaskContext::from_ctx(&context).task_index;
        let Some(jobs) = self.tasks.get(task).cloned() else {
            return exec_err!("{}: no task {task} (the plan has {})", self.name(), self.tasks.len());
        };
        let projection = self.projection.clone();
        let schema = self.schema();
        let store = context.session_config().get_extension::<HeaderStore>();
        let rows = async move {
            // Header reading is blocking file I/O over many files: off the async workers.
            let batch = tokio::task::spawn_blocking(move || jobs.read(store.as_ref().and_then(|s| s.0.as_deref())))
                .await
                .map_err(|e| DataFusionError::External(Box::new(e)))??;
            match &projection {
                Some(columns) => Ok(batch.project(columns)?),
                None => Ok(batch),
            }
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            futures::stream::once(rows),
        )))
    }
}

/// The planner's question "how many tasks for this leaf?": one per file at most (the worker
/// count caps it), since the cost is per file, not per byte.
pub(crate) fn desired_task_count(event: DesiredTaskCountEvent) -> Option<Result<DesiredTaskCountEventResponse>> {
    let scan = event.plan.downcast_ref::<HeaderScanExec>()?;
    let files = scan.tasks.iter().map(Jobs::len).sum::<usize>();
    Some(Ok(DesiredTaskCountEventResponse::desired(files.max(1))))
}

/// Splits a leaf's files into `task_count` runs of equal count (differing by one at most),
/// in table order.
pub(crate) fn scale_up(event: ScaleUpLeafNodeEvent) -> Option<Result<ScaleUpLeafNodeEventResponse>> {
    let scan = event.plan.downcast_ref::<HeaderScanExec>()?;
    let [all] = scan.tasks.as_slice() else {
        return Some(exec_err!("{}: already split into tasks", scan.name()));
    };
    let tasks = event.task_count.max(1);
    let split = (0..tasks)
        .map(|i| all.slice(all.len() * i / tasks..all.len() * (i + 1) / tasks))
        .collect();
    Some(
        HeaderScanExec::new(split, scan.projection.clone())
            .map(|exec| ScaleUpLeafNodeEventResponse::new(Arc::new(exec))),
    )
}

/// Sends task `i` of a stage that reads headers to worker `i` (round the `--workers` list),
/// instead of from a random first worker: every stage over the same table splits its files
/// alike, so a view used seven times finds each mask meshed already on the worker it goes to.
pub(crate) fn route_to_same_workers(
    workers: Vec<Url>,
) -> impl for<'a> Fn(RouteTasksEvent<'a>) -> Option<Result<RouteTasksEventResponse>> + Send + Sync + 'static {
    move |event| {
        let mut reads_headers = false;
        event
            .plan
            .apply(|node| {
                if node.as_network_boundary().is_some() {
                    return Ok(TreeNodeRecursion::Jump); // another stage's plan
                }
                reads_headers |= node.downcast_ref::<HeaderScanExec>().is_some();
                Ok(TreeNodeRecursion::Continue)
            })
            .ok()?;
        if !reads_headers || workers.is_empty() {
            return None;
        }
        let urls = (0..event.task_count).map(|i| workers[i % workers.len()].clone());
        Some(Ok(RouteTasksEventResponse::new(urls.collect())))
    }
}
