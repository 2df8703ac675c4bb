//! The interactive shell, driven through a pseudo-terminal as a user types.
//!
//! Each step waits for the prompt before typing on.

use std::path::Path;

use rexpect::session::{PtySession, spawn_command};

use crate::support::data_sample;

const PROMPT: &str = "npcql> ";

/// A shell on data-sample with its own home folder (history) and no colours.
fn shell(home: &Path) -> PtySession {
    let mut command = crate::support::npcql_command();
    command
        .args(["-d", data_sample().to_str().unwrap()])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("HOME", home)
        .env("TMPDIR", home)
        .env("BROWSER", home.join("browser"))
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
    let mut session = spawn_command(command, Some(30_000)).expect("spawn the shell");
    session
        .exp_string("48 patients, 144 series, 144 masks")
        .expect("banner");
    // The background header check reports before the first prompt, or, on a loaded machine,
    // before a later one: press Enter until it has.
    let mut seen = String::new();
    for _ in 0..300 {
        seen.push_str(&session.exp_string(PROMPT).expect("prompt"));
        if seen.contains("all 144 series and 144 mask headers read cleanly") {
            return session;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        session.send_line("").unwrap();
    }
    panic!("the header check never reported: {seen}");
}

/// A short pause between keystrokes and the next step, as a person's would be. (Keys typed
/// ahead are not lost: `type_ahead_is_kept` checks that.)
fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(20));
}

/// Types `text` after the prompt settles, and returns what the shell printed before its next
/// prompt.
fn type_line(session: &mut PtySession, text: &str) {
    settle();
    session.send(text).unwrap();
    session.send("\r").unwrap();
    session.flush().unwrap();
}

/// Types `text` and Enter, and returns what the shell printed before its next prompt.
fn run(session: &mut PtySession, text: &str) -> String {
    settle();
    session.send(text).unwrap();
    session.send("\r").unwrap();
    session.flush().unwrap();
    session
        .exp_string(PROMPT)
        .unwrap_or_else(|e| panic!("no prompt after {text:?}: {e}"))
}

fn quit(mut session: PtySession) {
    type_line(&mut session, ".quit");
    session.exp_eof().unwrap();
}

#[test]
fn multi_line_query_prints_a_table() {
    let home = tempfile::tempdir().unwrap();
    let mut s = shell(home.path());
    type_line(&mut s, "SELECT patient_id, ebv_status");
    s.exp_string("\n").unwrap();
    type_line(&mut s, "FROM patients");
    s.exp_string("\n").unwrap();
    let out = run(&mut s, "ORDER BY patient_id LIMIT 2;");
    for needle in ["patient_id", "varchar", "001", "positive", "002", "negative", "2 rows"] {
        assert!(out.contains(needle), "{needle} missing from {out}");
    }
    quit(s);
}

#[test]
fn tab_completes_tables_and_columns() {
    let home = tempfile::tempdir().unwrap();
    let mut s = shell(home.path());
    settle();
    s.send("SELECT count(*) AS n FROM pat\t").unwrap();
    s.flush().unwrap();
    s.exp_string("patients").unwrap();
    let out = run(&mut s, ";");
    assert!(out.contains("48"), "{out}");

    // File paths complete inside quotes (the shell runs in the repository).
    settle();
    s.send("SELECT count(*) AS rows_in_file FROM 'data-sample/clin\t")
        .unwrap();
    s.flush().unwrap();
    s.exp_string("clinical.csv").unwrap();
    let out = run(&mut s, "';");
    assert!(out.contains("rows_in_file") && out.contains("48"), "{out}");

    settle();
    s.send("SELECT ebv_\t\t").unwrap();
    s.flush().unwrap();
    s.exp_string("ebv_dna").unwrap();
    s.exp_string("ebv_status").unwrap();
    s.exp_string(PROMPT).unwrap(); // the line is drawn again under the candidates
    settle();
    s.send_control('c').unwrap();
    s.exp_string("Ctrl-C again").unwrap();
    s.exp_string(PROMPT).unwrap();
    quit(s);
}

#[test]
fn dot_commands() {
    let home = tempfile::tempdir().unwrap();
    let mut s = shell(home.path());
    let out = run(&mut s, ".tables");
    assert!(
        out.contains("dataset_issues") && out.contains("morphology") && out.contains("patients"),
        "{out}"
    );
    let out = run(&mut s, ".schema masks");
    assert!(
        out.contains("CREATE TABLE masks (") && out.contains("spacing_z DOUBLE"),
        "{out}"
    );
    let out = run(&mut s, ".functions volume");
    assert!(out.contains("tumor_volume(path)") && out.contains("IBSI RNU0"), "{out}");
    run(&mut s, ".maxrows 3");
    let out = run(&mut s, "SELECT patient_id, age FROM patients ORDER BY patient_id;");
    assert!(
        out.contains("bigint") && out.contains("48 rows (3 shown, 45 cut by .maxrows)"),
        "{out}"
    );
    run(&mut s, ".mode csv");
    run(&mut s, ".timer on");
    let out = run(&mut s, "SELECT 7 AS seven;");
    assert!(out.contains("seven\r\n7") && out.contains("Run Time:"), "{out}");
    // The persistent cache (in this home's ~/.cache/npcql): the masks meshed now are misses.
    let out = run(&mut s, "SELECT count(*) AS n FROM morphology WHERE volume_mm3 > 0;");
    assert!(out.contains("(cache: 0 hits, 144 misses)"), "{out}");
    let out = run(&mut s, ".read queries/data_quality.sql");
    assert!(out.contains("series_with_errors"), "{out}");
    let out = run(&mut s, ".tabels");
    assert!(out.contains("did you mean .tables?"), "{out}");
    let out = run(&mut s, ".patient 7");
    assert!(
        out.contains("007,") && out.contains("Achieva") && out.contains("volume_cm3"),
        "{out}"
    );
    // The page with the tumour on each sequence, written where the shell says.
    let page = home.path().join("npcql-patient-007.html");
    assert!(out.contains(&format!("wrote {}", page.display())), "{out}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert_eq!(html.matches("<img src=\"data:image/png;base64,").count(), 3);
    assert!(html.contains("<h1>Patient 007</h1>"));
    // --open hands it to $BROWSER (here a script noting what it was given).
    let browser = home.path().join("browser");
    std::fs::write(&browser, "#!/bin/sh\necho \"$1\" > \"$HOME/opened\"\n").unwrap();
    std::fs::set_permissions(&browser, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    run(&mut s, ".patient 7 --open");
    let opened = home.path().join("opened");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !opened.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        std::fs::read_to_string(&opened).unwrap().trim(),
        page.display().to_string()
    );
    let out = run(&mut s, "\\d patients");
    assert!(out.contains("ebv_status VARCHAR"), "{out}");
    let out = run(&mut s, ".open tests/data/alt-dataset");
    assert!(out.contains("3 patients, 9 series, 9 masks"), "{out}");
    let out = run(&mut s, "SELECT count(*) AS n FROM patients;");
    assert!(out.contains("n\r\n3"), "{out}");
    let out = run(&mut s, ".open /no/such/dataset");
    assert!(out.contains("error:") && out.contains("/no/such/dataset"), "{out}");
    type_line(&mut s, "\\q");
    s.exp_eof().unwrap();
}

