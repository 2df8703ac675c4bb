//! Statement splitting and `$NAME` binding: arbitrary text gives statements or a syntax error,
//! and binding never panics, whatever the placeholders and values.
#![no_main]

use libfuzzer_sys::fuzz_target;
use npcql::query::{Params, bind, parse_statements};

fuzz_target!(|text: &str| {
    // Text after the first NUL, if any, is a parameter value for every placeholder name.
    let (sql, value) = text.split_once('\0').unwrap_or((text, "001"));
    let params: Params = ["id", "t", "x", "a"].iter().map(|n| (n.to_string(), value.to_string())).collect();
    if let Ok(bound) = bind(sql, &params) {
        let _ = parse_statements(&bound);
    }
    let _ = parse_statements(sql);
});
