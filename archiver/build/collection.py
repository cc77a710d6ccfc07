"""Building bags: one BagIt preservation package per catalog item.

An item is a catalog row: the file or folder its ``filename`` names, described by the row.
Its bag is named by its ``dc.identifier`` (``archiver.model.identity``), so two items
never share a bag: before anything is written, ``plan_bags`` refuses a run in which two
rows would share one (on a case-folding file system too), or a row would go to an
existing bag that holds another item, with or without ``--replace``.

For each item: check its row (Dublin Core), read each of its files once to copy it into a
staging bag while hashing and profiling it (``writer.write_item``; a folder keeps its
whole tree and every name exactly), identify each file's format, describe them in PREMIS
and METS, validate the records (JSON Schema, then XSD), write the tag files, check the
staging bag with bagit-python and the BagIt profile, and only then rename it into place.
Errors for one item never stop the others, and never leave a partial bag.

Names: a file or folder keeps the exact name its file system gives it (no Unicode
normalization is applied to what is stored); a catalog ``filename`` finds its source by
comparing both in NFC, so a catalog saved on macOS (NFD) finds the files on Linux (NFC)
and the other way round.
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
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson

from archiver import __version__
from archiver.bag.identity import bag_identifier
from archiver.bag.render import manifests_for
from archiver.bag.tagfiles import parse_declaration, parse_manifest, split_lines
from archiver.bag.validator import MAX_TAG_BYTES
from archiver.build.characterize import FormatIdentifier
from archiver.build.tagfile_plan import PayloadFile, bag_info_tags, plan_tag_files
from archiver.build.writer import (
    BagExistsError,
    BagVerifier,
    flush_renames,
    make_durable,
    move_into_place,
    name_problem,
    write_item,
    write_tag_files,
)
from archiver.config import timestamp_settings
from archiver.metadata.archivematica import extra_metadata_files
from archiver.metadata.catalog import MAX_CATALOG_BYTES, Catalog, CatalogRow, load_catalog
from archiver.metadata.dublin_core import DublinCoreRecord, RightsDefaults, record_from_row
from archiver.metadata.dublin_core import render_tree as render_dc_tree
from archiver.metadata.dublin_core import serialize_xml as serialize_dc_xml
from archiver.metadata.ingest import (
    Ingest,
    IngestFile,
    Replacing,
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
from archiver.metadata.rocrate import rocrate_bytes
from archiver.metadata.validation import SchemaSet
from archiver.model.errors import (
    ArchiverError,
    BagReadError,
    ConflictError,
    OutputError,
    SourceError,
)
from archiver.model.findings import Severity
from archiver.model.identity import IdentityError, bag_directory_name, collision_key
from archiver.model.settings import ArchiveConfig
from archiver.policy import StagedTags
from archiver.storage.fileio import (
    hash_file,
    read_bounded,
    remove_stale,
    staging_dir,
    walk_tree,
    write_back_watch,
)
from archiver.storage.workers import init_worker, worker_context
from archiver.timestamp.bags import (
    BAG_TOKEN,
    PLAIN_PROFILE,
    STAMPED_FILE,
    TIMESTAMP_PROFILE,
    stamper,
)

CATALOG_NAME = "metadata.csv"
ROCRATE_FILE = "ro-crate-metadata.json"
PARALLEL_MIN_SOURCES = 64  # below this a pool costs more than it saves
BATCH = 16  # bags flushed to disk together (one syncfs), and handed to a worker at a time
BATCH_BYTES = 64 << 20  # ... or fewer, once their payloads add up to this much
CLOSE_GRACE_SECONDS = 60.0  # how long a closing pool waits for a worker to finish its chunk

_Planned = tuple[str, Path, CatalogRow | None]


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
    replaces: str | None = None  # replaced: the PREMIS package identifier it replaced

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "source": self.source,
            "status": str(self.status),
            "bag": self.bag,
            "reason": self.reason,
        } | ({"replaces": self.replaces} if self.replaces else {})


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
    replaces: str | None = None  # the package identifier of the bag it replaces


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


def bag_name_of(row: CatalogRow) -> str:
    """The directory name of the row's bag: its first ``dc.identifier`` (else the file
    name's stem, the catalog's identifier of a row without one), encoded by
    ``archiver.model.identity.bag_directory_name``; SourceError names the row if none."""
    identifier = row.identifiers[0]
    try:
        return bag_directory_name(identifier)
    except IdentityError as exc:
        raise SourceError(f"{row.where('dc.identifier')}: {exc}") from None


def plan_bags(planned: Sequence[_Planned], out_dir: Path) -> None:
    """Refuse, before anything is written, a run in which two items would share a bag.

    ConflictError names both rows (or the row and the existing bag) when two rows' bags
    would be one directory (the same name, or names equal once case and Unicode
    normalization are folded, as macOS and Windows do), or when a row's bag exists in
    ``out_dir`` and holds another item (its External-Identifier is not the row's
    identifier), whether or not ``--replace`` was given: a correction replaces the bag of
    the same item only. Rows whose bag cannot be named fail on their own when built.
    """
    seen: dict[str, CatalogRow] = {}
    existing: dict[str, str] = {}
    try:
        with os.scandir(out_dir) as entries:
            for entry in entries:
                if not entry.name.startswith("."):
                    existing[collision_key(entry.name)] = entry.name
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot list the output directory: {exc.strerror}") from None
    problems: list[str] = []
    for _, _, row in planned:
        if row is None or row.problems:
            continue
        try:
            bag = bag_name_of(row)
        except SourceError:
            continue
        key = collision_key(bag)
        if key in seen:
            other = seen[key]
            problems.append(
                f"{row.source}: rows {other.row} and {row.row} would share the bag "
                f"{out_dir / bag} (identifiers {other.identifiers[0]!r} and "
                f"{row.identifiers[0]!r}); give each item its own dc.identifier"
            )
            continue
        seen[key] = row
        present = existing.get(key)
        if present is None:
            continue
        holder = _holder(out_dir / present)
        mine = unicodedata.normalize("NFC", row.identifiers[0])
        if present != bag or (holder is not None and unicodedata.normalize("NFC", holder) != mine):
            held = f"the item {holder!r}" if holder is not None else "no archiver bag"
            problems.append(
                f"{row.where('dc.identifier')}: its bag {out_dir / bag} would be "
                f"{out_dir / present}, which holds {held}, not {row.identifiers[0]!r} "
                "(a bag is replaced only by a build of its own item)"
            )
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConflictError(f"{problems[0]}{more}; nothing was built")


def _holder(bag: Path) -> str | None:
    """The identifier of the item an existing bag holds (None: not one of archiver's)."""
    if not (bag / "bag-info.txt").is_file():
        return None
    try:
        identifier, from_bag_info = bag_identifier(bag)
    except BagReadError:
        return None
    return identifier if from_bag_info else None


def plan_sources(
    catalog: Catalog, source_dir: Path, requested: Sequence[Path]
) -> list[tuple[str, Path, CatalogRow | None]]:
    """(display name, path, catalog row or None) for every item to build.

    With no ``requested`` paths, every file and folder in ``source_dir`` (except the
    catalog and hidden names) and every catalog row is taken, so a source without a row
    and a row without a source both show up as failures. A row finds its source by name
    compared in NFC (``_nfc``); the path keeps the name as the file system has it.
    """
    rows: dict[str, CatalogRow] = {}
    for row in catalog.rows:  # as Catalog.row_for: the first row naming a file is its row
        rows.setdefault(_nfc(row.filename), row)  # (row_for scans every row: 10,000 took 2 s)
    if requested:
        return [(p.name, p, rows.get(_nfc(p.name))) for p in requested]
    on_disk: dict[str, str] = {}
    with os.scandir(source_dir) as entries:
        for entry in entries:
            if entry.name != CATALOG_NAME and not entry.name.startswith("."):
                on_disk.setdefault(_nfc(entry.name), entry.name)
    planned: dict[str, tuple[str, Path, CatalogRow | None]] = {}
    for key, name in on_disk.items():
        found = rows.get(key)
        planned[key] = (found.filename if found else name, source_dir / name, found)
    for key, row in rows.items():
        planned.setdefault(key, (row.filename, source_dir / row.filename, row))
    return [planned[key] for key in sorted(planned)]


def _nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name)


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
        self.rights = RightsDefaults(
            statement=config.rights_statement,
            license=config.rights_license,
            access=config.access_rights,
        )
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
        reported built only after that. The items go to distinct bags (``plan_bags``).
        Never raises ArchiverError: a failure is that item's outcome.
        """
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
        dc = record_from_row(row, self.rights)
        dc_json = dc.to_json()
        bag_name = bag_name_of(row)
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
        history = _history(destination, verdict) if existing else None
        with contextlib.ExitStack() as own:  # a failed source's copy goes at once
            staging = own.enter_context(staging_dir(destination))
            size = self._assemble(staging, name, source, dc, dc_json, bag_name, history)
            stack.enter_context(own.pop_all())  # a verified one stays until its batch ends
        replaces = history[0].package if history else None
        return _Staged(name, source, dc, staging, destination, existing, size, replaces)

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
            replaces=bag.replaces if bag.existing else None,
        )

    def _compare_existing(
        self, bag: Path, source: Path, name: str, dc: DublinCoreRecord
    ) -> str | None:
        """None if the bag already holds this item and description, else what differs."""
        try:
            manifest_text = read_bounded(bag / "manifest-sha256.txt", MAX_TAG_BYTES).decode()
            old_dc = json.loads(read_bounded(bag / "metadata" / "dc.json", MAX_TAG_BYTES))
            old_premis = json.loads(read_bounded(bag / "metadata" / "premis.json", MAX_TAG_BYTES))
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
        if manifest.entries != _source_digests(source, f"data/{source.name}"):
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
        bag_name: str,
        history: tuple[Replacing, dict[str, bytes]] | None = None,
    ) -> int:
        """Write and verify the bag in ``staging``; its payload's size.

        The payload is ``data/`` + the source's own name (a file, or a folder and its tree).
        """
        algorithms = self.config.algorithms
        copied = write_item(source, f"data/{source.name}", staging, algorithms)
        files = tuple(
            IngestFile(
                path=c.path,
                size=c.size,
                digests=c.digests,
                text=c.text,
                format=self.identifier.identify(c.source, c.text),
            )
            for c in sorted(copied, key=lambda c: c.path)
        )
        now = self.clock()
        config, stamp, token_files = self.config, None, {}
        if self.stamp is not None:  # TimestampError: this source fails, its staging goes
            stamped = manifests_for(
                {f.path: f.digests for f in files}, algorithms, prefix="manifest"
            )
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
            files=files,
            dc=dc,
            time=now.isoformat(timespec="seconds"),
            folder=source.is_dir(),
        )
        replacing = history[0] if history else None
        premis_json = describe_ingest(ingest, config, self.agents, stamp, replacing).to_json()
        label = f"{self.config.collection_id}/{bag_name}"
        self.schemas.validate_json(dc_json, "dublin-core", f"{label}: metadata/dc.json")
        self.schemas.validate_json(premis_json, "premis", f"{label}: metadata/premis.json")
        dc_tree = render_dc_tree(dc)
        premis_tree = self.premis_renderer.render(premis_json)
        self.schemas.validate_tree(dc_tree, "dc", f"{label}: metadata/dc.xml")
        self.schemas.validate_tree(premis_tree, "premis", f"{label}: metadata/premis.xml")
        payload = [PayloadFile(f.path, f.size, f.digests) for f in files]
        mets_tree = render_mets_tree(
            MetsHeader(
                created=ingest.time,
                organization=self.config.organization,
                contact=f"Contact: {self.config.contact_name} <{self.config.contact_email}>",
                software="archiver",
                software_version=__version__,
                label=dc.title,
                bag_name=bag_name,
            ),
            dc_tree,
            premis_tree,
            [MetsFile(f.path, f.size, f.digests, f.format.mime_type) for f in files],
        )
        self.schemas.validate_tree(mets_tree, "mets", f"{label}: metadata/mets.xml")
        metadata = {  # the XML written is the serialization of the trees just validated
            "metadata/dc.json": _json_bytes(dc_json),
            "metadata/dc.xml": serialize_dc_xml(dc_tree),
            "metadata/mets.xml": serialize_mets_xml(mets_tree),
            "metadata/premis.json": _json_bytes(premis_json),
            "metadata/premis.xml": serialize_premis_xml(premis_tree),
            **token_files,
            **(history[1] if history else {}),  # the replaced packages' PREMIS records
            # Archivematica reads its own metadata/metadata.csv; RO-Crate tools the crate's
            # metadata file at its root, the bag's (the payload in data/ stays untouched)
            **extra_metadata_files(dc, source.name),
            ROCRATE_FILE: rocrate_bytes(
                dc,
                [(f.path, f.size, f.digests, f.format.mime_type) for f in files],
                date_published=ingest.time,
                publisher=self.config.organization,
            ),
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
        tag_files = plan_tag_files(
            algorithms=algorithms, payload=payload, bag_info=bag_info, metadata_files=metadata
        )
        write_tag_files(staging, tag_files)
        declaration, _ = parse_declaration(tag_files["bagit.txt"])
        tags = StagedTags(label, declaration, bag_info, tuple(sorted(tag_files)))
        self.verifier.verify(staging, label, tags, verified={f.path: f.digests for f in files})
        return sum(f.size for f in files)


def check_source(source: Path, where: str) -> None:
    """Refuse a source that is missing or a link (never followed); a folder is an item
    of several files, anything else but a regular file is refused too."""
    if source.is_symlink():
        raise SourceError(f"{where}: source {source} is a symbolic link (links are not followed)")
    if not source.exists():
        raise SourceError(f"{where}: source {source} does not exist")
    if not (source.is_file() or source.is_dir()):
        raise SourceError(f"{where}: source {source} is not a regular file or a folder")
    problem = name_problem(source.name)
    if problem is not None:
        raise SourceError(f"{where}: source {source}: {problem}")


HISTORY_DIR = "metadata/history"


def _history(bag: Path, verdict: str | None) -> tuple[Replacing, dict[str, bytes]] | None:
    """What a bag being replaced hands on: its package identifier and every PREMIS record
    of its history (its own ``metadata/premis.xml`` as ``metadata/history/premis-<id>.xml``
    and the records it had carried forward itself), so a rebuild keeps every earlier
    package's events. None for a bag without a readable package identifier."""
    try:
        record = json.loads(read_bounded(bag / "metadata" / "premis.json", MAX_TAG_BYTES))
        package = record["package"]["identifier"]["value"]
        own = read_bounded(bag / "metadata" / "premis.xml", MAX_TAG_BYTES)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(package, str) or not bag_directory_name(package) == package:
        return None  # not an identifier archiver made: do not put it in a file name
    files: dict[str, bytes] = {}
    earlier = bag / HISTORY_DIR
    if earlier.is_dir() and not earlier.is_symlink():
        for entry in sorted(os.scandir(earlier), key=lambda e: e.name):
            if entry.is_file(follow_symlinks=False) and entry.name.endswith(".xml"):
                try:
                    files[f"{HISTORY_DIR}/{entry.name}"] = read_bounded(entry.path, MAX_TAG_BYTES)
                except OSError:
                    continue
    path = f"{HISTORY_DIR}/premis-{package}.xml"
    files[path] = own
    changed = verdict is not None and verdict.startswith("its payload differs")
    return Replacing(package, path, content_changed=changed), files


