"""`import npcql` as a notebook uses it: results against the command line, Arrow without copies,
exceptions, parameters, Ctrl-C, threads, figures and reports."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import npcql

from conftest import DATA, ROOT

# Rows for the query Ctrl-C interrupts: about 15 s uninterrupted in the dev build (74 s for 10^9
# rows measured on 2 cores), far longer than the 0.5 s before the signal, never hours.
CTRL_C_ROWS = 200_000_000

SAVED_ANALYSES = sorted(p for p in (ROOT / "queries").glob("*.sql") if p.name != "survival_report.sql")


def statements(sql: str) -> list[str]:
    """The statements of a saved analysis: split at `;` outside strings and `--` comments; each
    carries the file's parameter defaults ("-- default $NAME = VALUE"), which hold for all."""
    out, current, quote, comment = [], [], None, False
    for i, c in enumerate(sql):
        if comment:
            comment = c != "\n"
        elif quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == "-" and sql[i : i + 2] == "--":
            comment = True
        elif c == ";":
            out.append("".join(current))
            current = []
            continue
        current.append(c)
    out.append("".join(current))
    defaults = "".join(line + "\n" for line in sql.splitlines() if line.startswith("-- default $"))
    return [defaults + s for s in out if any(line.strip() and not line.strip().startswith("--") for line in s.splitlines())]


@pytest.mark.parametrize("path", SAVED_ANALYSES, ids=lambda p: p.name)
def test_saved_analyses_equal_the_command_line(cli, tmp_path, path):
    con = npcql.connect(DATA)  # its own session: the analyses create views
    views = []  # the statements so far that return no rows; the CLI runs them before each query
    for i, sql in enumerate(statements(path.read_text())):
        got = con.sql(sql)
        if not got.columns:
            views.append(sql)
            continue
        source, out = tmp_path / f"{i}.sql", tmp_path / f"{i}.arrow"
        source.write_text(";\n".join([*views, sql]))
        cli("-f", str(source), "-o", str(out))
        with pa.ipc.open_file(out) as reader:
            expected = reader.read_all()
        assert got.to_arrow().schema == expected.schema, sql
        assert got.to_arrow().equals(expected), sql


def test_printed_result_is_the_command_lines_table(con, cli):
    sql = "SELECT patient_id, ebv_status, pfs_months FROM patients ORDER BY patient_id LIMIT 5"
    table = cli("-c", sql, "--format", "table").stdout.decode()
    assert repr(con.sql(sql)) == table.rstrip("\n")
    assert str(con.sql(sql)) == repr(con.sql(sql))


def test_to_arrow_reads_the_engines_buffers(con):
    res = con.sql("SELECT patient_id, pfs_months, pfs_months * 2 AS doubled FROM patients")
    engine = set(res._native.buffer_addresses())
    assert engine, "the result has buffers"
    table = res.to_arrow()
    arrow = {b.address for column in table.columns for chunk in column.chunks for b in chunk.buffers() if b}
    assert engine <= arrow, "to_arrow() copied the engine's buffers"


def test_nested_results_are_arrow_lists_and_structs(con):
    res = con.sql("SELECT km_curve(pfs_months, pfs_event) AS curve, cox_ph(pfs_months, pfs_event, age) AS cox FROM patients")
    table = res.to_arrow()
    curve, cox = table.schema.field("curve").type, table.schema.field("cox").type
    assert pa.types.is_list(curve) and pa.types.is_struct(curve.value_type)
    assert pa.types.is_struct(cox) and {"hr", "p"} <= {f.name for f in cox}
    (row,) = res.fetchall()
    assert isinstance(row[0], list) and set(row[0][0]) >= {"time", "survival"}
    assert 0 < row[1]["p"] <= 1


