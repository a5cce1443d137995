"""Use cases: the one layer the CLI, the REST API and the web UI call.

Nothing here knows about Typer, Rich or HTTP; every function takes plain arguments and
returns plain data (dataclasses with ``to_dict()``), so each adapter stays thin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from segmint.config import ExternalTableConfig, ReadOptions, SourceConfig
from segmint.datamodel import ENTITIES, Entity, entity, external_entity
from segmint.exceptions import ConfigError, InputError, UnknownTableError
from segmint.identity import IdentityReport, resolve_identities
from segmint.ingest import LoadReport, load_source
from segmint.ingest._readers import is_url
from segmint.project import Project
from segmint.runs import RunResult, current_members

if TYPE_CHECKING:
    from segmint.models import CLVFit, TransactionFile

Progress = Callable[[int], None]

__all__ = ["InputError", "LoadReport", "Project", "ReadOptions", "RunResult"]


def init_project(
    folder: Path | str, *, name: str | None = None, engine_url: str | None = None
) -> Project:
    """Create a new project folder with ``segmint.yaml`` and an empty store."""
    project = Project.create(folder, name=name, engine_url=engine_url)
    project.engine  # noqa: B018  (creates the store file now, so the folder is complete)
    return project


def open_project(folder: Path | str) -> Project:
    return Project.open(folder)


def table_entity(project: Project, table: str, key: list[str] | None = None) -> Entity:
    """The entity for ``table``: the data model's, or a declared external table's.

    ``key`` declares ``table`` as a new external table (saved in ``segmint.yaml``).
    """
    if table in ENTITIES:
        if key:
            raise ConfigError(f"{table!r} is a table of the data model; its key is fixed")
        return entity(table)
    ext = project.config.external.get(table)
    if ext is None and key:
        ext = ExternalTableConfig(key=list(key))
        project.config.external[table] = ext
    if ext is None:
        try:
            return entity(table)
        except UnknownTableError as e:
            raise UnknownTableError(
                f"{e}; to load it as an external table, give its key: --key COLUMN"
            ) from None
    if not table.isidentifier() or table.startswith("_"):
        raise ConfigError(f"external table name {table!r} must be a plain identifier")
    return external_entity(table, tuple(ext.key))


def load(
    project: Project,
    table: str,
    file: str | Path,
    *,
    source: str | None = None,
    mapping: Mapping[str, str] | None = None,
    options: ReadOptions | None = None,
    read: Mapping[str, Any] | None = None,
    key: list[str] | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Validated, atomic, idempotent load of ``file`` into ``table``; records the source.

    The mapping that was used and the options that were detected are saved in
    ``segmint.yaml`` under ``sources``, so the next load of the same source reads it alike.
    ``options`` replaces the saved read options; ``read`` overrides some of them
    (``{"sheet": "Ark1"}``).
    """
    ent = table_entity(project, table, key)
    path = str(file) if is_url(str(file)) else str(Path(file).resolve())
    name = source or (Path(path).stem if not is_url(path) else f"{table}_db")
    known = project.config.source(name)
    saved = dict(known.mapping) if known and known.table == table else {}
    opts = options or (known.options if known and known.table == table else ReadOptions())
    if read:
        opts = opts.model_copy(update={k: v for k, v in read.items() if v is not None})
    report = load_source(
        project.engine,
        table,
        ent,
        path,
        source_name=name,
        options=opts,
        overrides=mapping,
        saved_mapping=saved,
        progress=progress,
    )
    detected = opts.model_copy(
        update={
            "encoding": opts.encoding or report.encoding,
            "delimiter": opts.delimiter or report.delimiter,
            "decimal": opts.decimal or report.decimal,
        }
    )
    from segmint.activation._erasure import reloaded

    report.previously_erased = reloaded(project.engine, table, report.load_id)
    project.config.upsert_source(
        SourceConfig(
            name=name,
            table=table,
            path=path if is_url(path) else project.relative(path),
            mapping=report.mapping,
            options=detected,
        )
    )
    project.save()
    from segmint.serving import publish_if_served

    publish_if_served(project)
    return report


def identities(project: Project) -> IdentityReport:
    """Resolve customer records to persons (and contacts to their company), atomically."""
    with project.engine.transaction():
        return resolve_identities(project.engine.con, project.config.identity)


