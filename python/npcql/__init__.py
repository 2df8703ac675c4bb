"""npcql: SQL over the nasopharyngeal-carcinoma MRI dataset, from Python.

Open the dataset, run npcql's SQL (tumour morphology, survival statistics) and get Arrow data
back without a copy::

    import npcql
    con = npcql.connect("data-sample")
    res = con.sql("SELECT ebv_status, km_median(pfs_months, pfs_event) AS median_pfs "
                  "FROM patients GROUP BY 1")
    res.to_arrow()          # pyarrow.Table (also to_pandas(), to_polars(), fetchall())
    npcql.km_plot(con.sql("SELECT pfs_months AS time, pfs_event AS event, "
                          "ebv_status AS \\"group\\" FROM patients"))

A result implements the Arrow PyCapsule interface (``__arrow_c_stream__``), so
``pyarrow.table(res)``, ``polars.DataFrame(res)`` and DuckDB's ``SELECT * FROM res`` read it
directly. Errors are :class:`npcql.Error` and its subclasses, with the command line's one-line
message: :class:`SqlError` (bad SQL, a missing ``$NAME`` value), :class:`DatasetError` (no
dataset at the folder), :class:`FileError` (a file that cannot be read or written; under
``strict``, also an unreadable mask inside a function such as ``tumor_volume(path)``),
:class:`ConfigError` (``npcql.toml`` or a folder given to :func:`connect`),
:class:`AccessError` (a file outside the dataset when the connection keeps to it),
:class:`ReportError` (a report's comments or rows) and :class:`ExportError` (an export's folder
exists, lies inside the dataset, or a case failed under ``strict``). Queries release the GIL; Ctrl-C (KeyboardInterrupt) cancels a running query; one
connection may be shared by several threads.
"""

from __future__ import annotations

import datetime
import decimal
import html
import math
import os
import threading
import warnings as _warnings
from typing import TYPE_CHECKING, Any, Mapping

from . import _native
from ._native import AccessError, ConfigError, DatasetError, Error, ExportError, FileError, ReportError, SqlError

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow

__all__ = [
    "connect",
    "Connection",
    "QueryResult",
    "Report",
    "Figure",
    "km_plot",
    "forest_plot",
    "Picture",
    "slice_plot",
    "slice_grid",
    "Error",
    "SqlError",
    "DatasetError",
    "FileError",
    "ReportError",
    "ConfigError",
    "AccessError",
    "ExportError",
    "Export",
    "NpcqlWarning",
]
__version__: str = _native.__version__

# Rows a result shows when printed (the command line's table) before it says how many more.
_PRINTED_ROWS = 40


class NpcqlWarning(UserWarning):
    """A problem with the data that did not stop the query: an unreadable mask (its value is
    NULL), a clinical cell that could not be read. ``Connection.warnings()`` lists them all."""


