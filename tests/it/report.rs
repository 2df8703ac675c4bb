//! `npcql report`: the numbers on the page are R's and the SQL's, the page lays out in a real
//! browser, and bad input is named by its section.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use npcql::report::figures::km::{KmGroup, at_risk, km_plot};

use crate::support::{data_sample, npcql, stderr, stdout};

fn reference(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/reference/report")
        .join(file)
}

/// The rows of a reference csv as maps from column name to cell.
fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .map(String::from)
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}

/// What `npcql -d data-sample --format csv FLAG ARG` prints (`-c SQL` or `-f FILE`).
fn sample_csv(flag: &str, arg: &str) -> String {
    stdout(&npcql(&[
        "-d",
        data_sample().to_str().unwrap(),
        "--format",
        "csv",
        flag,
        arg,
    ]))
}

/// (time, event, group) cohorts: the R reference cohorts and data-sample's PFS by EBV status.
fn cohort(name: &str) -> Vec<KmGroup> {
    let (path, time, event, group) = match name {
        "data_sample_ebv" => (
            data_sample().join("clinical.csv"),
            "pfs_months",
            "pfs_event",
            "ebv_status",
        ),
        _ => (reference(&format!("cohorts/{name}.csv")), "time", "event", "group"),
    };
    let mut groups: BTreeMap<String, KmGroup> = BTreeMap::new();
    for row in csv_rows(&path) {
        let entry = groups.entry(row[group].clone()).or_insert_with(|| KmGroup {
            label: row[group].clone(),
            ..Default::default()
        });
        entry.time.push(row[time].parse().unwrap());
        entry.event.push(row[event] == "1");
    }
    groups.into_values().collect()
}

fn close(got: f64, want: f64, relative: f64) -> bool {
    (got - want).abs() <= relative * want.abs().max(f64::MIN_POSITIVE)
}

/// At-risk counts, medians and log-rank p as R's `survival` 3.5 computes them
/// (`tests/reference/report/make_reference.R`): cohorts with tied times, events and censorings
/// exactly at the ticks, time-0 rows, and ticks past the last time.
#[test]
fn kaplan_meier_numbers_are_rs() {
    let at_risk_rows = csv_rows(&reference("at_risk.csv"));
    let summaries = csv_rows(&reference("km_summary.csv"));
    let logranks = csv_rows(&reference("logrank.csv"));
    for name in ["ties", "three_groups", "single", "data_sample_ebv"] {
        let groups = cohort(name);
        let figure = km_plot(&groups, "months").unwrap();
        for group in &groups {
            let rows: Vec<_> = at_risk_rows
                .iter()
                .filter(|r| r["cohort"] == name && r["group"] == group.label)
                .collect();
            assert_eq!(rows.len(), 7, "{name} {}", group.label);
            let ticks: Vec<f64> = rows.iter().map(|r| r["time"].parse().unwrap()).collect();
            let want: Vec<usize> = rows.iter().map(|r| r["n_risk"].parse().unwrap()).collect();
            assert_eq!(at_risk(&group.time, &ticks), want, "{name} {}", group.label);
            let summary = summaries
                .iter()
                .find(|r| r["cohort"] == name && r["group"] == group.label)
                .unwrap();
            let index = groups.iter().position(|g| g.label == group.label).unwrap();
            let median = figure.medians[index];
            match summary["median"].as_str() {
                "" => assert_eq!(median, None, "{name} {}", group.label),
                m => assert!(
                    close(median.unwrap(), m.parse().unwrap(), 1e-12),
                    "{name} {}",
                    group.label
                ),
            }
            // The figure's own risk table uses its ticks, with the same rule.
            assert_eq!(figure.at_risk[index], at_risk(&group.time, &figure.ticks));
        }
        if let Some(want) = logranks.iter().find(|r| r["cohort"] == name) {
            let p = figure.logrank_p.unwrap();
            assert!(
                close(p, want["p"].parse().unwrap(), 1e-6),
                "{name}: {p} vs {}",
                want["p"]
            );
        }
    }
}

