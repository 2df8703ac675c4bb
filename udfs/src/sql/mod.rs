//! DataFusion registration of npcql's SQL functions.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use datafusion::common::Result;
use datafusion::logical_expr::Documentation;
use datafusion::prelude::SessionContext;
use npcql_imaging::cache::ResultStore;

pub mod agreement;
pub mod docs;
pub mod morphology;
pub mod multiple_testing;
mod path_udf;
pub mod radiomics;
pub mod survival;

/// Session-wide settings and the warning sink shared by npcql's SQL functions.
///
/// A function that meets a bad input row (an unreadable mask, say) returns NULL for it and
/// records a warning here; the caller prints the warnings after the query. Under `strict`
/// the function fails the query instead.
#[derive(Debug, Default)]
pub struct FunctionContext {
    /// Fail the query on the first bad input instead of warning.
    pub strict: bool,
    /// When set (canonical), the path functions read only files under these folders: a service
    /// embedding npcql keeps queries to the dataset and its model outputs (`--no-external-files`).
    readable_roots: Option<Vec<std::path::PathBuf>>,
    warnings: Mutex<Vec<String>>,
    /// Masks the running query has queued for reading and meshing, and how many are done:
    /// the shell draws its progress bar from these.
    masks_queued: AtomicUsize,
    masks_done: AtomicUsize,
    /// Queries started so far; the running query's number is one more.
    queries_started: AtomicU64,
    /// The number of the last query abandoned (Ctrl-C), 0 for none: its functions stop at the
    /// next mask, even after the next query has started.
    cancelled_query: AtomicU64,
    /// The persistent cache behind the functions' in-process ones, if the engine has one.
    store: Option<Arc<dyn ResultStore>>,
    /// Warnings about the cache itself (a folder that cannot be used): never an error, even
    /// under `strict`, since the query's results do not depend on it.
    cache_warnings: Mutex<Vec<String>>,
}

impl FunctionContext {
    /// A context with the given strictness and no warnings.
    pub fn new(strict: bool) -> Self {
        Self {
            strict,
            ..Self::default()
        }
    }