def test_consumers_take_the_result_directly(con):
    res = con.sql("SELECT ebv_status, count(*) AS n FROM patients GROUP BY 1 ORDER BY 1")
    expected = res.to_arrow()
    assert pa.table(res).equals(expected)
    assert pl.DataFrame(res).equals(pl.from_arrow(expected))
    assert res.to_polars().equals(pl.from_arrow(expected))
    pd.testing.assert_frame_equal(res.to_pandas(), expected.to_pandas())
    assert duckdb.sql("SELECT sum(n) FROM res").fetchall() == [(sum(expected["n"].to_pylist()),)]
    assert res.fetchall() == list(zip(*(c.to_pylist() for c in expected.columns)))
    assert res.columns == ["ebv_status", "n"] and len(res) == res.num_rows == expected.num_rows
    assert "<table" in res._repr_html_()


def test_parameters_keep_their_python_types(con):
    one = con.sql("SELECT patient_id FROM patients WHERE patient_id = $id", params={"id": "001"})
    assert one.fetchall() == [("001",)]
    row = con.sql("SELECT $n + 1 AS n, $x AS x, $s AS s, $b AS b, $none IS NULL AS missing", params={"n": 41, "x": 0.5, "s": "60", "b": True, "none": None}).fetchall()
    assert row == [(42, 0.5, "60", True, True)]
    quoted = con.sql("SELECT $s AS s", params={"s": "O'Neil"}).fetchall()
    assert quoted == [("O'Neil",)]
    with pytest.raises(npcql.SqlError, match=r"no value for \$id"):
        con.sql("SELECT * FROM patients WHERE patient_id = $id")
    with pytest.raises(TypeError, match=r"\$id is a list"):
        con.sql("SELECT $id", params={"id": [1]})


def test_bad_query_raises_sql_error_with_its_position(con):
    with pytest.raises(npcql.SqlError) as caught:
        con.sql("SELECT ebv_statsu FROM patients")
    assert "ebv_statsu" in str(caught.value) and "(at line 1, column 8)" in str(caught.value)
    assert isinstance(caught.value, npcql.Error)
    with pytest.raises(npcql.SqlError, match="syntax error"):
        con.sql("SELEC 1")


def test_missing_dataset_raises_dataset_error(tmp_path):
    with pytest.raises(npcql.DatasetError, match=str(tmp_path / "nowhere")):
        npcql.connect(tmp_path / "nowhere")


def test_unreadable_mask_is_null_with_a_warning_or_an_error_when_strict(broken_copy):
    data, mask = broken_copy
    sql = "SELECT path, tumor_volume(path) AS volume FROM masks ORDER BY path"
    con = npcql.connect(data)
    with pytest.warns(npcql.NpcqlWarning, match=mask.name):
        rows = con.sql(sql).fetchall()
    assert dict(rows)[str(mask)] is None
    assert sum(v is not None for _, v in rows) == len(rows) - 1, "every healthy mask still has its volume"
    assert any(mask.name in w for w in con.warnings())
    assert con.warnings(clear=True) and con.warnings() == []

    strict = npcql.connect(data, strict=True)
    with pytest.raises(npcql.FileError, match=mask.name):
        strict.sql(f"SELECT tumor_volume('{mask}')")


