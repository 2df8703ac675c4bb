//! The same SQL on a cluster, through datafusion-distributed (cargo feature `distributed`).
//!
//! The coordinator (an [`Engine`](crate::Engine) opened with
//! [`EngineOptions::workers`](crate::EngineOptions::workers)) plans as on one machine;
//! datafusion-distributed then cuts the physical plan into stages at its repartitions and
//! sends them to the workers. What npcql adds:
//!
//! - `scans` and `masks` scan as a [`HeaderScanExec`](header_scan::HeaderScanExec): a list of
//!   series folders or mask files that the planner splits by count into one list per task,
//!   so header reading, and the morphology functions projected over it, run on the workers.
//! - A codec for that plan node, registered on both sides.
//! - [`Worker`]: datafusion-distributed's worker with npcql's functions, checked to serve the
//!   same dataset path as the coordinator (a shared filesystem).
//!
//! Aggregates need nothing more: the survival aggregates' partial states (their rows) are
//! Arrow lists that travel like any column, and their final step sorts the rows, so a cluster
//! gives the single machine's numbers to the last bit.

mod channels;
mod codec;
mod header_scan;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use channels::NamedChannels;
use datafusion::common::{DataFusionError, extensions_options};
use datafusion::config::ConfigExtension;
use datafusion::execution::SessionState;
use datafusion::prelude::SessionContext;
use datafusion_distributed::{
    ChannelResolver, DistributedExt, GetWorkerInfoRequest, SessionStateBuilderExt, WorkerQueryContext, WorkerResolver,
    WorkerSessionBuilder,
};
use header_scan::HeaderStore;
use npcql_imaging::cache::ResultStore;
use npcql_udfs::sql::FunctionContext;
use url::Url;

use crate::dataset::Dataset;
use crate::error::{Error, Result};
pub(crate) use header_scan::HeaderTable;

extensions_options! {
    /// What every task carries to its worker from the coordinator's options.
    pub struct ClusterOptions {
        /// `--strict`: an unreadable mask fails the query instead of being NULL.
        pub strict: bool, default = false
        /// `--no-external-files`: the path functions read only under the dataset folder.
        pub no_external_files: bool, default = false
        /// The predictions folder (canonical, empty for none), which `--no-external-files` also
        /// lets the path functions read: model outputs may lie outside the dataset (`-p`).
        pub predictions_folder: String, default = String::new()
    }
}

impl ConfigExtension for ClusterOptions {
    const PREFIX: &'static str = "npcql_cluster";
}

/// What a worker answers when asked who it is: npcql's version and the dataset it serves.
/// The coordinator compares it with its own before the first query.
fn identity(dataset_root: &Path) -> String {
    format!("npcql {} serving {}", env!("CARGO_PKG_VERSION"), dataset_root.display())
}

/// `HOST:PORT` (or `http://HOST:PORT`) as a worker URL.
pub fn worker_url(address: &str) -> Result<Url> {
    let address = address.trim();
    let with_scheme = if address.contains("://") {
        address.to_string()
    } else {
        format!("http://{address}")
    };
    match Url::parse(&with_scheme) {
        Ok(url) if url.host().is_some() && url.port_or_known_default().is_some() => Ok(url),
        _ => Err(Error::Worker(format!(
            "{address}: not a worker address (say HOST:PORT)"
        ))),
    }
}

