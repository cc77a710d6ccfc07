"""Building bags: one BagIt preservation package per source file.

For each source: check its catalog row (Dublin Core), read it once to copy it into a
staging bag while hashing and profiling it, identify its format, describe it in PREMIS,
validate both records (JSON Schema, then XSD), write the tag files, check the staging bag
with bagit-python and the BagIt profile, and only then rename it into place. Errors for
one source never stop the others, and never leave a partial bag.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import multiprocessing
import multiprocessing.connection
import multiprocessing.process
import multiprocessing.queues
import os
import queue
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson

from archiver import __version__
from archiver.bag.render import manifests_for
from archiver.bag.tagfiles import parse_declaration, parse_manifest, split_lines
from archiver.build.characterize import FormatIdentifier
from archiver.build.tagfile_plan import PayloadFile, bag_info_tags, plan_tag_files
from archiver.build.writer import (
    BagExistsError,
    BagVerifier,
    flush_renames,
    make_durable,
    move_into_place,
    write_payload,
    write_tag_files,
)
from archiver.config import timestamp_settings
from archiver.metadata.catalog import Catalog, CatalogRow, load_catalog
from archiver.metadata.dublin_core import DublinCoreRecord, record_from_row
from archiver.metadata.dublin_core import render_tree as render_dc_tree
from archiver.metadata.dublin_core import serialize_xml as serialize_dc_xml
from archiver.metadata.ingest import (
    Ingest,
    Timestamping,
    agents_for,
    catalog_facts,
    catalog_facts_from_premis,
    current_toolset,
    describe_ingest,
)
from archiver.metadata.mets import MetsFile, MetsHeader
from archiver.metadata.mets import render_tree as render_mets_tree
from archiver.metadata.mets import serialize_xml as serialize_mets_xml
from archiver.metadata.premis import TreeRenderer
from archiver.metadata.premis import serialize_xml as serialize_premis_xml
from archiver.metadata.validation import SchemaSet
from archiver.model.errors import ArchiverError, ConflictError, OutputError, SourceError
from archiver.model.findings import Severity
from archiver.model.settings import ArchiveConfig
from archiver.policy import StagedTags
from archiver.storage.fileio import hash_file, remove_stale, staging_dir, write_back_watch
from archiver.storage.workers import init_worker, worker_context
from archiver.timestamp.bags import (
    BAG_TOKEN,
    PLAIN_PROFILE,
    STAMPED_FILE,
    TIMESTAMP_PROFILE,
    stamper,
)

CATALOG_NAME = "metadata.csv"
PARALLEL_MIN_SOURCES = 64  # below this a pool costs more than it saves
BATCH = 16  # bags flushed to disk together (one syncfs), and handed to a worker at a time
BATCH_BYTES = 64 << 20  # ... or fewer, once their payloads add up to this much
CLOSE_GRACE_SECONDS = 60.0  # how long a closing pool waits for a worker to finish its chunk
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

_Planned = tuple[str, Path, CatalogRow | None]
MAX_NAME_BYTES = 200  # leaves room for the staging directory's prefix and suffix


class BuildStatus(StrEnum):
    """What a build did with one source."""

    BUILT = "built"  # a new bag
    REPLACED = "replaced"  # the source changed and --replace swapped its bag
    UNCHANGED = "unchanged"  # its bag already holds this source and description
    FAILED = "failed"  # nothing written (the outcome's reason says why)


@dataclass(frozen=True, slots=True)
class BuildOutcome:
    """What happened to one source: built, replaced, unchanged or failed (with why)."""

    source: str
    status: BuildStatus
    bag: str | None = None
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "source": self.source,
            "status": str(self.status),
            "bag": self.bag,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class _Staged:
    """A bag written and verified in its staging directory, not yet in place."""

    name: str
    source: Path
    dc: DublinCoreRecord
    staging: Path
    destination: Path
    existing: bool
    size: int  # the payload's bytes


@dataclass(frozen=True, slots=True)
class BuildReport:
    """The outcomes of one build run, in source order."""

    outcomes: tuple[BuildOutcome, ...]
    stale_removed: tuple[str, ...] = ()  # staging directories of killed runs, removed

    def count(self, status: str) -> int:
        """How many sources ended with ``status``."""
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> tuple[BuildOutcome, ...]:
        """The sources that could not be built."""
        return tuple(o for o in self.outcomes if o.status == BuildStatus.FAILED)


def bag_name_for(source_name: str) -> str:
    """The bag directory name for a source file: its name without the extension."""
    stem = Path(source_name).stem
    if not _SAFE_NAME.match(source_name) or len(source_name.encode()) > MAX_NAME_BYTES:
        raise SourceError(
            f"{source_name}: file name cannot name a bag "
            f"(use at most {MAX_NAME_BYTES} letters, digits, '.', '_' and '-', "
            "starting with a letter or digit)"
        )
    return stem


def _distinct_batches(planned: Sequence[_Planned]) -> Iterator[list[_Planned]]:
    """``planned`` cut, in order, into runs in which no two sources name the same bag."""
    batch: list[_Planned] = []
    bags: set[str] = set()
    for item in planned:
        try:
            bag = bag_name_for(item[0])
        except SourceError:
            bag = item[0]  # it fails alone when staged
        if bag in bags:
            yield batch
            batch, bags = [], set()
        batch.append(item)
        bags.add(bag)
    if batch:
        yield batch


def plan_sources(
    catalog: Catalog, source_dir: Path, requested: Sequence[Path]
) -> list[tuple[str, Path, CatalogRow | None]]:
    """(display name, path, catalog row or None) for every source to build.

    With no ``requested`` files, every file in ``source_dir`` (except the catalog and
    hidden files) and every catalog row is taken, so a file without a row and a row
    without a file both show up as failures.
    """
    rows: dict[str, CatalogRow] = {}
    for row in catalog.rows:  # as Catalog.row_for: the first row naming a file is its row
        rows.setdefault(row.filename, row)  # (row_for scans every row: 10,000 sources took 2 s)
    if requested:
        return [(p.name, p, rows.get(p.name)) for p in requested]
    names = {
        p.name
        for p in source_dir.iterdir()
        if p.is_file() and p.name != CATALOG_NAME and not p.name.startswith(".")
    }
    names.update(catalog.filenames)
    return [(n, source_dir / n, rows.get(n)) for n in sorted(names)]


class Builder:
    """Builds bags for one run: format identifier, schemas and agents loaded once."""

    def __init__(
        self,
        config: ArchiveConfig,
        out_dir: Path,
        clock: Callable[[], datetime],
        *,
        replace: bool = False,
        schemas: SchemaSet | None = None,
        checkpoint: Callable[[], None] = lambda: None,
    ) -> None:
        self.config = config
        self.checkpoint = checkpoint  # raises to stop between sources (a worker's SIGTERM)
        self.out_dir = out_dir
        self.clock = clock
        self.replace = replace
        self.schemas = schemas or SchemaSet()
        self.identifier = FormatIdentifier()
        self.verifier = BagVerifier()
        self.premis_renderer = TreeRenderer()
        self.agents = agents_for(
            config, current_toolset(self.identifier.agent_version, self.verifier.bagit_version)
        )
        # [timestamp]: each bag gets a checked token over its payload manifest, or fails
        self.stamp = stamper(timestamp_settings(config))

    def prepare(self) -> None:
        """Compile FIDO's signatures and every schema now (before worker processes fork)."""
        self.identifier.prepare()
        for schema_name in ("dublin-core", "premis", "bag-info"):
            self.schemas.compile_json(schema_name)
        self.schemas.xml_schema("dc")
        self.schemas.xml_schema("premis")
        self.schemas.xml_schema("mets")

    def build(self, name: str, source: Path, row: CatalogRow | None) -> BuildOutcome:
        """Build one bag; never raises ArchiverError (a failure is an outcome)."""
        return self.build_batch([(name, source, row)])[0]

    def build_batch(self, planned: Sequence[_Planned]) -> list[BuildOutcome]:
        """Build several bags, flushed to disk together; one outcome per source, in order.

        Each bag is staged and verified; then one flush puts every staged bag on disk
        (``writer.make_durable``; early, once ``BATCH_BYTES`` of payload are staged),
        each is renamed into place, and one flush puts the renames on disk. A bag is
        reported built only after that. Sources naming the
        same bag go to separate batches, so a later one sees the earlier one's bag.
        Never raises ArchiverError: a failure is that source's outcome.
        """
        outcomes: list[BuildOutcome] = []
        for batch in _distinct_batches(planned):
            outcomes += self._build_distinct(batch)
        return outcomes

    def _build_distinct(self, planned: Sequence[_Planned]) -> list[BuildOutcome]:
        outcomes: dict[int, BuildOutcome] = {}
        with contextlib.ExitStack() as stack:  # removes every staging bag not renamed
            flush = stack.enter_context(write_back_watch(self.out_dir))  # before writing
            staged: dict[int, _Staged] = {}
            staged_bytes = 0
            for index, (name, source, row) in enumerate(planned):
                self.checkpoint()
                try:
                    result = self._stage(name, source, row, stack)
                except ArchiverError as exc:
                    result = BuildOutcome(name, BuildStatus.FAILED, reason=str(exc))
                if isinstance(result, BuildOutcome):
                    outcomes[index] = result
                    continue
                staged[index] = result
                staged_bytes += result.size
                if staged_bytes >= BATCH_BYTES:  # large sources: flush what is staged now
                    outcomes.update(self._install_all(staged, flush))
                    staged, staged_bytes = {}, 0
            if staged:
                outcomes.update(self._install_all(staged, flush))
        return [outcomes[index] for index in range(len(planned))]

    def _stage(
        self, name: str, source: Path, row: CatalogRow | None, stack: contextlib.ExitStack
    ) -> _Staged | BuildOutcome:
        """Check the source and write its verified bag into a staging directory (kept
        until ``stack`` closes, or removed at once if it fails), or the outcome if there
        is nothing to build."""
        if row is None:
            raise SourceError(f"{source}: no row for this file in the catalog")
        for problem in row.problems:
            raise SourceError(problem)
        dc = record_from_row(row)
        dc_json = dc.to_json()
        bag_name = bag_name_for(name)
        check_source(source, row.where("filename"))
        destination = self.out_dir / bag_name
        existing = destination.exists()
        if existing:
            verdict = self._compare_existing(destination, source, name, dc)
            if verdict is None:
                return BuildOutcome(name, BuildStatus.UNCHANGED, str(destination))
            if not self.replace:
                raise ConflictError(
                    f"{destination}: bag exists and {verdict}; "
                    "rebuild with --replace to swap it atomically"
                )
        with contextlib.ExitStack() as own:  # a failed source's copy goes at once
            staging = own.enter_context(staging_dir(destination))
            size = self._assemble(staging, name, source, dc, dc_json)
            stack.enter_context(own.pop_all())  # a verified one stays until its batch ends
        return _Staged(name, source, dc, staging, destination, existing, size)

    def _install_all(
        self, staged: dict[int, _Staged], flush: Callable[[], bool]
    ) -> dict[int, BuildOutcome]:
        """Flush the staged bags, rename each into place, flush the renames."""
        self.checkpoint()
        try:
            make_durable([bag.staging for bag in staged.values()], self.out_dir, flush)
        except OutputError as exc:
            return {
                i: BuildOutcome(bag.name, BuildStatus.FAILED, reason=str(exc))
                for i, bag in staged.items()
            }
        outcomes: dict[int, BuildOutcome] = {}
        for index, bag in staged.items():
            try:
                outcomes[index] = self._install(bag)
            except ArchiverError as exc:
                outcomes[index] = BuildOutcome(bag.name, BuildStatus.FAILED, reason=str(exc))
        renamed = [
            i for i, o in outcomes.items() if o.status in (BuildStatus.BUILT, BuildStatus.REPLACED)
        ]
        if renamed:
            try:
                flush_renames(self.out_dir)
            except OutputError as exc:
                for index in renamed:
                    outcomes[index] = BuildOutcome(
                        outcomes[index].source,
                        BuildStatus.FAILED,
                        outcomes[index].bag,
                        f"{exc} (the bag is in place; rebuild to check it)",
                    )
        return outcomes

    def _install(self, bag: _Staged) -> BuildOutcome:
        destination = bag.destination
        try:
            move_into_place(bag.staging, destination, replace=bag.existing)
        except BagExistsError:
            # Another build installed this bag meanwhile: fine if it is the same.
            if self._compare_existing(destination, bag.source, bag.name, bag.dc) is None:
                return BuildOutcome(bag.name, BuildStatus.UNCHANGED, str(destination))
            raise ConflictError(
                f"{destination}: another build installed a different bag meanwhile"
            ) from None
        return BuildOutcome(
            bag.name,
            BuildStatus.REPLACED if bag.existing else BuildStatus.BUILT,
            str(destination),
        )

    def _compare_existing(
        self, bag: Path, source: Path, name: str, dc: DublinCoreRecord
    ) -> str | None:
        """None if the bag already holds this source and description, else what differs."""
        try:
            manifest_text = (bag / "manifest-sha256.txt").read_text(encoding="utf-8")
            old_dc = json.loads((bag / "metadata" / "dc.json").read_text(encoding="utf-8"))
            old_premis = json.loads((bag / "metadata" / "premis.json").read_text(encoding="utf-8"))
            if not (bag / "metadata" / "mets.xml").is_file():
                return "has no METS document (metadata/mets.xml)"
        except (OSError, ValueError):
            return "is not a complete archiver bag"
        manifest, issues = parse_manifest(
            split_lines(manifest_text),
            "manifest-sha256.txt",
            "sha256",
            tag=False,
            version=(1, 0),
        )
        if any(issue.severity is Severity.ERROR for issue in issues):
            return "its manifest-sha256.txt is damaged (validate it)"
        digests, _ = _read_source(source, ("sha256",))
        if manifest.entries.get(f"data/{name}") != digests["sha256"]:
            return f"its payload differs from {source}"
        if old_dc != dc.to_json():
            return "its Dublin Core record differs from the catalog row"
        if not isinstance(old_premis, dict) or catalog_facts_from_premis(
            old_premis
        ) != catalog_facts(dc, self.config):
            return "its PREMIS rights or capture differ from the catalog row and archive.toml"
        return None

    def _assemble(
        self,
        staging: Path,
        name: str,
        source: Path,
        dc: DublinCoreRecord,
        dc_json: dict[str, Any],
    ) -> int:
        """Write and verify the bag in ``staging``; its payload's size."""
        algorithms = self.config.algorithms
        payload_path = f"data/{name}"
        digests, size, text = write_payload(source, staging / payload_path, algorithms)
        fmt = self.identifier.identify(source, text)
        now = self.clock()
        config, stamp, token_files = self.config, None, {}
        if self.stamp is not None:  # TimestampError: this source fails, its staging goes
            stamped = manifests_for({payload_path: digests}, algorithms, prefix="manifest")
            token = self.stamp(stamped[STAMPED_FILE])
            if config.profile_identifier == PLAIN_PROFILE:  # the profile that allows it
                config = dataclasses.replace(config, profile_identifier=TIMESTAMP_PROFILE)
            stamp = Timestamping(
                BAG_TOKEN,
                STAMPED_FILE,
                token.gen_time.isoformat(),
                token.tsa,
                token.serial,
                token.url,
            )
            token_files = {BAG_TOKEN: token.response}
        ingest = Ingest(
            source_name=name,
            payload_path=payload_path,
            size=size,
            digests=digests,
            text=text,
            format=fmt,
            dc=dc,
            time=now.isoformat(timespec="seconds"),
        )
        premis_json = describe_ingest(ingest, config, self.agents, stamp).to_json()
        label = f"{self.config.collection_id}/{name}"
        self.schemas.validate_json(dc_json, "dublin-core", f"{label}: metadata/dc.json")
        self.schemas.validate_json(premis_json, "premis", f"{label}: metadata/premis.json")
        dc_tree = render_dc_tree(dc)
        premis_tree = self.premis_renderer.render(premis_json)
        self.schemas.validate_tree(dc_tree, "dc", f"{label}: metadata/dc.xml")
        self.schemas.validate_tree(premis_tree, "premis", f"{label}: metadata/premis.xml")
        payload = [PayloadFile(payload_path, size, digests)]
        mets_tree = render_mets_tree(
            MetsHeader(
                created=ingest.time,
                organization=self.config.organization,
                contact=f"Contact: {self.config.contact_name} <{self.config.contact_email}>",
                software="archiver",
                software_version=__version__,
                label=dc.title,
                bag_name=bag_name_for(name),
            ),
            dc_tree,
            premis_tree,
            [MetsFile(f.path, f.size, f.digests, fmt.mime_type) for f in payload],
        )
        self.schemas.validate_tree(mets_tree, "mets", f"{label}: metadata/mets.xml")
        metadata = {  # the XML written is the serialization of the trees just validated
            "metadata/dc.json": _json_bytes(dc_json),
            "metadata/dc.xml": serialize_dc_xml(dc_tree),
            "metadata/mets.xml": serialize_mets_xml(mets_tree),
            "metadata/premis.json": _json_bytes(premis_json),
            "metadata/premis.xml": serialize_premis_xml(premis_tree),
            **token_files,
        }
        bag_info = bag_info_tags(
            config,
            external_identifier=dc.identifier or name,
            description=dc.title,
            source_name=name,
            payload=payload,
            tag_bytes=sum(len(b) for b in metadata.values()),
            bagging_time=now,
        )
        self.schemas.validate_json(dict(bag_info), "bag-info", f"{label}: bag-info.txt")
        files = plan_tag_files(
            algorithms=algorithms, payload=payload, bag_info=bag_info, metadata_files=metadata
        )
        write_tag_files(staging, files)
        declaration, _ = parse_declaration(files["bagit.txt"])
        tags = StagedTags(label, declaration, bag_info, tuple(sorted(files)))
        self.verifier.verify(staging, label, tags)
        return size