@dataclass(frozen=True)
class TableStatus:
    table: str
    rows: int


def status(project: Project) -> list[TableStatus]:
    """Row counts of the data tables present in the store."""
    eng = project.engine
    names = [*ENTITIES, *project.config.external, "quarantine", "identities"]
    return [TableStatus(n, eng.count(n)) for n in names if eng.has_table(n)]


# -- demo -----------------------------------------------------------------------------------
DEMO_MARKER = ".segmint-demo"
DEMO_EXTERNAL_KEYS: dict[str, list[str]] = {
    "market_households": ["region", "age_band"],
    "market_companies": ["nace_code", "size_band"],
    "market_wallet": ["region", "age_band", "category"],
}


@dataclass(frozen=True)
class DemoSummary:
    """What ``segmint demo`` built, loaded and resolved."""

    project: str
    store: str
    truth_dir: str
    customers: int
    seed: int
    b2b: bool
    loads: list[LoadReport]
    quarantine_reasons: dict[str, int]
    identity: IdentityReport
    run: RunResult
    report: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "store": self.store,
            "truth_dir": self.truth_dir,
            "customers": self.customers,
            "seed": self.seed,
            "b2b": self.b2b,
            "loads": [r.to_dict() for r in self.loads],
            "rows_loaded": {r.table: 0 for r in self.loads} | _sum_by_table(self.loads),
            "quarantine_reasons": self.quarantine_reasons,
            "identity": self.identity.to_dict(),
            "run": self.run.to_dict(),
            "report": self.report,
        }


def _sum_by_table(loads: list[LoadReport]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for r in loads:
        totals[r.table] = totals.get(r.table, 0) + r.rows_loaded
    return totals


def build_demo(
    folder: Path | str,
    *,
    customers: int = 50_000,
    seed: int = 0,
    b2b: bool = False,
    step: Callable[[str], None] | None = None,
    report: bool = False,
) -> DemoSummary:
    """Generate a Nordic demo company, write its messy exports, load them, resolve identities,
    run it, and with ``report`` write its report (``report.html``; ``segmint demo`` does).

    A folder that holds an earlier demo is rebuilt; any other existing project is refused.
    """
    import shutil

    from segmint.demo import generate, write_exports

    say = step or (lambda _m: None)
    root = Path(folder).resolve()
    if (root / "segmint.yaml").exists():
        if not (root / DEMO_MARKER).exists():
            raise ConfigError(
                f"{root} holds a project that is not a demo; choose another folder for the demo"
            )
        from segmint.serving import set_aside

        restore_server = set_aside(root)  # tokens and the served mark outlive the rebuild
        shutil.rmtree(root)
    else:
        restore_server = None
    say(f"Generating {customers:,} {'companies' if b2b else 'customers'} (seed {seed})")
    data = generate(n_customers=customers, seed=seed, b2b=b2b)
    project = init_project(root, name="segmint demo (B2B)" if b2b else "segmint demo")
    (root / DEMO_MARKER).write_text(f"customers={customers} seed={seed} b2b={b2b}\n")
    try:
        truth_dir = root / "truth"
        truth_dir.mkdir(exist_ok=True)
        data.save_truth(truth_dir)
        say("Writing export files (cp1252, ';', decimal commas, a few bad rows)")
        files = write_exports(data, root / "exports", seed=seed)
        loads: list[LoadReport] = []
        for f in files:
            say(f"Loading {f.path.name} -> {f.table}")
            loads.append(
                load(
                    project,
                    f.table,
                    f.path,
                    source=f.source,
                    key=DEMO_EXTERNAL_KEYS.get(f.table)
                    if f.table not in project.config.external
                    else None,
                )
            )
        say("Resolving identities")
        ident = identities(project)
        from segmint.demo._segments import B2B_SEGMENTS, B2C_SEGMENTS, DEMO_AS_OF
        from segmint.profiles import demo_market
        from segmint.segments import parse_segments

        project.config.segments = parse_segments(B2B_SEGMENTS if b2b else B2C_SEGMENTS)
        from segmint.demo._activation import demo_actions, demo_owners

        project.config.actions.next_best_action = demo_actions(b2b)  # docs/actions.md
        if b2b:  # a sales-ops lead's accounts get owners on every run
            project.config.actions.owners = demo_owners(data.tables["customers"])
        project.config.runs.as_of = DEMO_AS_OF
        # a webshop's customers buy again unannounced: CLV scores fit them; a wholesaler
        # wins and loses deals: the lead score learns from them (the ICP if they are few)
        project.config.models.clv.enabled = not b2b
        if not b2b:  # a statistics office's spending table and the survey's stated spend
            from segmint.demo._wallet import SURVEY_COLUMN

            project.config.models.wallet.enabled = True
            project.config.models.wallet.survey_column = SURVEY_COLUMN
        project.config.profiles.market = demo_market(b2b)
        if b2b:
            from segmint.config import IcpRule
            from segmint.segments import parse_rule

            leads = project.config.models.lead_score
            leads.enabled = True
            leads.icp = [
                IcpRule(rule=parse_rule({"field": "nace_code", "op": "starts_with",
                                         "value": "62"}), weight=2),
                IcpRule(rule=parse_rule({"field": "employees", "op": "between",
                                         "value": [11, 17]})),
            ]  # fmt: skip
        project.save()
        if restore_server is not None:  # before the run, so that it publishes (loads don't)
            restore_server()
        say(f"Running traits, families and {len(project.config.segments)} segments")
        first_run = run(project)
        if report:
            say("Writing the report")
            from segmint.report import write_report

            report_path = write_report(project, root / "report.html").path
        reasons: dict[str, int] = {}
        for r in loads:
            for k, v in r.reasons.items():
                reasons[k] = reasons.get(k, 0) + v
        return DemoSummary(
            project=str(root),
            store=str(project.engine.url),
            truth_dir=str(truth_dir),
            customers=customers,
            seed=seed,
            b2b=b2b,
            loads=loads,
            quarantine_reasons=dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
            identity=ident,
            run=first_run,
            report=report_path if report else None,
        )
    finally:
        project.close()
        if restore_server is not None:
            restore_server()  # (a no-op when done before the run)


# -- runs, segments and customers -----------------------------------------------------------
def person_id(project: Project, customer_id: str) -> str:
    """The person a customer id belongs to (itself when identities were not resolved)."""
    eng = project.engine
    if not eng.has_table("identities"):
        return customer_id
    ids = eng.table("identities")
    found = ids.filter(ids.customer_id == customer_id).person_id.to_pyarrow().to_pylist()
    return str(found[0]) if found else customer_id


@dataclass(frozen=True)
class CustomerView:
    """Everything segmint knows about one customer (person)."""

    customer_id: str
    records: list[dict[str, Any]]
    traits: dict[str, Any]
    segments: list[str]
    history: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "records": self.records,
            "traits": self.traits,
            "segments": self.segments,
            "history": self.history,
        }