def _source_digests(source: Path, item_path: str) -> dict[str, str]:
    """{payload path: sha256} of an item as it would be bagged at ``item_path``."""
    if not source.is_dir():
        return {item_path: _read_source(source, ("sha256",))[0]["sha256"]}
    found: dict[str, str] = {}
    for rel, entry in walk_tree(source):
        if entry.is_file(follow_symlinks=False):
            found[f"{item_path}/{rel}"] = _read_source(Path(entry.path), ("sha256",))[0]["sha256"]
    return found


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
    on_planned: Callable[[int], None] | None = None,
) -> BuildReport:
    """Build a bag for each source (default: every file beside the catalog).

    Staging directories that killed runs left in ``out_dir`` are removed first (only
    those whose process is gone) and listed in the report. File-level problems (catalog
    unreadable, output unusable) raise ArchiverError;
    per-source problems become ``failed`` outcomes and the other sources are still built.
    With ``workers`` > 1 (default: every core) and at least ``PARALLEL_MIN_SOURCES``
    sources going to distinct bags, the bags are built by a :class:`BuildPool` of worker
    processes, each with its own Builder; outcomes still arrive in source order.
    ``on_planned`` hears how many sources will be built once they are planned, before any
    is built (a progress bar's total).
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
        plan_bags(planned, out_dir)  # before anything is written
        if on_planned is not None:
            on_planned(len(planned))
        if pool is not None and len(planned) >= PARALLEL_MIN_SOURCES:
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
    try:  # a FIFO or device is not read here: load_catalog refuses it with one line
        return read_bounded(catalog_path, MAX_CATALOG_BYTES).count(b"\n")
    except OSError:
        return 0  # load_catalog reports the problem


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
        self._out_dir = out_dir
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
        directory. A signal that arrives while closing (SIGTERM as a finished build
        waits for its workers) stops them at once and waits for them before it goes on:
        this process must not end while a worker still unwinds its staging. Staging
        directories of workers that are gone are removed last."""
        try:
            self._close(abort=abort)
        except BaseException:
            with contextlib.suppress(Exception):
                self._close(abort=True)
            raise
        finally:
            # A worker stopped in the instant between making its staging directory and
            # guarding it, or killed after the grace period, leaves that directory; its
            # process is gone now, so it goes (a live process's staging never does).
            remove_stale(self._out_dir, "staging")

    def _close(self, *, abort: bool) -> None:
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
        # Every worker has exited: what the queue's feeder thread still holds will never be
        # read, and waiting for it to flush into a pipe no one reads hung a stopped build
        # (SIGTERM about one time in four) until SIGKILL.
        self._tasks.cancel_join_thread()
        self._tasks.close()