def check_source(source: Path, where: str) -> None:
    """Refuse a source that is missing, a link (never followed) or not a regular file."""
    if source.is_symlink():
        raise SourceError(f"{where}: source {source} is a symbolic link (links are not followed)")
    if not source.exists():
        raise SourceError(f"{where}: source file {source} does not exist")
    if not source.is_file():
        raise SourceError(f"{where}: source {source} is not a regular file")


def _json_bytes(record: dict[str, Any]) -> bytes:
    """The record as indented UTF-8 JSON plus a newline.

    Byte-identical to ``json.dumps(record, ensure_ascii=False, indent=2) + "\n"`` (tested),
    with orjson's C encoder: Python 3.11's json cannot indent without its slow
    pure-Python encoder.
    """
    return orjson.dumps(record, option=orjson.OPT_INDENT_2) + b"\n"


def _read_source(path: Path, algorithms: Iterable[str]) -> tuple[dict[str, str], int]:
    try:
        return hash_file(path, algorithms)
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror or exc}") from None


def prepare_output(out_dir: Path) -> None:
    """Create the output directory if needed and check that it can be written."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create output directory: {exc.strerror}") from None
    if not out_dir.is_dir():
        raise OutputError(f"{out_dir}: output location is not a directory")
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise OutputError(f"{out_dir}: output directory is not writable")


def build_collection(
    *,
    config: ArchiveConfig,
    catalog_path: Path,
    out_dir: Path,
    sources: Sequence[Path] = (),
    clock: Callable[[], datetime],
    replace: bool = False,
    on_outcome: Callable[[BuildOutcome], None] | None = None,
    workers: int | None = None,
) -> BuildReport:
    """Build a bag for each source (default: every file beside the catalog).

    Staging directories that killed runs left in ``out_dir`` are removed first (only
    those whose process is gone) and listed in the report. File-level problems (catalog
    unreadable, output unusable) raise ArchiverError;
    per-source problems become ``failed`` outcomes and the other sources are still built.
    With ``workers`` > 1 (default: every core) and at least ``PARALLEL_MIN_SOURCES``
    sources going to distinct bags, the bags are built by a :class:`BuildPool` of worker
    processes, each with its own Builder; outcomes still arrive in source order.
    """
    count = workers if workers is not None else (os.cpu_count() or 1)
    pool = None
    if count > 1 and _expected_sources(catalog_path, sources) >= PARALLEL_MIN_SOURCES:
        pool = BuildPool(config, out_dir, clock, replace=replace, workers=count)
    try:
        catalog = load_catalog(catalog_path)
        prepare_output(out_dir)
        stale = tuple(str(path) for path in remove_stale(out_dir, "staging"))
        planned = plan_sources(catalog, catalog_path.parent, sources)
        if pool is not None and len(planned) >= PARALLEL_MIN_SOURCES and _distinct_bags(planned):
            results: Iterable[BuildOutcome] = pool.build_all(planned)
        else:
            builder = Builder(config, out_dir, clock, replace=replace, schemas=SchemaSet())
            results = (
                outcome
                for start in range(0, len(planned), BATCH)
                for outcome in builder.build_batch(planned[start : start + BATCH])
            )
        outcomes = []
        for outcome in results:
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
    except BaseException:
        if pool is not None:
            pool.close(abort=True)
            pool = None
        raise
    finally:
        if pool is not None:
            pool.close()
    return BuildReport(tuple(outcomes), stale)


def _expected_sources(catalog_path: Path, sources: Sequence[Path]) -> int:
    """A cheap upper estimate of the sources to build (catalog lines), to decide on a pool."""
    if sources:
        return len(sources)
    try:
        with open(catalog_path, "rb") as stream:
            return sum(block.count(b"\n") for block in iter(lambda: stream.read(1 << 20), b""))
    except OSError:
        return 0  # load_catalog reports the problem


def _distinct_bags(planned: Sequence[_Planned]) -> bool:
    """True if no two sources would go to the same bag (they must then be built in order)."""
    return sum(1 for _ in _distinct_batches(planned)) <= 1


class WorkerError(ArchiverError):
    """A build worker process died or failed outside any one source's build."""


