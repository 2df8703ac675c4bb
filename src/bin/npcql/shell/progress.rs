//! The progress bar shown on stderr while a query reads and meshes many masks.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use npcql_udfs::sql::FunctionContext;

/// Quick queries show no bar at all.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// Draws mask progress until dropped. A plain thread rather than a tokio task: the mask
/// work keeps the runtime's workers busy, and their timers with them.
pub struct MaskProgress {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl MaskProgress {
    /// Starts watching `functions`' counters (reset now) for the query about to run.
    pub fn start(functions: Arc<FunctionContext>) -> MaskProgress {
        functions.start_query();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::io::stderr().is_terminal().then(|| {
            let stop = stop.clone();
            std::thread::spawn(move || draw(&functions, &stop))
        });
        MaskProgress { stop, thread }
    }
}

impl Drop for MaskProgress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn draw(functions: &FunctionContext, stop: &AtomicBool) {
    let started = Instant::now();
    let mut bar: Option<ProgressBar> = None;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
        let (done, queued) = functions.mask_progress();
        if queued == 0 || started.elapsed() < SHOW_AFTER {
            continue;
        }
        let bar = bar.get_or_insert_with(|| {
            let bar = ProgressBar::with_draw_target(Some(queued as u64), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("masks {pos}/{len} {wide_bar} eta {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        bar.set_length(queued as u64);
        bar.set_position(done as u64);
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}