def customer(project: Project, customer_id: str) -> CustomerView:
    """One customer: their records from every source, traits and scores as of the last run,
    current segments and the history of entering and leaving segments."""
    from segmint.exceptions import CustomerNotFoundError
    from segmint.segments import _snapshots as snapshots

    eng = project.engine
    pid = person_id(project, customer_id)
    records: list[dict[str, Any]] = []
    if eng.has_table("customers"):
        c = eng.table("customers")
        if eng.has_table("identities"):
            ids = eng.table("identities")
            mine = ids.filter(ids.person_id == pid).select("customer_id")
            c = c.semi_join(mine, "customer_id")
        else:
            c = c.filter(c.customer_id == pid)
        records = c.order_by(["customer_id", "_source"]).to_pyarrow().to_pylist()
    traits: dict[str, Any] = {}
    if eng.has_table("customer_traits"):
        t = eng.table("customer_traits")
        rows = t.filter(t.customer_id == pid).to_pyarrow().to_pylist()
        traits = rows[0] if rows else {}
    if not records and not traits:
        raise CustomerNotFoundError(f"no customer {customer_id!r} in this project")
    segments: list[str] = []
    cur = current_members(eng)
    if cur is not None:
        segments = sorted(cur.filter(cur.customer_id == pid).segment.to_pyarrow().to_pylist())
    history: list[dict[str, Any]] = []
    if eng.has_table(snapshots.DELTAS):
        history = snapshots.customer_history(eng, pid).to_pyarrow().to_pylist()
    return CustomerView(pid, records, traits, segments, history)


