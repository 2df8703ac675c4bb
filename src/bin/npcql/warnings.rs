//! Warnings (unreadable masks, bad clinical cells) as the command line and the shell show them.

use std::io::Write;

/// At most ten warnings on stderr, then a count and where to find the rest.
pub fn print_warnings(warnings: &[String]) {
    const SHOWN: usize = 10;
    let mut stderr = std::io::stderr().lock();
    for warning in warnings.iter().take(SHOWN) {
        let _ = writeln!(stderr, "warning: {warning}");
    }
    if warnings.len() > SHOWN {
        let _ = writeln!(
            stderr,
            "warning: … and {} more (SELECT * FROM dataset_issues lists dataset problems)",
            warnings.len() - SHOWN
        );
    }
}
