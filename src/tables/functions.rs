//! The path functions' context, built the same way by the coordinator and by each worker.

use std::path::Path;

use npcql_udfs::sql::FunctionContext;

use crate::error::{Error, Result};

/// The context of the path functions, on the coordinator and on each worker: `strict`, and
/// under `no_external_files` reading only the dataset and the model outputs (which may lie
/// elsewhere, `-p`: comparing them is what they are for).
pub(crate) fn function_context(
    strict: bool,
    no_external_files: bool,
    dataset_root: &Path,
    predictions: Option<&Path>,
) -> Result<FunctionContext> {
    let mut functions = FunctionContext::new(strict);
    if no_external_files {
        functions = functions
            .reading_only_under(dataset_root)
            .map_err(|e| Error::io(dataset_root, "cannot resolve the dataset folder", e))?;
        if let Some(folder) = predictions {
            functions = functions
                .reading_only_under(folder)
                .map_err(|e| Error::io(folder, "cannot resolve the predictions folder", e))?;
        }
    }
    Ok(functions)
}