/// Renders the shipped report on data-sample into a temp folder.
fn render_survival_report(dir: &Path) -> String {
    let html = dir.join("report.html");
    let out = npcql(&[
        "report",
        concat!(env!("CARGO_MANIFEST_DIR"), "/queries/survival_report.sql"),
        "-d",
        data_sample().to_str().unwrap(),
        "-o",
        html.to_str().unwrap(),
        "--figures",
        dir.join("figures").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("12 figures"), "{}", stderr(&out));
    std::fs::read_to_string(html).unwrap()
}

/// The texts of one SVG group (`<g class="risk-table">`) in document order.
fn group_texts(svg: &str, class: &str) -> Vec<String> {
    let start = svg.find(&format!("<g class=\"{class}\">")).expect("group present");
    let end = start + svg[start..].find("</g>").unwrap();
    svg[start..end]
        .split("<text")
        .skip(1)
        .map(|t| t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()].to_string())
        .collect()
}

/// The page shows what the SQL returns and what R computes: the risk table of PFS by EBV status,
/// the medians, the log-rank p, the hazard ratios and Table 1's cells.
#[test]
fn the_report_shows_the_sqls_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let html = render_survival_report(dir.path());
    let figures: Vec<_> = std::fs::read_dir(dir.path().join("figures")).unwrap().collect();
    assert_eq!(figures.len(), 12);
    let km = std::fs::read_to_string(
        dir.path()
            .join("figures/01-km-progression-free-survival-by-ebv-dna-status.svg"),
    )
    .unwrap();
    assert!(html.contains(&km), "the page inlines the same figure");
    // Number at risk at 0, 12, …, 96 months: R's n.risk at 0–72 (reference), then 0.
    let r: Vec<String> = csv_rows(&reference("at_risk.csv"))
        .into_iter()
        .filter(|r| r["cohort"] == "data_sample_ebv")
        .map(|r| r["n_risk"].clone())
        .collect();
    let got = group_texts(&km, "risk-table");
    // Title, then each group's name and its counts at 0, 12, …, 96 months.
    assert_eq!(got.len(), 21, "{got:?}");
    assert_eq!(
        (got[0].as_str(), got[1].as_str(), got[11].as_str()),
        ("Number at risk", "negative", "positive")
    );
    assert_eq!(got[2..9], r[..7], "negative, 0–72 months: R's n.risk");
    assert_eq!(got[12..19], r[7..], "positive, 0–72 months: R's n.risk");
    // Past R's last tick: those followed at least 84 and 96 months, by SQL.
    let sql = "SELECT ebv_status, count(*) FILTER (WHERE pfs_months >= 84), count(*) FILTER (WHERE pfs_months >= 96) \
               FROM patients GROUP BY 1 ORDER BY 1";
    let beyond = sample_csv("-c", sql);
    let beyond: Vec<&str> = beyond.lines().skip(1).collect();
    assert_eq!(
        beyond,
        [
            format!("negative,{},{}", got[9], got[10]),
            format!("positive,{},{}", got[19], got[20])
        ]
    );
    // Log-rank p = 0.0153 (R's survdiff) and the medians (R: positive 70.7, negative not reached).
    assert!(group_texts(&km, "pvalue") == ["Log-rank p = 0.015"], "{km}");
    assert!(
        html.contains(
            "negative: n = 21, 3 events, median not reached; positive: n = 27, 13 events, median 70.7 months"
        )
    );

    // Hazard ratios as the SQL returns them (two decimals on the page).
    let volume = sample_csv("-f", concat!(env!("CARGO_MANIFEST_DIR"), "/queries/cox_morphology.sql"));
    let row = volume.lines().find(|l| l.starts_with("volume,")).unwrap().to_string();
    let cells: Vec<f64> = row.split(',').skip(1).take(3).map(|c| c.parse().unwrap()).collect();
    let text = format!("{:.2} ({:.2}–{:.2})", cells[0], cells[1], cells[2]);
    assert!(html.contains(&text), "{text} not in the forest plot");

    // Table 1: the age row from the SQL's median and Mann–Whitney p.
    let sql = "SELECT ebv_status, median(age) FROM patients GROUP BY 1 ORDER BY 1; \
               SELECT mann_whitney_p(age, ebv_status) FROM patients";
    let out = sample_csv("-c", sql);
    let lines: Vec<&str> = out.lines().collect();
    let median = |line: &str| line.split(',').nth(1).unwrap().parse::<f64>().unwrap();
    let (negative, positive) = (median(lines[1]), median(lines[2]));
    let age_row = html.split("<tr>").find(|r| r.contains("age, median (IQR)")).unwrap();
    assert!(
        age_row.contains(&format!(">{negative} (")) && age_row.contains(&format!(">{positive} (")),
        "{age_row}"
    );
    let p: Vec<f64> = lines[4].split(',').map(|c| c.parse().unwrap()).collect();
    assert!(age_row.contains(&format!("{:.2}<sup>", p[0])), "{age_row}");
    // T stage by EBV status has expected counts below 5 (a 4 × 2 table): Fisher's exact test, as
    // R's fisher.test gives it (2.2036e-05, see udfs' contingency tests), printed "<0.0001".
    let stage_row = html.split("<tr>").find(|r| r.contains("t_stage, n (%)")).unwrap();
    assert!(stage_row.contains("&lt;0.0001<sup>"), "{stage_row}");
    assert!(html.contains("Fisher's exact test (Freeman–Halton"));
    // Sex (2 × 2, every expected count ≥ 5): χ² with Yates, as chi2_p.
    let sex_row = html.split("<tr>").find(|r| r.contains("sex, n (%)")).unwrap();
    let sex_p = sample_csv("-c", "SELECT chi2_p(sex, ebv_status) FROM patients");
    let sex_p: f64 = sex_p.lines().nth(1).unwrap().parse().unwrap();
    let digits = npcql::report::figures::format::p_digits(sex_p);
    assert!(sex_row.contains(&format!("{digits}<sup>")), "{sex_row}: {digits}");
}