def connect(
    path: str | os.PathLike[str] | None = None,
    *,
    strict: bool = False,
    memory_limit: int | str | None = None,
    no_external_files: bool = False,
    predictions: str | os.PathLike[str] | None = None,
    cache: bool | str | os.PathLike[str] | None = None,
) -> Connection:
    """Open the dataset at ``path`` and return a :class:`Connection` to query it.

    ``path`` is the dataset folder (the archive root, ``ROOT/data`` or ``MRI-Segments``), as
    ``npcql -d`` takes it; by default ``$NPCQL_DATA``, else ``./data-sample``. The clinical
    sheet is read now; DICOM and NIfTI headers when a query first needs them.

    With ``strict=True`` a bad input (an unreadable mask, a clinical cell that cannot be read)
    raises :class:`npcql.FileError` instead of giving NULL and a warning; so does a path
    function (``tumor_volume(path)``, ``dice(a, b)``, …) given a file it cannot read.

    ``memory_limit`` (bytes, or a size such as ``"2g"``) bounds what queries may hold, as the
    command line's ``--memory-limit``. ``no_external_files=True`` refuses files outside the
    dataset (quoted paths, ``CREATE EXTERNAL TABLE``, ``COPY``, path functions on other
    files), as ``--no-external-files``: for services that run their users' SQL. A quoted path
    inside the dataset (or the predictions folder), resolved through symlinks and ``..``, still
    reads; one outside raises :class:`npcql.AccessError` naming the path and the folder.

    ``predictions`` is the folder of model outputs for the ``predictions`` table (one subfolder
    per model), as ``-p``; by default ``npcql.toml``'s ``[predictions] dir``, else
    ``predictions`` in the dataset folder.

    ``cache`` keeps headers and computed features on disk, so a restarted kernel does not
    read and mesh again what it did before: ``True`` (the default, except with
    ``no_external_files=True``) uses ``$NPCQL_CACHE_DIR``, else ``$XDG_CACHE_HOME/npcql``, else
    ``~/.cache/npcql``; a folder uses that folder; ``False`` runs uncached. A folder that
    cannot be used is a warning, and the queries run uncached.

    Raises :class:`npcql.DatasetError` when the folder is missing or not laid out as the
    dataset is, :class:`npcql.FileError` when its clinical sheet cannot be read,
    :class:`npcql.ConfigError` when ``npcql.toml`` cannot be used or ``predictions`` is not a
    folder, ``ValueError`` when ``memory_limit`` is not a size.
    """
    return Connection(
        path,
        strict=strict,
        memory_limit=memory_limit,
        no_external_files=no_external_files,
        predictions=predictions,
        cache=cache,
    )