def test_each_exception_class_is_raised_by_its_own_fault(tmp_path, broken_copy):
    """One real fault per class, each an npcql.Error; no message names a command-line flag."""
    data, mask = broken_copy
    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n")
    bad_toml = tmp_path / "bad_toml"
    shutil.copytree(DATA, bad_toml)
    (bad_toml / "npcql.toml").write_text('[predictions]\nmodality = "PET"\n')
    report = tmp_path / "r.sql"
    report.write_text("-- show: km\nSELECT 1 AS x;\n")
    guarded = npcql.connect(DATA, no_external_files=True)
    faults = [
        (npcql.SqlError, "syntax error", lambda: npcql.connect(DATA).sql("SELEC 1")),
        (npcql.SqlError, r"no value for \$id", lambda: npcql.connect(DATA).sql("SELECT $id")),
        (npcql.DatasetError, "nowhere", lambda: npcql.connect(tmp_path / "nowhere")),
        # Under strict, a file a function cannot read: the mask inside tumor_volume(path).
        (npcql.FileError, mask.name, lambda: npcql.connect(data, strict=True).sql(f"SELECT tumor_volume('{mask}')")),
        (npcql.FileError, "cannot read the report", lambda: npcql.connect(DATA).report(tmp_path / "missing.sql")),
        (npcql.ConfigError, "npcql.toml: \\[predictions\\] modality 'PET'", lambda: npcql.connect(bad_toml)),
        (npcql.ConfigError, "predictions folder .* does not exist", lambda: npcql.connect(DATA, predictions=tmp_path / "none")),
        (npcql.AccessError, f"{outside}: outside the dataset folder", lambda: guarded.sql(f"SELECT * FROM '{outside}'")),
        (npcql.AccessError, "COPY", lambda: guarded.sql(f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'")),
        # Under strict, a path function given a file outside the dataset.
        (
            npcql.AccessError,
            "outside the dataset folder",
            lambda: npcql.connect(DATA, strict=True, no_external_files=True).sql(f"SELECT tumor_volume('{mask}')"),
        ),
        (npcql.ReportError, "needs a column named time", lambda: npcql.connect(DATA).report(report)),
        (npcql.ExportError, "lies inside the dataset", lambda: npcql.connect(DATA).export("monai", DATA / "export", dry_run=True)),
    ]
    for cls, message, fault in faults:
        with pytest.raises(cls, match=message) as caught:
            fault()
        assert type(caught.value) is cls and isinstance(caught.value, npcql.Error), (cls, caught.value)
        assert "--" not in str(caught.value), caught.value
    assert {cls for cls, _, _ in faults} == {c for c in vars(npcql).values() if isinstance(c, type) and issubclass(c, npcql.Error) and c is not npcql.Error}


def test_quoted_paths_inside_the_dataset_read_when_files_outside_are_refused(tmp_path):
    guarded = npcql.connect(DATA, no_external_files=True)
    assert guarded.sql(f"SELECT count(*) FROM '{DATA / 'MRI-Segments' / '..' / 'clinical.csv'}'").fetchall() == [(48,)]
    link = tmp_path / "data"
    shutil.copytree(DATA, link)
    (link / "escape.csv").symlink_to(tmp_path / "outside.csv")
    (tmp_path / "outside.csv").write_text("a\n1\n")
    with pytest.raises(npcql.AccessError, match=f"escape.csv resolves to {tmp_path / 'outside.csv'}, outside the dataset folder {link}"):
        npcql.connect(link, no_external_files=True).sql(f"SELECT * FROM '{link / 'escape.csv'}'")


@pytest.fixture
def python_sigint_handler():
    """Python's own SIGINT handler, whatever the test process inherited: a runner started in
    the background (nohup, `cmd &` in a script) has SIGINT ignored, and then Ctrl-C does nothing."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_cancels_a_running_query(con, python_sigint_handler):
    main = threading.main_thread().ident
    timer = threading.Timer(0.5, signal.pthread_kill, (main, signal.SIGINT))
    timer.start()
    start = time.monotonic()
    # A query that, uninterrupted, ends by itself well within the test's time limit: a Ctrl-C
    # that is lost fails the test (no KeyboardInterrupt), it never hangs it.
    with pytest.raises(KeyboardInterrupt):
        con.sql(f"SELECT sum(value % 7) FROM range({CTRL_C_ROWS})")
    assert time.monotonic() - start < 5
    timer.join()
    assert con.sql("SELECT 1 AS one").fetchall() == [(1,)], "the connection still works"


def test_one_connection_serves_many_threads():
    con = npcql.connect(DATA)
    queries = []
    for path in SAVED_ANALYSES:
        for statement in statements(path.read_text()):
            # Views are created once, here; the threads run the queries.
            if con.sql(statement).columns:
                queries.append(statement)
    serial = [con.sql(q).to_arrow() for q in queries]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(lambda q: con.sql(q).to_arrow(), queries * 2))
    for got, want in zip(parallel, serial * 2):
        assert got.equals(want)


def test_tables_and_schema(con):
    assert {"patients", "scans", "masks", "dataset_issues", "predictions", "morphology"} <= set(con.tables())
    schema = con.schema("masks")
    assert isinstance(schema, pa.Schema) and {"patient_id", "modality", "path"} <= set(schema.names)
    with pytest.raises(npcql.SqlError, match="nowhere"):
        con.schema("nowhere")


def test_figures_use_the_report_renderer(con):
    km = npcql.km_plot(con.sql('SELECT pfs_months AS time, pfs_event AS event, ebv_status AS "group" FROM patients WHERE ebv_status IS NOT NULL'))
    assert km._repr_svg_().startswith("<svg") and "Number at risk" in km.svg
    assert "median" in km.caption
    forest = npcql.forest_plot(
        con.sql("SELECT 'age' AS label, c.hr AS hr, c.hr_lower AS hr_lower, c.hr_upper AS hr_upper, c.p AS p FROM (SELECT cox_ph(pfs_months, pfs_event, age) AS c FROM patients)")
    )
    assert forest.svg.startswith("<svg")
    with pytest.raises(npcql.ReportError, match="needs a column named time"):
        npcql.km_plot(con.sql("SELECT 1 AS x"))
    with pytest.raises(TypeError):
        npcql.km_plot("SELECT 1")


def test_slice_plot_draws_the_tumour_as_a_png(tmp_path):
    patient = DATA / "MRI-Segments" / "001"
    picture = npcql.slice_plot(patient / "T2WI", patient / "ROI-T2.nii", compare=patient / "ROI-T1.nii")
    assert picture._repr_png_().startswith(b"\x89PNG\r\n\x1a\n")
    assert picture.width <= 256 and picture.height <= 256 and len(picture.png) <= 40 * 1024
    assert any("ROI-T1.nii (second outline)" in line for line in picture.legend)
    picture.save(tmp_path / "t2.png")
    assert (tmp_path / "t2.png").read_bytes() == picture.png
    first = npcql.slice_plot(patient / "T2WI", patient / "ROI-T2.nii", slice=0, window=(0, 500), crop=False)
    assert first.legend[0].startswith("slice 0 of") and "window 0 to 500" in first.legend[0]
    with pytest.raises(npcql.FileError, match="slice 99 asked for"):
        npcql.slice_plot(patient / "T2WI", patient / "ROI-T2.nii", slice=99)


def test_slice_grid_draws_a_result_s_rows(con):
    result = con.sql(
        "SELECT s.series_dir, m.path, m.patient_id || ' ' || m.modality AS caption "
        "FROM masks m JOIN scans s USING (patient_id, modality) WHERE m.patient_id IN ('001', '002') "
        "UNION ALL SELECT '/nowhere', '/nowhere/ROI-T2.nii', 'missing' ORDER BY caption"
    )
    grid = npcql.slice_grid(result)
    assert grid.png.startswith(b"\x89PNG") and len(grid.legend) == 7
    assert any(line.startswith("missing: not drawn") for line in grid.legend)
    with pytest.raises(npcql.ReportError, match="series_dir"):
        npcql.slice_grid(con.sql("SELECT 1 AS x"))


def test_a_patient_s_page_is_the_shell_s(con, cli, tmp_path):
    page = con.patient(7)
    assert page._repr_html_().startswith("<iframe srcdoc=")
    assert "<h1>Patient 007</h1>" in page.html and page.html.count('<img src="data:image/png;base64,') == 3
    with pytest.raises(npcql.Error, match="not a patient id"):
        con.patient("none")


def test_report_renders_and_shows_inline(con, tmp_path):
    report = con.report(ROOT / "queries" / "survival_report.sql")
    assert report.html.startswith("<!DOCTYPE html>") and report.figures
    assert report._repr_html_().startswith("<iframe srcdoc=")
    report.save(tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text() == report.html
    with pytest.raises(npcql.FileError, match="cannot read the report"):
        con.report(tmp_path / "missing.sql")


def test_help_reads_well():
    assert "strict" in npcql.connect.__doc__ and "NPCQL_DATA" in npcql.connect.__doc__
    assert npcql.Connection.sql.__doc__ and npcql.QueryResult.to_arrow.__doc__


def test_example_script_runs(tmp_path):
    script = ROOT / "python" / "examples" / "survival_analysis.py"
    done = subprocess.run([sys.executable, str(script), "--data", str(DATA), "--out", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "log-rank p" in done.stdout
    assert (tmp_path / "pfs_by_ebv.svg").read_text().startswith("<svg")


def test_memory_limit_and_no_external_files(tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n")
    assert npcql.connect(DATA).sql(f"SELECT * FROM '{outside}'").fetchall() == [(1,)]
    guarded = npcql.connect(DATA, no_external_files=True, memory_limit="1k")
    with pytest.raises(npcql.AccessError, match="outside the dataset"):
        guarded.sql(f"SELECT * FROM '{outside}'")
    with pytest.raises(npcql.SqlError, match="Resources exhausted"):
        guarded.sql("SELECT patient_id FROM patients ORDER BY pfs_months")
    assert npcql.connect(DATA, memory_limit=1 << 30).sql("SELECT count(*) FROM patients").fetchall() == [(48,)]
    with pytest.raises(ValueError, match="not a size"):
        npcql.connect(DATA, memory_limit="lots")


def test_model_outputs_are_scored_in_sql_and_pandas(tmp_path):
    """The sample's simulated models through the predictions table, and another folder by
    ``predictions=``: an nnU-Net-style output named NPC_NNN.nii.gz."""
    con = npcql.connect(DATA)
    scores = con.sql(
        "SELECT p.model, avg(dice(m.path, p.path)) AS dice FROM predictions p "
        "JOIN masks m USING (patient_id, modality) WHERE p.error IS NULL GROUP BY p.model ORDER BY p.model"
    ).to_pandas()
    assert list(scores["model"]) == ["dilated", "shifted"]
    assert all(0.5 < d < 1 for d in scores["dice"])

    model = tmp_path / "nnunet"
    model.mkdir()
    (model / "NPC_001.nii.gz").write_bytes((DATA / "predictions/dilated/MRI-Segments/001/ROI-T2.nii.gz").read_bytes())
    other = npcql.connect(DATA, predictions=tmp_path)
    rows = other.sql(
        "SELECT p.patient_id, round(dice(m.path, p.path), 3) AS dice FROM predictions p "
        "JOIN masks m USING (patient_id, modality) WHERE p.error IS NULL"
    ).fetchall()
    assert rows == [("001", 0.866)]


def test_a_restarted_kernel_reads_the_cache_the_first_one_filled(tmp_path):
    """Two Python processes (a kernel restarted) with one cache folder give the rows of an
    uncached connection."""
    sql = "SELECT patient_id, modality, volume_mm3, surface_area_mm2 FROM morphology ORDER BY 1, 2"
    script = (
        "import sys, npcql\n"
        f"con = npcql.connect({str(DATA)!r}, cache={str(tmp_path / 'cache')!r})\n"
        f"print(con.sql({sql!r}).fetchall())\n"
    )
    time.sleep(0.2)
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120) for _ in range(2)]
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    assert runs[0].stdout == runs[1].stdout == repr(npcql.connect(DATA, cache=False).sql(sql).fetchall()) + "\n"
    assert (tmp_path / "cache" / "v1" / "morphology").is_dir()


def test_no_external_files_turns_the_default_cache_off(tmp_path, monkeypatch):
    monkeypatch.setenv("NPCQL_CACHE_DIR", str(tmp_path / "cache"))
    npcql.connect(DATA, no_external_files=True).sql("SELECT count(*) FROM morphology").fetchall()
    assert not (tmp_path / "cache").exists()
    npcql.connect(DATA).sql("SELECT count(*) FROM scans").fetchall()
    assert (tmp_path / "cache" / "v1").is_dir()