/// The page in Debian's Chromium, headless: every figure has its axes (and a KM figure its
/// legend and risk table) inside the figure and the viewport, no two texts of a figure overlap,
/// and a screenshot is taken.
#[test]
fn the_report_lays_out_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let html = render_survival_report(dir.path());
    let (result, screenshot) = in_chromium(dir.path(), &html, LAYOUT_CHECK);
    assert_eq!(result["figures"], 12, "{result}");
    assert_eq!(result["problems"], serde_json::json!([]), "{result}");
    assert!(screenshot > 10_000, "a screenshot with content");
}

/// The QC sheet in Chromium on three patients, one of whose masks is damaged: every picture is
/// decoded by the browser and lies inside its cell and the viewport, the damaged one is a cell
/// naming the file, and the page weighs about its thumbnails.
#[test]
fn the_segmentation_qc_sheet_lays_out_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for patient in ["001", "002", "003"] {
        let from = data_sample().join("MRI-Segments").join(patient);
        copy_dir(&from, &data.join("MRI-Segments").join(patient));
    }
    std::fs::copy(data_sample().join("clinical.csv"), data.join("clinical.csv")).unwrap();
    let damaged = data.join("MRI-Segments/002/ROI-T1.nii");
    let bytes = std::fs::read(&damaged).unwrap();
    std::fs::write(&damaged, &bytes[..400]).unwrap();
    let page = dir.path().join("qc.html");
    let out = npcql(&[
        "report",
        concat!(env!("CARGO_MANIFEST_DIR"), "/queries/segmentation_qc.sql"),
        "-d",
        data.to_str().unwrap(),
        "-o",
        page.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let html = std::fs::read_to_string(&page).unwrap();
    let images = html.matches("<img src=\"data:image/png;base64,").count();
    assert_eq!(images, 8, "nine sequences, one mask damaged");
    assert!(
        html.contains("not drawn: ") && html.contains("ROI-T1.nii"),
        "a placeholder names the file"
    );
    // Thumbnails are at most 40 KB (as base64, 4/3 of that); the rest of the page is small.
    assert!(
        html.len() < images * 40 * 1024 * 4 / 3 + 100_000,
        "{} bytes",
        html.len()
    );
    let (result, _) = in_chromium(dir.path(), &html, PICTURE_CHECK);
    assert_eq!(result["pictures"], 8, "{result}");
    assert_eq!(result["placeholders"], 1, "{result}");
    assert_eq!(result["problems"], serde_json::json!([]), "{result}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Runs `check` (a script that leaves its JSON verdict in `<pre id="layout-check">`) on `html`
/// in headless Chromium: the verdict, and the size of a screenshot of the page.
fn in_chromium(dir: &Path, html: &str, check: &str) -> (serde_json::Value, u64) {
    let chromium = std::env::var_os("NPCQL_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    assert!(
        chromium.exists(),
        "{} not found: install Debian's chromium (.ci/run does) or set NPCQL_CHROMIUM",
        chromium.display()
    );
    let checked = dir.join("checked.html");
    std::fs::write(
        &checked,
        html.replace("</body>", &format!("<script>{check}</script></body>")),
    )
    .unwrap();
    let browser = |extra: &[&str]| {
        let profile = dir.join("profile");
        let out = Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--window-size=1000,1400",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(extra)
            .arg(format!("file://{}", checked.display()))
            .output()
            .expect("chromium runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let dom = browser(&["--dump-dom"]);
    let start = dom.find("<pre id=\"layout-check\">").expect("the check ran") + "<pre id=\"layout-check\">".len();
    let result = &dom[start..start + dom[start..].find("</pre>").unwrap()];
    let result: serde_json::Value = serde_json::from_str(&result.replace("&quot;", "\"")).unwrap();
    let screenshot = dir.join("page.png");
    browser(&[&format!("--screenshot={}", screenshot.display())]);
    (result, std::fs::metadata(&screenshot).unwrap().len())
}

/// Runs in the page: every tumour picture decoded (its natural size its declared size), inside
/// its cell and the viewport; placeholders counted.
const PICTURE_CHECK: &str = r#"
const problems = [];
const inside = (b, r) => b.left >= r.left - 0.5 && b.right <= r.right + 0.5 && b.top >= r.top - 0.5 && b.bottom <= r.bottom + 0.5;
const width = document.documentElement.clientWidth;
const pictures = document.querySelectorAll('figure.slice img');
pictures.forEach((img, n) => {
  const cell = img.closest('figure').getBoundingClientRect();
  const box = img.getBoundingClientRect();
  if (!img.complete || img.naturalWidth == 0) problems.push('picture #' + (n + 1) + ' not decoded');
  if (img.naturalWidth != img.width || img.naturalHeight != img.height) problems.push('picture #' + (n + 1) + ' scaled');
  if (!inside(box, cell)) problems.push('picture #' + (n + 1) + ' outside its cell');
  if (cell.right > width + 0.5) problems.push('picture #' + (n + 1) + ' wider than the viewport');
});
const placeholders = document.querySelectorAll('figure.slice .placeholder').length;
const pre = document.createElement('pre');
pre.id = 'layout-check';
pre.textContent = JSON.stringify({ pictures: pictures.length, placeholders, problems });
document.body.appendChild(pre);
"#;

/// Runs in the page: for each figure, its parts are present and inside it, it fits the
/// viewport, and no two of its texts overlap.
const LAYOUT_CHECK: &str = r#"
const problems = [];
const inside = (b, r) => b.left >= r.left - 0.5 && b.right <= r.right + 0.5 && b.top >= r.top - 0.5 && b.bottom <= r.bottom + 0.5;
const figures = document.querySelectorAll('svg.figure');
figures.forEach((fig, n) => {
  const kind = fig.classList[1] + ' #' + (n + 1);
  const box = fig.getBoundingClientRect();
  if (box.right > document.documentElement.clientWidth + 0.5) problems.push(kind + ': wider than the viewport');
  const parts = { km: ['axis x', 'axis y', 'legend', 'risk-table', 'pvalue'], forest: ['header', 'rows', 'axis x'] }[fig.classList[1]] || ['axis x', 'axis y'];
  for (const part of parts) {
    const g = fig.querySelector('g[class="' + part + '"]');
    if (!g) { problems.push(kind + ': no ' + part); continue; }
    if (!inside(g.getBoundingClientRect(), box)) problems.push(kind + ': ' + part + ' outside the figure');
  }
  const texts = [...fig.querySelectorAll('text')].map(t => [t.textContent, t.getBoundingClientRect()]);
  for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
    const [a, ra] = texts[i], [b, rb] = texts[j];
    if (ra.left < rb.right - 0.5 && rb.left < ra.right - 0.5 && ra.top < rb.bottom - 0.5 && rb.top < ra.bottom - 0.5)
      problems.push(kind + ': "' + a + '" overlaps "' + b + '"');
  }
});
const pre = document.createElement('pre');
pre.id = 'layout-check';
pre.textContent = JSON.stringify({ figures: figures.length, problems });
document.body.appendChild(pre);
"#;

/// Bad input is named by its section and line; an empty result is a note, not a failure.
#[test]
fn bad_report_input_names_the_section() {
    let dir = tempfile::tempdir().unwrap();
    let run = |sql: &str| {
        let file = dir.path().join("r.sql");
        std::fs::write(&file, sql).unwrap();
        let out_file = dir.path().join("r.html");
        let out = npcql(&[
            "report",
            file.to_str().unwrap(),
            "-d",
            data_sample().to_str().unwrap(),
            "-o",
            out_file.to_str().unwrap(),
        ]);
        (out, std::fs::read_to_string(out_file).unwrap_or_default())
    };
    let (out, _) = run("-- ## Survival\n-- show: km\nSELECT pfs_months AS t, pfs_event AS event FROM patients;");
    assert!(!out.status.success());
    let message = stderr(&out);
    assert!(
        message.contains("section Survival (line 3)") && message.contains("needs a column named time"),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "{message}");
    let (out, _) = run("-- ## Negative\n-- show: km\nSELECT -1.0 AS time, 1 AS event;");
    assert!(
        stderr(&out).contains("section Negative (line 3)") && stderr(&out).contains("-1"),
        "{}",
        stderr(&out)
    );
    let (out, _) = run("SELECT 1;\n-- show: pie\nSELECT 2;");
    assert!(
        stderr(&out).contains("line 2") && stderr(&out).contains("unknown view 'show: pie'"),
        "{}",
        stderr(&out)
    );
    let (out, html) =
        run("-- # Empty\n-- show: km\nSELECT pfs_months AS time, pfs_event AS event FROM patients WHERE false;");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(html.contains("The statement returned no rows."));
    // A constant column, a single row and NaN values draw and summarise; they do not hang.
    let (out, html) = run(
        "-- show: box BY g\nSELECT 'a' AS g, 1.0 AS v;\n-- show: histogram\nSELECT 5.0 AS v;\n\
         -- show: table1 BY g\nSELECT 'a' AS g, CAST('NaN' AS DOUBLE) AS v UNION ALL SELECT 'b', 2.0 UNION ALL SELECT 'a', 3.0;",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(html.contains("class=\"figure box\"") && html.contains("class=\"table1\""));
    let (out, _) = run("-- ## Broken\nSELECT nonexistent FROM patients;");
    assert!(
        stderr(&out).contains("section Broken (line 2)") && stderr(&out).contains("nonexistent"),
        "{}",
        stderr(&out)
    );
}

/// Through the library, one session renders the shipped report again and again (its view is
/// `CREATE OR REPLACE`), the second time from the feature cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_renders_the_report_twice() {
    let engine = npcql::Engine::open(&data_sample(), false).expect("data-sample opens");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/survival_report.sql");
    let first = npcql::report::render(&engine, &path, &Default::default())
        .await
        .unwrap();
    let second = npcql::report::render(&engine, &path, &Default::default())
        .await
        .unwrap();
    assert_eq!(first.figures, second.figures);
    assert_eq!(first.figures.len(), 12);
    assert!(first.warnings.is_empty() && second.warnings.is_empty());
}

/// What a user met: `BY` takes an SQL identifier, so a quoted mixed-case column is found; and
/// `-- show: forest` reads `cox_ph`'s fields as `SELECT c.hr, …` returns them (DataFusion names
/// those columns `c[hr]`), without an `AS` for each.
#[test]
fn views_take_quoted_columns_and_struct_fields() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("r.sql");
    std::fs::write(
        &file,
        "-- show: table1 BY \"horTh\"\n\
         SELECT CASE WHEN patient_id < '010' THEN 'yes' ELSE 'no' END AS \"horTh\", age FROM patients;\n\
         -- show: box BY \"horTh\"\n\
         SELECT CASE WHEN patient_id < '010' THEN 'yes' ELSE 'no' END AS \"horTh\", age FROM patients;\n\
         -- show: forest\n\
         SELECT 'age' AS label, c.hr, c.hr_lower, c.hr_upper, c.p\n\
         FROM (SELECT cox_ph(pfs_months, pfs_event, age) AS c FROM patients);\n",
    )
    .unwrap();
    let html = dir.path().join("r.html");
    let out = npcql(&[
        "report",
        file.to_str().unwrap(),
        "-d",
        data_sample().to_str().unwrap(),
        "-o",
        html.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = std::fs::read_to_string(html).unwrap();
    assert!(
        page.contains("class=\"table1\"") && page.contains("Grouped by horTh"),
        "{page}"
    );
    assert!(page.contains("age by horTh"), "{page}");
    assert!(page.contains("class=\"figure forest\""), "{page}");
}