#[test]
fn output_and_once_write_files() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("out.csv");
    let mut s = shell(home.path());
    run(&mut s, ".mode csv");
    run(&mut s, &format!(".once {}", file.display()));
    let out = run(&mut s, "SELECT 1 AS a;");
    assert!(!out.contains("a\r\n1"), "the result went to the file: {out}");
    let out = run(&mut s, "SELECT 2 AS b;");
    assert!(out.contains("b\r\n2"), "back on screen after .once: {out}");
    quit(s);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "a\n1\n");
}

/// `.once` sends the next *result* to its file: a statement that returns no rows before it
/// (a CREATE VIEW on the same line) does not use it up, as one line runs through one loop.
#[test]
fn once_waits_for_a_result() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("once.csv");
    let mut s = shell(home.path());
    run(&mut s, ".mode csv");
    run(&mut s, &format!(".once {}", file.display()));
    let out = run(&mut s, "CREATE VIEW seven AS SELECT 7 AS n; SELECT n FROM seven;");
    assert!(!out.contains("n\r\n7"), "the result went to the file: {out}");
    let out = run(&mut s, "SELECT n + 1 AS m FROM seven;");
    assert!(out.contains("m\r\n8"), "back on screen after .once: {out}");
    quit(s);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "n\n7\n");
}

#[test]
fn errors_leave_the_session_running() {
    let home = tempfile::tempdir().unwrap();
    let mut s = shell(home.path());
    let out = run(&mut s, "SELECT * FROM nowhere;");
    assert!(
        out.contains("error:") && out.contains("nowhere") && out.contains("(at line 1, column 15)"),
        "{out}"
    );
    let out = run(&mut s, "SELEC 1;");
    assert!(out.contains("syntax error"), "{out}");
    let out = run(&mut s, "SELECT 5 AS five;");
    assert!(out.contains("five"), "{out}");
    quit(s);
}

#[test]
fn ctrl_c_cancels_a_running_query() {
    let home = tempfile::tempdir().unwrap();
    let mut s = shell(home.path());
    type_line(
        &mut s,
        "SELECT count(*) FROM scans a, scans b, scans c, scans d WHERE a.rows + b.rows > c.rows + d.rows;",
    );
    s.exp_string("\n").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    s.send_control('c').unwrap();
    s.exp_string("query cancelled").unwrap();
    s.exp_string(PROMPT).unwrap();
    let out = run(&mut s, "SELECT 42 AS answer;");
    assert!(out.contains("42"), "{out}");
    // Ctrl-C twice at an empty prompt leaves.
    settle();
    s.send_control('c').unwrap();
    s.exp_string("Ctrl-C again").unwrap();
    s.exp_string(PROMPT).unwrap();
    s.send_control('c').unwrap();
    s.exp_eof().unwrap();
}

#[test]
fn history_survives_a_restart() {
    let home = tempfile::tempdir().unwrap();
    let mut s = shell(home.path());
    type_line(&mut s, "SELECT 'remembered'");
    s.exp_string("\n").unwrap();
    let out = run(&mut s, "  AS word;");
    assert!(out.contains("1 row"), "{out}");
    settle();
    s.send_control('d').unwrap();
    s.exp_eof().unwrap();

    let mut s = shell(home.path());
    settle();
    s.send("\x1b[A").unwrap(); // up arrow: the whole two-line statement comes back
    s.flush().unwrap();
    s.exp_string("AS word;").unwrap();
    let out = run(&mut s, "");
    assert!(out.contains("remembered") && out.contains("1 row"), "{out}");
    quit(s);
}

#[test]
fn type_ahead_is_kept() {
    // Three statements arriving in one read, as when typed during a query or pasted line by line.
    let home = tempfile::tempdir().unwrap();
    let mut s = shell(home.path());
    s.send("SELECT 1 AS first;\rSELECT 2 AS second;\rSELECT 3 AS third;\r")
        .unwrap();
    s.flush().unwrap();
    for column in ["first", "second", "third"] {
        s.exp_string(column)
            .unwrap_or_else(|e| panic!("{column} never ran: {e}"));
    }
    s.exp_string(PROMPT).unwrap();
    quit(s);
}