class Connection:
    """An open dataset: the tables ``patients``, ``scans``, ``masks``, ``dataset_issues`` and
    ``predictions`` and the view ``morphology``, with npcql's SQL functions. Safe to share between
    threads."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        strict: bool = False,
        memory_limit: int | str | None = None,
        no_external_files: bool = False,
        predictions: str | os.PathLike[str] | None = None,
        cache: bool | str | os.PathLike[str] | None = None,
    ) -> None:
        limit = None if memory_limit is None else str(memory_limit)
        folder = None if cache is None or isinstance(cache, bool) else os.fspath(cache)
        default_cache = cache is True or (cache is None and not no_external_files)
        self._native = _native.Connection(
            None if path is None else os.fspath(path),
            strict,
            limit,
            no_external_files,
            None if predictions is None else os.fspath(predictions),
            folder,
            default_cache,
        )
        self._strict = strict
        self._warnings: list[str] = []
        self._lock = threading.Lock()
        self._collect_warnings()

    def sql(self, query: str, params: Mapping[str, Any] | None = None) -> QueryResult:
        """Run ``query`` (one or more statements; the last one's rows are returned).

        ``$NAME`` placeholders take their values from ``params`` with their Python types: a
        ``str`` is always a string (``{"id": "001"}`` gives ``'001'``), ``int``/``float``/
        ``Decimal`` a number, ``bool`` TRUE/FALSE, ``None`` NULL, ``date``/``datetime`` a
        DATE/TIMESTAMP.

        Raises :class:`npcql.SqlError` for bad SQL or a missing parameter (the message says
        where); when the connection is strict, :class:`npcql.FileError` for a file a function
        cannot read (an unreadable mask inside ``tumor_volume(path)``); with
        ``no_external_files=True``, :class:`npcql.AccessError` for a file outside the dataset
        (a quoted path, ``COPY``, or under ``strict`` a path function's argument).
        Ctrl-C cancels the query and raises KeyboardInterrupt.
        """
        literals = None if params is None else _literals(params)
        result = QueryResult(self._native.sql(query, literals))
        self._collect_warnings()
        return result

    def tables(self) -> list[str]:
        """The names of the tables and views, sorted."""
        return self._native.tables()

    def schema(self, table: str) -> pyarrow.Schema:
        """The columns and types of ``table`` as a ``pyarrow.Schema`` (no header is read)."""
        import pyarrow

        return pyarrow.schema(self._native.table_schema(table))

    def warnings(self, clear: bool = False) -> list[str]:
        """Every warning this connection has recorded, oldest first: unreadable masks (whose
        values are NULL), clinical cells that could not be read. ``clear=True`` empties the
        list after returning it."""
        with self._lock:
            listed = list(self._warnings)
            if clear:
                self._warnings.clear()
        return listed

    def report(self, path: str | os.PathLike[str], params: Mapping[str, Any] | None = None) -> Report:
        """Render the report file at ``path`` (a ``.sql`` file with ``-- show:`` comments, as
        ``npcql report`` takes it). The result shows inline in Jupyter; ``.save(file)`` writes
        the page. Raises :class:`npcql.ReportError` when a view cannot be drawn."""
        literals = None if params is None else _literals(params)
        page, figures, warnings = self._native.report(os.fspath(path), literals)
        self._collect_warnings()
        return Report(page, dict(figures), warnings)

    def patient(self, patient_id: str | int) -> Report:
        """One patient's page, the one the shell's ``.patient`` writes: the clinical row, the
        series, the tumour's morphology per sequence and the tumour on each sequence. Shows
        inline in Jupyter. ``"007"``, ``"7"`` and ``7`` are patient 007."""
        page, figures, warnings = self._native.patient(str(patient_id))
        self._collect_warnings()
        return Report(page, dict(figures), warnings)

    def export(
        self,
        layout: str,
        out: str | os.PathLike[str],
        *,
        sql: str | None = None,
        test: str | None = None,
        params: Mapping[str, Any] | None = None,
        channels: str | list[str] = "T2",
        label: str = "T2",
        dataset_id: int = 501,
        name: str = "NPC",
        folds: int = 5,
        stratify: str | None = None,
        seed: int = 12345,
        preprocessed: str | os.PathLike[str] | None = None,
        force: bool = False,
        dry_run: bool = False,
        compression_level: int = 1,
        threads: int | None = None,
    ) -> Export:
        """Write the cohort ``sql`` selects (any query returning ``patient_id``; every patient when
        None) as a training dataset, as ``npcql export`` does: ``layout`` ``"nnunet"`` (``out`` is
        the nnUNet_raw folder; ``DatasetNNN_NAME`` is made in it) or ``"monai"`` (``out`` is the
        dataset folder, with ``datalist.json``). ``test`` selects test cases, kept out of
        training; ``params`` binds ``$NAME`` in both as :meth:`sql` does. ``channels`` as
        ``"T2,T1"`` or a list. ``dry_run=True`` checks and plans without writing. A case that
        cannot be read is left out and listed in ``.left_out`` (an :class:`ExportError` when the
        connection is strict). Raises :class:`ExportError` when the export exists (``force=True``
        replaces it) or ``out`` lies inside the dataset."""
        if isinstance(channels, str):
            channels = [c.strip() for c in channels.split(",")]
        outcome = self._native.export(
            layout,
            os.fspath(out),
            dataset_id,
            name,
            sql,
            test,
            None if params is None else _literals(params),
            list(channels),
            label,
            folds,
            stratify,
            seed,
            None if preprocessed is None else os.fspath(preprocessed),
            force,
            dry_run,
            compression_level,
            threads,
        )
        self._collect_warnings()
        return Export(*outcome, dry_run=dry_run)

    def __repr__(self) -> str:
        return f"<npcql.Connection tables={self.tables()}>"

    def _collect_warnings(self) -> None:
        new = self._native.take_warnings()
        if not new:
            return
        with self._lock:
            self._warnings.extend(new)
        if self._strict:
            raise FileError(new[0])
        more = f" (and {len(new) - 1} more; connection.warnings() lists them)" if len(new) > 1 else ""
        # stacklevel 3: the caller of sql()/report()/connect().
        _warnings.warn(new[0] + more, NpcqlWarning, stacklevel=3)


class Export:
    """What :meth:`Connection.export` wrote: ``folder``; ``cases``, one dict per case
    (``case_id``, ``patient_id``, ``fold`` (None for a test case), ``stratum``, ``pairing``);
    ``left_out`` as (patient_id, reason); ``splits``, where ``splits_final.json`` went, and
    ``copy_step``, the command that puts it where nnU-Net reads it when it could not go there."""

    def __init__(
        self,
        folder: str,
        cases: list[tuple[str, str, int | None, str | None, str]],
        left_out: list[tuple[str, str]],
        splits: str | None,
        copy_step: str | None,
        bytes_written: int,
        *,
        dry_run: bool,
    ) -> None:
        self.folder = folder
        keys = ("case_id", "patient_id", "fold", "stratum", "pairing")
        self.cases = [dict(zip(keys, case)) for case in cases]
        self.left_out = left_out
        self.splits = splits
        self.copy_step = copy_step
        self.bytes_written = bytes_written
        self.dry_run = dry_run

    def __repr__(self) -> str:
        verb = "would write" if self.dry_run else "wrote"
        test = sum(1 for c in self.cases if c["fold"] is None)
        return (
            f"<npcql.Export {verb} {len(self.cases)} cases ({len(self.cases) - test} training, {test} test) "
            f"to {self.folder}; {len(self.left_out)} left out>"
        )


class QueryResult:
    """One statement's rows: Arrow record batches held by the engine.

    Convert with :meth:`to_arrow`, :meth:`to_pandas`, :meth:`to_polars` or :meth:`fetchall`, or
    hand it to any library that reads the Arrow PyCapsule interface. Printing it shows the
    command line's table; Jupyter shows an HTML table.
    """

    def __init__(self, native: _native.QueryResult) -> None:
        self._native = native

    @property
    def columns(self) -> list[str]:
        """The column names."""
        return self._native.columns

    @property
    def num_rows(self) -> int:
        return self._native.num_rows

    def __len__(self) -> int:
        return self._native.num_rows

    def to_arrow(self) -> pyarrow.Table:
        """The rows as a ``pyarrow.Table`` that reads the engine's buffers (no copy)."""
        import pyarrow

        return pyarrow.table(self)

    def to_pandas(self) -> pandas.DataFrame:
        """The rows as a pandas DataFrame (through pyarrow)."""
        return self.to_arrow().to_pandas()

    def to_polars(self) -> polars.DataFrame:
        """The rows as a polars DataFrame (no copy)."""
        import polars

        return polars.from_arrow(self.to_arrow())

    def fetchall(self) -> list[tuple[Any, ...]]:
        """The rows as a list of tuples of Python values (STRUCTs as dicts, LISTs as lists)."""
        table = self.to_arrow()
        return list(zip(*(column.to_pylist() for column in table.columns)))

    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        return self._native.__arrow_c_stream__(requested_schema)

    def __arrow_c_schema__(self) -> object:
        return self._native.__arrow_c_schema__()

    def __repr__(self) -> str:
        text = self._native.table_text(_PRINTED_ROWS)
        return text.rstrip("\n") if text else "<npcql.QueryResult: no columns>"

    def _repr_html_(self) -> str:
        return self._native.html_table()


class Figure:
    """An SVG figure drawn by npcql's renderer (the one ``npcql report`` uses). Shows inline in
    Jupyter; ``.svg`` is the document, ``.caption`` says what it shows, ``.save(file)`` writes it."""

    def __init__(self, svg: str, caption: str) -> None:
        self.svg = svg
        self.caption = caption

    def save(self, path: str | os.PathLike[str]) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.svg)

    def _repr_svg_(self) -> str:
        return self.svg

    def __repr__(self) -> str:
        return f"<npcql.Figure: {self.caption}>"


def km_plot(result: QueryResult, unit: str = "months") -> Figure:
    """The Kaplan–Meier figure of a result with columns ``time``, ``event`` (1 progression or
    death, 0 censored) and optionally ``group``: curves with 95% bands, censor ticks, medians,
    the log-rank p and the number-at-risk table, as ``-- show: km`` draws them in a report.
    ``unit`` labels the time axis. Raises :class:`npcql.ReportError` for a missing column."""
    svg, caption = _native_of(result).km_plot(unit)
    return Figure(svg, caption)


def forest_plot(result: QueryResult) -> Figure:
    """The forest plot of a result with columns ``label``, ``hr``, ``hr_lower``, ``hr_upper``,
    ``p`` (and optionally ``n``, ``events``), as ``-- show: forest`` draws it."""
    svg, caption = _native_of(result).forest_plot()
    return Figure(svg, caption)


class Picture:
    """A PNG drawn by npcql's tumour renderer (the one ``-- show: slices`` uses). Shows inline in
    Jupyter; ``.png`` is the file's bytes, ``.legend`` says what it shows (slice, window, each
    outline), ``.save(file)`` writes it."""

    def __init__(self, png: bytes, width: int, height: int, legend: list[str]) -> None:
        self.png = png
        self.width = width
        self.height = height
        self.legend = legend

    def save(self, path: str | os.PathLike[str]) -> None:
        with open(path, "wb") as f:
            f.write(self.png)

    def _repr_png_(self) -> bytes:
        return self.png

    def __repr__(self) -> str:
        return f"<npcql.Picture: {self.width}×{self.height}, {'; '.join(self.legend)}>"


def slice_plot(
    series_dir: str | os.PathLike[str],
    mask_path: str | os.PathLike[str],
    slice: int | None = None,
    window: tuple[float, float] | None = None,
    compare: str | os.PathLike[str] | None = None,
    crop: bool = True,
    size: int = 256,
) -> Picture:
    """One slice of a DICOM series with the mask's outline drawn along voxel edges, in
    radiological orientation (letters from the series' direction cosines) with a scale bar.

    ``slice``: an index in position order (the ``radiomics`` diagnostics' numbering); default the
    slice with the largest tumour area. ``window``: (low, high) in real units; default the whole
    series' 1st–99th percentile. ``compare``: a second mask drawn in another colour through
    scanner space. ``crop``: the tumour's box plus 10 mm (else the whole slice). ``size``: the
    longer side's bound in pixels. Raises :class:`npcql.FileError` naming the file and the fault."""
    png, width, height, legend = _native.slice_plot(
        os.fspath(series_dir),
        os.fspath(mask_path),
        slice,
        None if window is None else (float(window[0]), float(window[1])),
        None if compare is None else os.fspath(compare),
        crop,
        size,
    )
    return Picture(png, width, height, legend)


def slice_grid(result: QueryResult) -> Picture:
    """The pictures of a result's rows as one PNG, three to a row: the columns of
    ``-- show: slices`` (``series_dir``, ``path``; optional ``caption``, ``compare_path``,
    ``slice``, and ``x_lps_mm``, ``y_lps_mm``, ``z_lps_mm`` for the slice nearest that scanner
    point). A row that cannot be drawn shows its fault in its cell."""
    png, width, height, legend = _native_of(result).slice_grid()
    return Picture(png, width, height, legend)


class Report:
    """A rendered report: ``.html`` (one self-contained page), ``.figures`` (file name to SVG),
    ``.warnings``. Shows inline in Jupyter; ``.save(file)`` writes the page."""

    def __init__(self, page: str, figures: dict[str, str], warnings: list[str]) -> None:
        self.html = page
        self.figures = figures
        self.warnings = warnings

    def save(self, path: str | os.PathLike[str]) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.html)

    def _repr_html_(self) -> str:
        # The page has its own <html>, styles and title: a frame keeps them from the notebook's.
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
            'style="width:100%;height:80vh;border:none"></iframe>'
        )

    def __repr__(self) -> str:
        return f"<npcql.Report: {len(self.html)} bytes, {len(self.figures)} figures, {len(self.warnings)} warnings>"


def _native_of(result: QueryResult) -> _native.QueryResult:
    if not isinstance(result, QueryResult):
        raise TypeError(f"expected an npcql.QueryResult (from connection.sql), got {type(result).__name__}")
    return result._native


def _literals(params: Mapping[str, Any]) -> dict[str, str]:
    """Each parameter as the SQL literal of its Python value."""
    return {str(name).lstrip("$"): _literal(name, value) for name, value in params.items()}


def _literal(name: object, value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"CAST('{value}' AS DOUBLE)"
    if isinstance(value, decimal.Decimal):
        return str(value) if value.is_finite() else f"CAST('{value}' AS DOUBLE)"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, datetime.datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, datetime.date):
        return f"DATE '{value.isoformat()}'"
    raise TypeError(f"params: ${name} is a {type(value).__name__}; use str, int, float, bool, None or a date")