def members(project: Project, segment: str, *, limit: int | None = 100) -> list[str]:
    """Members of ``segment`` at the last run, sorted."""
    eng = project.engine
    cur = current_members(eng)
    if cur is None:
        raise ConfigError("no run yet: run 'segmint run' first")
    q = cur.filter(cur.segment == segment).select("customer_id").order_by("customer_id")
    if limit is not None:
        q = q.limit(limit)
    return [str(x) for x in q.customer_id.to_pyarrow().to_pylist()]


def _as_of(project: Project, as_of: datetime | date | str | None) -> datetime | None:
    value = as_of if as_of is not None else project.config.runs.as_of
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ConfigError(f"as-of {value!r} is not a date: write e.g. 2026-09-30") from None
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value


def run(
    project: Project,
    *,
    as_of: datetime | date | str | None = None,
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """Evaluate traits, families and segments as of a date, and publish them as one run."""
    from segmint.runs import run as run_once
    from segmint.segments._evaluate import evaluate

    config = project.config
    result = run_once(
        project.engine,
        lambda engine, when: evaluate(engine, config, when, incremental=config.runs.incremental),
        as_of=_as_of(project, as_of),
        keep_snapshots=config.runs.keep_snapshots,
        progress=progress,
    )
    from segmint.activation import sync_configured

    result.syncs = [r.to_dict() for r in sync_configured(project)]
    owners = config.actions.owners
    if owners.enabled and (owners.accounts is None or owners.accounts in result.segments):
        # (without its account segment, 'segmint owners assign' says what is wrong)
        from segmint.actions import assign_account_owners

        assign_account_owners(project.engine, config)
    from segmint.serving import publish_if_served

    publish_if_served(project)  # what segmint serve reads (docs/api.md)
    return result


@dataclass(frozen=True)
class Preview:
    """How many customers a definition would select, and a few of them."""

    count: int
    sample: list[str]
    as_of: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "sample": self.sample, "as_of": self.as_of}


def preview(
    project: Project, definition: Mapping[str, Any] | str | Path, *, as_of: Any = None
) -> Preview:
    """Count a segment definition (a YAML file, YAML text or a mapping) without saving it.

    The file may hold a whole segment (``name``, ``description``, ``rule``) or just a rule.
    """
    import yaml

    from segmint.segments._evaluate import preview as count_rule
    from segmint.segments._parse import parse_rule

    data: Any = definition
    if isinstance(definition, Path) or (isinstance(definition, str) and Path(definition).exists()):
        data = yaml.safe_load(Path(definition).read_text(encoding="utf-8"))
    elif isinstance(definition, str):
        data = yaml.safe_load(definition)
    if isinstance(data, dict) and "rule" in data:
        data = data["rule"]
    rule = parse_rule(data)
    when = _as_of(project, as_of) or datetime.now(UTC).replace(tzinfo=None)
    count, sample = count_rule(project.engine, project.config, rule, when)
    return Preview(count, sample, when)


@dataclass(frozen=True)
class SegmentInfo:
    """A segment as listed: definition and its size at the last run."""

    name: str
    kind: str
    description: str
    size: int | None
    entered: int | None
    exited: int | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def segments(project: Project) -> list[SegmentInfo]:
    """Every segment (rule segments first, then family cells) with its last run's size."""
    from segmint.runs import last_successful_run, segment_results

    eng = project.engine
    last = last_successful_run(eng)
    sizes = segment_results(eng, last) if last else {}
    out = [
        SegmentInfo(s.name, "rule", s.description, *_size(sizes.get(s.name)))
        for s in project.config.segments
    ]
    rules = {s.name for s in project.config.segments}
    out += [
        SegmentInfo(name, "family", "", *_size(r)) for name, r in sizes.items() if name not in rules
    ]
    return out


def _size(r: Any) -> tuple[int | None, int | None, int | None]:
    return (r.size, r.entered, r.exited) if r is not None else (None, None, None)


def segment(project: Project, name: str) -> dict[str, Any]:
    """One segment: its definition (for rule segments) and its size at every run."""
    from segmint.exceptions import SegmentNotFoundError
    from segmint.runs import sizes_over_time
    from segmint.segments._parse import did_you_mean

    history = sizes_over_time(project.engine, name)
    definition = project.config.segment(name)
    if definition is None and not history:
        known = [s.name for s in segments(project)]
        raise SegmentNotFoundError(f"no segment {name!r}{did_you_mean(name, known)}")
    return {
        "name": name,
        "definition": definition.model_dump(mode="json", exclude_defaults=True)
        if definition
        else None,
        "sizes": history,
    }