    /// Keeps the functions' results, and the header tables' rows, in `store` across processes.
    pub fn with_store(mut self, store: Arc<dyn ResultStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The persistent cache, if any.
    pub fn store(&self) -> Option<&dyn ResultStore> {
        self.store.as_deref()
    }

    /// The persistent cache, to share with another part of the engine.
    pub fn shared_store(&self) -> Option<Arc<dyn ResultStore>> {
        self.store.clone()
    }

    /// Lets the path functions read only files under `root` (resolved through symlinks and
    /// `..`), and under the folders of any earlier calls.
    pub fn reading_only_under(mut self, root: &std::path::Path) -> std::io::Result<Self> {
        let root = root.canonicalize()?;
        self.readable_roots.get_or_insert_with(Vec::new).push(root);
        Ok(self)
    }

    /// Whether the path functions may read `path`: always, unless [`reading_only_under`]
    /// set folders, then only what lies under one of them. A path that does not resolve (a
    /// missing file) is judged by its text, with `..` refused.
    ///
    /// [`reading_only_under`]: Self::reading_only_under
    pub fn may_read(&self, path: &std::path::Path) -> bool {
        let Some(roots) = &self.readable_roots else {
            return true;
        };
        match path.canonicalize() {
            Ok(resolved) => roots.iter().any(|root| resolved.starts_with(root)),
            Err(_) => {
                let climbs = path.components().any(|c| matches!(c, std::path::Component::ParentDir));
                !climbs && roots.iter().any(|root| path.starts_with(root))
            }
        }
    }

    /// Records a warning, once per distinct message.
    pub fn warn(&self, message: impl Into<String>) {
        let message = message.into();
        let mut warnings = self.warnings.lock().unwrap_or_else(|e| e.into_inner());
        if !warnings.contains(&message) {
            warnings.push(message);
        }
    }

    /// Notes that `count` more masks will be read and meshed.
    pub fn masks_queued(&self, count: usize) {
        self.masks_queued.fetch_add(count, Ordering::Relaxed);
    }

    /// Notes that one queued mask is done (read and meshed, or failed).
    pub fn mask_done(&self) {
        self.masks_done.fetch_add(1, Ordering::Relaxed);
    }

    /// (done, queued) masks since the last [`start_query`](Self::start_query).
    pub fn mask_progress(&self) -> (usize, usize) {
        (
            self.masks_done.load(Ordering::Relaxed),
            self.masks_queued.load(Ordering::Relaxed),
        )
    }

    /// Starts a new query: progress counts from zero, and the work of a cancelled one stays
    /// cancelled.
    pub fn start_query(&self) {
        self.masks_queued.store(0, Ordering::Relaxed);
        self.masks_done.store(0, Ordering::Relaxed);
        self.queries_started.fetch_add(1, Ordering::SeqCst);
    }

    /// The running query's number, which its functions keep to ask [`is_cancelled`](Self::is_cancelled).
    pub fn query(&self) -> u64 {
        self.queries_started.load(Ordering::SeqCst) + 1
    }

    /// Stops the work of the running query: masks not yet started are skipped and the
    /// function fails with "query cancelled".
    pub fn cancel(&self) {
        self.cancelled_query.store(self.query(), Ordering::SeqCst);
    }

    /// Whether query number `query` was cancelled.
    pub fn is_cancelled(&self, query: u64) -> bool {
        self.cancelled_query.load(Ordering::SeqCst) == query
    }

    /// Records a warning about the persistent cache (see [`take_warnings_by_kind`]).
    ///
    /// [`take_warnings_by_kind`]: Self::take_warnings_by_kind
    pub fn warn_about_cache(&self, message: impl Into<String>) {
        self.cache_warnings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(message.into());
    }

    /// Removes and returns the warnings recorded so far, the cache's first.
    pub fn take_warnings(&self) -> Vec<String> {
        let (data, mut cache) = self.take_warnings_by_kind();
        cache.extend(data);
        cache
    }

    /// Removes and returns the warnings recorded so far: (about the data, which `strict`
    /// makes errors; about the cache, which stay warnings). Also the end of a query for the
    /// persistent cache: what it kept back is written now.
    pub fn take_warnings_by_kind(&self) -> (Vec<String>, Vec<String>) {
        if let Some(fault) = self.store().and_then(|store| store.flush()) {
            self.warn_about_cache(fault);
        }
        let take = |list: &Mutex<Vec<String>>| std::mem::take(&mut *list.lock().unwrap_or_else(|e| e.into_inner()));
        (take(&self.warnings), take(&self.cache_warnings))
    }
}

/// Registers every npcql SQL function with `ctx`.
pub fn register_all(ctx: &SessionContext, functions: Arc<FunctionContext>) -> Result<()> {
    for function in morphology::functions(&functions) {
        ctx.register_udf(function);
    }
    for function in agreement::functions(&functions) {
        ctx.register_udf(function);
    }
    for function in radiomics::functions(&functions) {
        ctx.register_udf(function);
    }
    for function in survival::aggregates() {
        ctx.register_udaf(function);
    }
    for function in multiple_testing::window_functions() {
        ctx.register_udwf(function);
    }
    Ok(())
}

/// The documentation of every npcql function, in the README's order.
pub fn documentation() -> Vec<Documentation> {
    let functions = Arc::default();
    let scalars = morphology::functions(&functions)
        .into_iter()
        .chain(agreement::functions(&functions))
        .chain(radiomics::functions(&functions))
        .collect::<Vec<_>>();
    let scalar_docs = scalars.iter().filter_map(|f| f.documentation().cloned());
    let aggregate_docs = survival::aggregates()
        .into_iter()
        .filter_map(|f| f.documentation().cloned());
    let window_docs = multiple_testing::window_functions()
        .into_iter()
        .filter_map(|f| f.documentation().cloned());
    scalar_docs
        .chain(aggregate_docs.collect::<Vec<_>>())
        .chain(window_docs.collect::<Vec<_>>())
        .collect()
}