/// The session of a coordinator: `ctx` with the distributed planner, the `workers`, npcql's
/// codec and the options every task carries (`task_options`). Checks first that each worker answers and serves
/// `dataset_root`.
pub(crate) fn coordinate(
    ctx: SessionContext,
    dataset_root: &Path,
    workers: &[String],
    task_options: ClusterOptions,
    store: Option<Arc<dyn ResultStore>>,
) -> Result<SessionContext> {
    let workers = workers.iter().map(|w| worker_url(w)).collect::<Result<Vec<_>>>()?;
    check_workers(&workers, dataset_root)?;
    let session_id = ctx.session_id();
    let mut state = ctx
        .into_state_builder()
        .with_session_id(session_id)
        .with_distributed_worker_resolver(Workers(workers.clone()))
        .with_distributed_channel_resolver(NamedChannels::default())
        .with_distributed_planner()
        .with_distributed_user_codec(codec::NpcqlCodec)
        .with_distributed_option_extension(task_options)
        .with_distributed_desired_task_count_handler(header_scan::desired_task_count)
        .with_distributed_scale_up_leaf_node_handler(header_scan::scale_up)
        .with_distributed_route_tasks_handler(header_scan::route_to_same_workers(workers))
        .build();
    // Stages the planner keeps on the coordinator read headers here, through its cache.
    state.config_mut().set_extension(Arc::new(HeaderStore(store)));
    // Network boundaries go where DataFusion repartitions, which it does not on one partition:
    // a one-core coordinator would run the whole plan itself.
    let partitions = &mut state.config_mut().options_mut().execution.target_partitions;
    *partitions = (*partitions).max(2);
    Ok(SessionContext::new_with_state(state))
}

/// The fixed list of workers given by `--workers`.
#[derive(Debug, Clone)]
struct Workers(Vec<Url>);

impl WorkerResolver for Workers {
    fn get_urls(&self) -> std::result::Result<Vec<Url>, DataFusionError> {
        Ok(self.0.clone())
    }
}

/// Asks each worker who it is: it must answer (within seconds, not hang) and serve the
/// coordinator's dataset folder.
fn check_workers(workers: &[Url], dataset_root: &Path) -> Result<()> {
    let expected = identity(dataset_root);
    let ask = |url: Url| async move {
        let mut client = NamedChannels::default().get_worker_client_for_url(&url).await?;
        client.get_worker_info(GetWorkerInfoRequest {}).await
    };
    // The engine opens outside any async runtime, or inside one it must not block: a thread
    // of its own with a small runtime of its own serves both.
    let urls = workers.to_vec();
    let answers = std::thread::spawn(move || -> std::io::Result<Vec<_>> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Ok(runtime.block_on(async {
            let asks = urls.into_iter().map(|url| async move {
                let answer = tokio::time::timeout(std::time::Duration::from_secs(10), ask(url.clone())).await;
                (url, answer)
            });
            futures::future::join_all(asks).await
        }))
    })
    .join()
    .map_err(|_| Error::Worker("checking the workers failed".into()))?
    .map_err(|e| Error::Worker(format!("cannot start the worker check: {e}")))?;
    for (url, answer) in answers {
        let worker = worker_name(&url);
        match answer {
            Err(_) => return Err(Error::Worker(format!("worker {worker} did not answer within 10 s"))),
            Ok(Err(e)) => return Err(Error::Worker(crate::error::clean_error(&e.to_string()))),
            Ok(Ok(info)) if info.version != expected => {
                let served = info
                    .version
                    .split_once(" serving ")
                    .map_or(info.version.as_str(), |(_, p)| p);
                return Err(Error::Worker(format!(
                    "worker {worker} serves {served}, not this dataset ({}); every worker must serve \
                     the same dataset path (shared storage) with the same npcql version",
                    dataset_root.display()
                )));
            }
            Ok(Ok(_)) => {}
        }
    }
    Ok(())
}

/// `host:port` of a worker URL, as the user wrote it in `--workers`.
pub(crate) fn worker_name(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        _ => url.to_string(),
    }
}

/// An npcql worker: runs the tasks a coordinator sends, with npcql's functions and readers.
#[derive(Clone)]
pub struct Worker {
    sessions: WorkerSessions,
    dataset_root: PathBuf,
}

/// Builds each task's session. The function contexts (one per set of options the
/// coordinators send) live as long as the worker, so that its counts and warnings add up.
#[derive(Clone, Default)]
struct WorkerSessions {
    dataset_root: PathBuf,
    /// Connections to the other workers, whose shuffle outputs this one reads.
    channels: NamedChannels,
    functions: Arc<Mutex<FunctionsByOptions>>,
    /// The persistent cache of the worker's headers and results, if any (`npcql worker`
    /// honours the cache flags); headers read by earlier tasks are remembered by the process.
    store: Option<Arc<dyn ResultStore>>,
}

/// A worker's function contexts, by the (strict, no_external_files, predictions_folder)
/// options of the tasks.
type FunctionsByOptions = HashMap<(bool, bool, String), Arc<FunctionContext>>;