_Chunk = tuple[int, list[_Planned]]
_Result = tuple[int, "list[BuildOutcome] | BaseException"]


_Settings = tuple[ArchiveConfig, Path, Callable[[], datetime], bool]


def _serve(
    settings: _Settings,
    tasks: multiprocessing.queues.Queue[_Chunk | None],
    results: Connection,
    run_pid: int,
) -> None:
    """A build worker's whole life: make a Builder, then build chunks until told to stop.

    It dies with the run (``archiver.storage.workers.init_worker``); SIGTERM makes it stop at
    once, removing the staging directory of the bag it was building.
    """
    termination = init_worker(run_pid, exit_on_sigterm=True)
    config, out_dir, clock, replace = settings
    with termination.quiet():
        builder = Builder(
            config, out_dir, clock, replace=replace, checkpoint=termination.checkpoint
        )
        builder.prepare()
        while (task := tasks.get()) is not None:
            index, chunk = task
            result: list[BuildOutcome] | BaseException
            try:
                result = builder.build_batch(chunk)
            except Exception as exc:  # a bug, not a source's failure: the parent raises it
                if termination.requested:
                    raise
                result = WorkerError(f"build worker {os.getpid()}: {type(exc).__name__}: {exc}")
            results.send((index, result))


class BuildPool:
    """Worker processes that build bags, each with its own Builder; results in order.

    The workers start when the pool is made, before the catalog is loaded, so they do
    not carry it; they are forked, or come from a fork server when this process runs
    other threads (a progress bar's), as ``archiver.storage.workers.worker_context`` decides.
    Each runs :func:`_serve` with the settings (so the clock must be picklable, as
    ``archiver.model.clock``'s are) and makes and prepares its own Builder (FIDO signatures,
    schemas) while the parent reads the catalog. Sources then go out in chunks of
    ``BATCH`` (never more than two chunks per worker in flight) and
    :meth:`build_all` yields the outcomes in source order. No state lives in module
    globals.
    """

    def __init__(
        self,
        config: ArchiveConfig,
        out_dir: Path,
        clock: Callable[[], datetime],
        *,
        replace: bool,
        workers: int,
    ) -> None:
        context = worker_context([__name__])
        settings: _Settings = (config, out_dir, clock, replace)
        self._tasks: multiprocessing.queues.Queue[_Chunk | None] = context.Queue()
        self._results: list[Connection] = []
        self._processes: list[multiprocessing.process.BaseProcess] = []
        for n in range(workers):
            reader, writer = context.Pipe(duplex=False)  # one result pipe per worker
            process = context.Process(  # type: ignore[attr-defined]
                target=_serve,
                args=(settings, self._tasks, writer, os.getpid()),
                name=f"archiver-build-{n}",
                daemon=True,
            )
            process.start()
            writer.close()  # the worker holds it now
            self._results.append(reader)
            self._processes.append(process)

    def build_all(self, planned: Sequence[_Planned]) -> Iterator[BuildOutcome]:
        """Build every planned source in the workers; yield the outcomes in source order."""
        chunks = [list(planned[i : i + BATCH]) for i in range(0, len(planned), BATCH)]
        sent = 0
        done: dict[int, list[BuildOutcome]] = {}
        for next_index in range(len(chunks)):
            while sent < len(chunks) and sent < next_index + 2 * len(self._processes):
                self._tasks.put((sent, chunks[sent]))
                sent += 1
            while next_index not in done:
                index, result = self._receive()
                if isinstance(result, BaseException):
                    raise result
                done[index] = result
            yield from done.pop(next_index)

    def _receive(self) -> _Result:
        """The next result from any worker; WorkerError if a worker has died meanwhile."""
        sentinels = [process.sentinel for process in self._processes]
        ready = multiprocessing.connection.wait([*self._results, *sentinels])
        for reader, process in zip(self._results, self._processes, strict=True):
            if reader in ready:
                try:
                    result: _Result = reader.recv()
                except EOFError:  # its worker has exited
                    pass
                else:
                    return result
            elif process.sentinel not in ready:
                continue
            process.join()  # it has ended: reap it for its exit code
            raise WorkerError(f"build worker {process.pid} exited with status {process.exitcode}")
        raise AssertionError("unreachable: wait() returned nothing ready")

    def close(self, *, abort: bool = False) -> None:
        """Take back the chunks not yet started and wait for the workers to exit (so no
        staging directory is left behind): each finishes the chunk it holds, or with
        ``abort`` (the run is being interrupted) stops at once, removing its staging
        directory."""
        with contextlib.suppress(queue.Empty, OSError, ValueError):
            while True:
                self._tasks.get(timeout=0.01)
        for process in self._processes:
            if process.is_alive():
                if abort:
                    process.terminate()
                else:
                    self._tasks.put(None)
        for process in self._processes:
            process.join(CLOSE_GRACE_SECONDS)
            if process.is_alive():  # stuck (e.g. a sibling died holding the queue's lock)
                process.kill()
                process.join()
        for reader in self._results:
            reader.close()
        self._tasks.close()
        self._tasks.join_thread()