@dataclass(frozen=True)
class Movement:
    """Customers per (cell at ``from_run``, cell at ``to_run``) of one family."""

    family: str
    from_run: str
    to_run: str
    cells: list[str]
    counts: dict[str, dict[str, int]]  # from cell -> to cell -> customers

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def movement(
    project: Project, family: str, *, from_run: str | None = None, to_run: str | None = None
) -> Movement:
    """How customers moved between the cells of ``family`` (rfm, lifecycle, tiers).

    ``to_run`` defaults to the last successful run and ``from_run`` to the one before it;
    both snapshots must still be stored (``runs.keep_snapshots``).  A customer in no cell
    of a run (not scored, or not yet a customer) counts under ``(none)``.
    """
    from segmint.exceptions import SegmentNotFoundError
    from segmint.runs import runs
    from segmint.segments import _snapshots as snapshots
    from segmint.segments._evaluate import FAMILY_PREFIXES, family_cells
    from segmint.segments._parse import did_you_mean
    from segmint.segments._rfm import rfm_movement, rfm_transition_matrix

    if family not in FAMILY_PREFIXES:
        raise ConfigError(f"no family {family!r}{did_you_mean(family, FAMILY_PREFIXES)}")
    prefix = FAMILY_PREFIXES[family]
    eng = project.engine
    done = [r["run_id"] for r in runs(eng, limit=10_000) if r["status"] == "succeeded"]
    to_run = to_run or (done[0] if done else None)
    if to_run is None:
        raise ConfigError("no run yet: run 'segmint run' first")
    if from_run is None:
        older = [r for r in done if r < to_run]
        if not older:
            raise ConfigError(f"no successful run before {to_run}: run 'segmint run' again")
        from_run = older[0]
    tables = {}
    for run_id in (from_run, to_run):
        if run_id not in done:
            raise SegmentNotFoundError(f"no successful run {run_id!r}{did_you_mean(run_id, done)}")
        cells = snapshots.cells_at(eng, run_id, prefix)
        if cells is None:  # its snapshot is no longer stored
            raise ConfigError(
                f"no snapshot of run {run_id} is stored (older runs are pruned: see "
                f"runs.keep_snapshots)"
            )
        tables[run_id] = cells
    order = [cell for fam, _, cell in family_cells(project.config) if fam == family]
    moved = rfm_movement(tables[from_run], tables[to_run], cell_column="cell")
    matrix = rfm_transition_matrix(moved, cells=order)
    counts = {str(a): {str(b): int(matrix.loc[a, b]) for b in matrix.columns} for a in matrix.index}
    return Movement(family, from_run, to_run, [str(c) for c in matrix.columns], counts)


def fit_clv_file(
    file: Path,
    *,
    customer: str,
    date: str,
    amount: str,
    order: str | None = None,
    calibration_end: str | None = None,
    unit: Literal["day", "week"] = "day",
    model: Literal["bgnbd", "paretonbd"] = "bgnbd",
) -> tuple[CLVFit, TransactionFile]:
    """Fit the CLV models on any transaction file (no project needed).

    The file is read with the ingest readers into a private in-memory DuckDB, where the
    per-customer summary is computed; see :func:`segmint.models.fit_clv`.

    Raises
    ------
    InputError
        A named column is missing, or the file cannot be read.
    SegmintError
        The data cannot be fitted (naming the file and the problem).
    """
    import ibis

    from segmint.exceptions import SegmintError
    from segmint.models import fit_clv, read_transactions

    data = read_transactions(file, customer=customer, date=date, amount=amount, order=order)
    con = ibis.duckdb.connect()
    try:
        table = con.create_table("transactions", data.table, temp=True)
        try:
            result = fit_clv(
                table,
                customer="customer",
                date="date",
                amount="amount",
                order="order" if order else None,
                calibration_end=calibration_end,
                unit=unit,
                model=model,
                source=str(file),
            )
        except ValueError as e:
            raise SegmintError(f"file {file}: {e}") from None
    finally:
        con.disconnect()
    return result, data
