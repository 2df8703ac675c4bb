//! Connections to workers that name the worker when the connection fails. The gRPC client says
//! only "h2 protocol error: error reading a body from connection"; with a cluster of several
//! workers the user needs to know which one went away.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use datafusion_distributed::grpc::{DefaultChannelResolver, create_worker_client};
use datafusion_distributed::{
    ChannelResolver, CoordinatorToWorkerMsg, ExecuteTaskRequest, GetWorkerInfoRequest, GetWorkerInfoResponse,
    SetPlanRequest, WorkerChannel, WorkerToCoordinatorMsg,
};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use http::HeaderMap;
use url::Url;

use super::worker_name;

/// datafusion-distributed's connections (one cached channel per worker), wrapped by
/// [`NamedWorker`]. The coordinator and the workers (which read each other's shuffles) use it.
#[derive(Clone, Default)]
pub(crate) struct NamedChannels {
    channels: DefaultChannelResolver,
}

#[async_trait]
impl ChannelResolver for NamedChannels {
    async fn get_worker_client_for_url(&self, url: &Url) -> Result<Box<dyn WorkerChannel>> {
        let worker = worker_name(url);
        let channel = self
            .channels
            .get_channel(url)
            .await
            .map_err(|e| WorkerLost(format!("cannot reach worker {worker} ({})", root_message(&e))))?;
        Ok(Box::new(NamedWorker {
            worker,
            inner: create_worker_client(channel),
        }))
    }
}

/// A worker's client whose transport failures say which worker failed. Errors the worker
/// itself reports (a bad mask under `--strict`, say) pass through as they are.
struct NamedWorker {
    worker: String,
    inner: Box<dyn WorkerChannel>,
}

#[async_trait]
impl WorkerChannel for NamedWorker {
    async fn coordinator_channel(
        &mut self,
        headers: HeaderMap,
        set_plan_request: SetPlanRequest,
        c2w_stream: BoxStream<'static, CoordinatorToWorkerMsg>,
        metrics: ExecutionPlanMetricsSet,
        task_ctx: &Arc<TaskContext>,
    ) -> Result<BoxStream<'static, Result<WorkerToCoordinatorMsg>>> {
        let worker = self.worker.clone();
        let messages = self
            .inner
            .coordinator_channel(headers, set_plan_request, c2w_stream, metrics, task_ctx)
            .await
            .map_err(|e| named(&worker, e))?;
        Ok(messages.map_err(move |e| named(&worker, e)).boxed())
    }

    async fn execute_task(
        &mut self,
        headers: HeaderMap,
        request: ExecuteTaskRequest,
        metrics: ExecutionPlanMetricsSet,
        task_ctx: &Arc<TaskContext>,
    ) -> Result<Vec<BoxStream<'static, Result<datafusion::arrow::array::RecordBatch>>>> {
        let streams = self
            .inner
            .execute_task(headers, request, metrics, task_ctx)
            .await
            .map_err(|e| named(&self.worker, e))?;
        Ok(streams
            .into_iter()
            .map(|stream| {
                let worker = self.worker.clone();
                stream.map_err(move |e| named(&worker, e)).boxed()
            })
            .collect())
    }

    async fn get_worker_info(&mut self, request: GetWorkerInfoRequest) -> Result<GetWorkerInfoResponse> {
        self.inner
            .get_worker_info(request)
            .await
            .map_err(|e| named(&self.worker, e))
    }
}

/// A transport failure (the gRPC status of a broken or refused connection) as "worker W
/// stopped answering"; any other error unchanged.
fn named(worker: &str, error: DataFusionError) -> DataFusionError {
    match &error {
        DataFusionError::External(inner) => match inner.downcast_ref::<tonic::Status>() {
            Some(status) => WorkerLost(format!(
                "worker {worker} stopped answering ({})",
                status.message().split_whitespace().collect::<Vec<_>>().join(" ")
            ))
            .into(),
            None => error,
        },
        _ => error,
    }
}

/// A worker that could not be reached or went away, as the user should read it: the message
/// alone (an external error, which the query layer shows without a "kind: " prefix).
#[derive(Debug)]
struct WorkerLost(String);

impl std::fmt::Display for WorkerLost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for WorkerLost {}

impl From<WorkerLost> for DataFusionError {
    fn from(lost: WorkerLost) -> Self {
        DataFusionError::External(Box::new(lost))
    }
}

/// Why a connection failed, from datafusion-distributed's "Error connecting to Distributed
/// DataFusion worker on 'URL': REASON" (the URL is said already), on one line.
fn root_message(error: &DataFusionError) -> String {
    let text = match error.find_root() {
        DataFusionError::Execution(message) => message.clone(),
        other => other.to_string(),
    };
    let reason = text.rsplit_once("': ").map_or(text.as_str(), |(_, reason)| reason);
    reason.split_whitespace().collect::<Vec<_>>().join(" ")
}