impl WorkerSessions {
    fn functions(&self, options: &ClusterOptions) -> Result<Arc<FunctionContext>> {
        let mut contexts = self.functions.lock().unwrap_or_else(|e| e.into_inner());
        let key = (
            options.strict,
            options.no_external_files,
            options.predictions_folder.clone(),
        );
        if let Some(functions) = contexts.get(&key) {
            return Ok(functions.clone());
        }
        let predictions = &options.predictions_folder;
        let mut functions = crate::tables::function_context(
            options.strict,
            options.no_external_files,
            &self.dataset_root,
            (!predictions.is_empty()).then(|| Path::new(predictions)),
        )?;
        if let Some(store) = &self.store {
            functions = functions.with_store(store.clone());
        }
        Ok(contexts.entry(key).or_insert_with(|| Arc::new(functions)).clone())
    }

    fn all_functions(&self) -> Vec<Arc<FunctionContext>> {
        let contexts = self.functions.lock().unwrap_or_else(|e| e.into_inner());
        contexts.values().cloned().collect()
    }
}

#[async_trait]
impl WorkerSessionBuilder for WorkerSessions {
    async fn build_session_state(&self, ctx: WorkerQueryContext) -> std::result::Result<SessionState, DataFusionError> {
        let mut state = ctx
            .builder
            .with_distributed_user_codec(codec::NpcqlCodec)
            .with_distributed_channel_resolver(self.channels.clone())
            .with_distributed_option_extension_from_headers::<ClusterOptions>(&ctx.headers)?
            .build();
        state
            .config_mut()
            .set_extension(Arc::new(HeaderStore(self.store.clone())));
        let options = state
            .config()
            .options()
            .extensions
            .get::<ClusterOptions>()
            .cloned()
            .unwrap_or_default();
        let functions = self
            .functions(&options)
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        // A task's start ends the one before for the cache: what it kept back is written.
        if let Some(fault) = self.store.as_ref().and_then(|store| store.flush()) {
            functions.warn_about_cache(fault);
        }
        let session = SessionContext::new_with_state(state);
        npcql_udfs::sql::register_all(&session, functions)?;
        Ok(session.state())
    }
}

impl Worker {
    /// A worker for the dataset at `data_dir`, which every worker and the coordinator must
    /// see at the same path.
    pub fn new(data_dir: &Path) -> Result<Worker> {
        let dataset = Dataset::discover(data_dir)?;
        let dataset_root = dataset
            .root
            .canonicalize()
            .map_err(|e| Error::io(&dataset.root, "cannot resolve the dataset folder", e))?;
        Ok(Worker {
            sessions: WorkerSessions {
                dataset_root: dataset_root.clone(),
                channels: NamedChannels::default(),
                functions: Arc::default(),
                store: None,
            },
            dataset_root,
        })
    }

    /// The worker with a persistent cache of headers and results.
    pub fn with_store(mut self, store: Arc<dyn ResultStore>) -> Worker {
        self.sessions.store = Some(store);
        self
    }

    /// The dataset folder it serves (canonical).
    pub fn dataset_root(&self) -> &Path {
        &self.dataset_root
    }

    /// Masks this worker has read and meshed (or found unreadable) since it started.
    pub fn masks_meshed(&self) -> usize {
        self.sessions.all_functions().iter().map(|f| f.mask_progress().0).sum()
    }

    /// Warnings its functions recorded (unreadable masks, ...) since the last call.
    pub fn take_warnings(&self) -> Vec<String> {
        self.sessions
            .all_functions()
            .iter()
            .flat_map(|f| f.take_warnings())
            .collect()
    }

    /// Serves coordinators on `listener` until the process ends.
    pub async fn serve(&self, listener: tokio::net::TcpListener) -> Result<()> {
        let service = datafusion_distributed::Worker::from_session_builder(self.sessions.clone())
            .with_version(identity(&self.dataset_root));
        tonic::transport::Server::builder()
            .add_service(service.into_worker_server())
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await
            .map_err(|e| Error::Worker(format!("the worker stopped: {e}")))
    }
}
