"""Repair one bag from its replicas: establish the reference, plan, restore, re-check.

Order (each step the trust model of README "Repair" allows):

1. The bag's lock is taken (``fileio.bag_lock``); leftovers of a killed repair removed.
2. The bag is validated in full (the findings before) and its tag manifests compared with
   the digests recorded at its last good audit.
3. The reference: the tag manifests matching the record (the bag's own, else the first
   replica's copy whose every digest matches the record); with no record, the bag's own
   tag manifests only if every tag file verifies against them, else the repair is refused.
   Then the payload manifests, the bag's own if they match the tag manifests, else a
   replica's copy that does.
4. The plan (``plan.plan_repair``): files missing or differing in any algorithm are
   restored, unexpected payload files quarantined.
5. Each file is restored from the first replica holding bytes that match every digest
   (``apply.copy_verified``), tag manifests first, then tag files, then the payload.
6. The bag is validated again (the outcome after).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from archiver.bag.tagfiles import manifest_name
from archiver.bag.validator import MAX_TAG_BYTES, HashResult, finish_bag, hash_jobs, plan_bag
from archiver.ledger.reference import check_report
from archiver.model.digest import PRESERVATION_ALGORITHMS, digest_bytes
from archiver.model.errors import ArchiverError, BagReadError
from archiver.model.findings import BagReport, Finding, Kind
from archiver.model.records import TagManifestRecord
from archiver.policy import default_checkers
from archiver.repair.apply import (
    copy_verified,
    list_files,
    quarantine,
    read_verified,
    remove_stale,
    write_verified,
)
from archiver.repair.plan import (
    Attempt,
    AttemptStatus,
    BagRepair,
    Digests,
    RepairStatus,
    Restored,
    Unhealed,
    digests_match,
    parse_entries,
    plan_repair,
    record_mismatch,
)
from archiver.repair.replicas import BagRef, Replica, ReplicaView
from archiver.storage.fileio import (
    FileTooLargeError,
    NotRegularFileError,
    bag_lock,
    hash_file,
    read_bounded,
)


class _Replicas:
    """The replicas of one bag, each opened once on first use and closed at the end."""

    def __init__(self, replicas: Sequence[Replica], bag: BagRef, stack: contextlib.ExitStack):
        self.replicas = replicas
        self.bag = bag
        self.stack = stack
        self.views: dict[str, ReplicaView | str] = {}

    def view(self, replica: Replica) -> ReplicaView | str:
        """The open view, or the reason the replica is unreachable."""
        if replica.uri not in self.views:
            try:
                self.views[replica.uri] = self.stack.enter_context(replica.open(self.bag))
            except ArchiverError as exc:  # Unreachable, or a replica's bad settings/sidecars
                self.views[replica.uri] = str(exc)
            except OSError as exc:
                self.views[replica.uri] = f"{replica.uri}: {exc.strerror or exc}"
        return self.views[replica.uri]

    def unreachable(self) -> tuple[Attempt, ...]:
        return tuple(
            Attempt(uri, AttemptStatus.UNREACHABLE, v)
            for uri, v in self.views.items()
            if isinstance(v, str)
        )

    def fetch(
        self,
        path: str,
        want: Digests,
        use: Callable[[ReplicaView, str, Digests], tuple[bool, str, dict[str, str]]],
    ) -> Restored | Unhealed:
        """Try each replica in turn with ``use(view, path, want)`` → (ok, where, found)."""
        attempts: list[Attempt] = []
        for replica in self.replicas:
            view = self.view(replica)
            if isinstance(view, str):
                attempts.append(Attempt(replica.uri, AttemptStatus.UNREACHABLE, view))
                continue
            try:
                ok, where, found = use(view, path, want)
            except OSError as exc:
                attempts.append(Attempt(replica.uri, AttemptStatus.UNREACHABLE, f"{path}: {exc}"))
                continue
            if ok:
                return Restored(path, replica.uri, where, dict(want))
            if not where:
                attempts.append(
                    Attempt(replica.uri, AttemptStatus.MISSING, f"no {path} in {view.location}")
                )
            else:
                wrong = ", ".join(f"{a} {found[a]}" for a in sorted(found) if found[a] != want[a])
                attempts.append(
                    Attempt(replica.uri, AttemptStatus.WRONG_DIGEST, f"{where}: {wrong}")
                )
        return Unhealed(path, dict(want), tuple(attempts))


def _read_from(
    view: ReplicaView, path: str, want: Digests
) -> tuple[bool, str, dict[str, str], bytes | None]:
    where, found = "", dict[str, str]()
    for source in view.sources(path, want):
        data, found = read_verified(source, want)
        where = source.where
        if data is not None:
            return True, where, found, data
    return False, where, found, None


class _Digests:
    """The bag's current digests: from the check before, else hashed once on demand
    (sha256 and sha512 always, with whatever else is asked, in one read)."""

    def __init__(self, bag: Path, known: Mapping[str, Mapping[str, str]]):
        self.bag = bag
        self.known = {path: dict(d) for path, d in known.items()}

    def __call__(self, rel: str, algorithms: Sequence[str]) -> dict[str, str]:
        have = self.known.get(rel, {})
        if not all(a in have for a in algorithms):
            path = self.bag / rel
            if path.is_symlink() or not path.is_file():
                return {}
            try:
                have = hash_file(path, sorted({*PRESERVATION_ALGORITHMS, *algorithms}))[0]
            except OSError:
                return {}
            self.known[rel] = have
        return {a: have[a] for a in algorithms}


def bag_ref(bag: Path, identifiers: Sequence[str]) -> BagRef:
    """The bag's name and the identifiers its replicas may use (bag-info's first)."""
    from archiver.bag.identity import bag_identifier

    found: list[str] = []
    with contextlib.suppress(BagReadError, OSError):
        found.append(bag_identifier(bag)[0])
    found.extend(identifiers)
    name = Path(os.path.abspath(bag)).name
    found.append(name)
    return BagRef(name=name, identifiers=tuple(dict.fromkeys(found)))


def _validate(
    bag: Path,
    name: str,
    record: TagManifestRecord | None,
    written: Mapping[str, Mapping[str, str]] | None = None,
) -> tuple[BagReport, dict[str, dict[str, str]]]:
    """The bag's full report (compared with ``record``) and the digests it hashed.

    ``written``: files this repair has just written, with the digests their bytes were
    verified against as they were written: not read again (a re-read right after the
    write would come from the page cache and prove nothing more).
    """
    try:
        plan = plan_bag(bag, mode="full", name=name, checkers=default_checkers())
    except BagReadError as exc:
        finding = Finding(Kind.INVALID_DECLARATION, name, "bagit.txt", str(exc))
        return BagReport(bag=name, findings=(finding,)), {}
    done = written or {}
    skip = [j for j in plan.jobs if j.path in done and all(a in done[j.path] for a in j.algorithms)]
    skipped = {j.path for j in skip}
    results = hash_jobs([j for j in plan.jobs if j.path not in skipped])
    results += [
        HashResult(name, j.path, {a: done[j.path][a] for a in j.algorithms}, j.size) for j in skip
    ]
    digests = {r.path: dict(r.digests) for r in results if r.error is None}
    return check_report(finish_bag(plan, results), record), digests


def repair_bag(
    bag: Path,
    replicas: Sequence[Replica],
    record: TagManifestRecord | None,
    *,
    run_id: str,
    clock: Callable[[], datetime],
    dry_run: bool = False,
    identifiers: Sequence[str] = (),
    before: BagReport | None = None,
) -> BagRepair:
    """Repair ``bag`` (a directory) from ``replicas``; see the module docstring.

    ``record``: the tag-manifest digests of its last good audit (None: never recorded).
    ``before``: its report (already compared with ``record``) when the caller has just
    audited it. Raises
    ``BagReadError`` if ``bag`` is not a directory, ``ConflictError`` if it is locked.
    """
    if not bag.is_dir():
        raise BagReadError(f"{bag}: no such bag directory")
    name = os.path.abspath(bag)
    with bag_lock(bag, "repairing it"), contextlib.ExitStack() as stack:
        started = clock().isoformat()
        if not dry_run:
            remove_stale(bag)
        known: dict[str, dict[str, str]] = {}
        if before is None or before.bag != name:
            before, known = _validate(bag, name, record)
        if before.valid:
            return BagRepair(
                name, RepairStatus.INTACT, before, before, started=started, ended=started
            )
        pool = _Replicas(replicas, bag_ref(bag, identifiers), stack)
        current = _Digests(bag, known)
        result = _repair(bag, name, before, record, pool, dry_run, run_id, current)
        if result.status is RepairStatus.REFUSED or dry_run:
            return _done(result, clock, started)
        if result.status is RepairStatus.FAILED and not (result.restored or result.quarantined):
            return _done(result, clock, started)
        after, _ = _validate(bag, name, record, {r.path: r.digests for r in result.restored})
        status = (
            RepairStatus.REPAIRED if after.valid and not result.unhealed else RepairStatus.FAILED
        )
        reason = result.reason
        if status is RepairStatus.FAILED and not reason:
            reason = "the bag is still invalid after the repair"
        return _done(
            BagRepair(
                name,
                status,
                before,
                after,
                result.restored,
                result.quarantined,
                result.unhealed,
                pool.unreachable(),
                reason,
                result.notes,
                kept=result.kept,
            ),
            clock,
            started,
        )


def _done(result: BagRepair, clock: Callable[[], datetime], started: str) -> BagRepair:
    return dataclasses.replace(result, started=started, ended=clock().isoformat())


def _repair(
    bag: Path,
    name: str,
    before: BagReport,
    record: TagManifestRecord | None,
    pool: _Replicas,
    dry_run: bool,
    run_id: str,
    current: Callable[[str, Sequence[str]], dict[str, str]],
) -> BagRepair:
    notes: list[str] = []
    restored: list[Restored] = []
    unhealed: list[Unhealed] = []
    fetched: dict[str, bytes] = {}  # small files read whole from a replica, to write

    def refuse(reason: str) -> BagRepair:
        return BagRepair(
            name, RepairStatus.REFUSED, before, reason=reason, unreachable=pool.unreachable()
        )

    def in_memory(path: str, want: Digests) -> bytes | None:
        """The bytes ``path`` must hold: the bag's own if they match, else a replica's."""
        local = bag / path
        if local.is_file() and not local.is_symlink():
            try:
                data = read_bounded(local, MAX_TAG_BYTES)
            except OSError:  # a giant or swapped file is not the bytes wanted: fetch them
                data = None
            if data is not None and digests_match(want, digest_bytes(data, want)):
                return data
        holder: dict[str, bytes] = {}

        def use(view: ReplicaView, rel: str, wanted: Digests) -> tuple[bool, str, dict[str, str]]:
            ok, where, found, data = _read_from(view, rel, wanted)
            if data is not None:
                holder["data"] = data
            return ok, where, found

        outcome = pool.fetch(path, want, use)
        if isinstance(outcome, Unhealed):
            unhealed.append(outcome)
            return None
        restored.append(outcome)
        fetched[path] = holder["data"]
        return holder["data"]

    # 1. the tag manifests
    present_tm = {
        n: data
        for n in sorted(os.listdir(bag))
        if (m := manifest_name(n)) is not None and m.tag and (bag / n).is_file()
        if (data := _tag_manifest(bag / n)) is not None
    }
    if record is not None:
        tm_now = {n: digest_bytes(d, PRESERVATION_ALGORITHMS) for n, d in present_tm.items()}
        changed = record_mismatch(tm_now, record.digests)
        if changed:
            notes.append(
                f"tag manifests {', '.join(changed)} differ from the last good audit "
                f"(run {record.run_id}): only a replica copy matching that record is used"
            )
        tm_bytes: dict[str, bytes] = {}
        for tm_name, want in sorted(record.digests.items()):
            data = in_memory(tm_name, want)
            if data is not None:
                tm_bytes[tm_name] = data
        if unhealed:
            return BagRepair(
                name,
                RepairStatus.FAILED,
                before,
                restored=tuple(restored),
                unhealed=tuple(unhealed),
                unreachable=pool.unreachable(),
                reason="no replica holds tag manifests matching the last good audit's record",
                notes=tuple(notes),
            )
    else:
        if not present_tm:
            return refuse(
                "the bag has no tag manifest and the ledger holds no record of its tag "
                "manifests from a good audit: no trustworthy reference to repair from"
            )
        tm_bytes = present_tm
    try:
        tag_ref = parse_entries(tm_bytes, tag=True)
    except ValueError as exc:
        return refuse(f"the tag manifests cannot be parsed ({exc})")
    if record is None:
        damaged = [
            p
            for p, want in sorted(tag_ref.items())
            if not digests_match(want, current(p, list(want)))
        ]
        if damaged:
            return refuse(
                f"tag files {', '.join(damaged)} fail the bag's tag manifests "
                f"({', '.join(sorted(tm_bytes))}) and the ledger "
                "holds no record of its tag manifests from a good audit, so neither the bag "
                "nor a replica can be trusted to say what is right; run 'archiver audit' on "
                "a good copy first, or restore by hand"
            )
        notes.append(
            "no ledger record of the tag manifests: the bag's own tag manifests are the "
            "reference (its tag files verify against them)"
        )
    # 2. the payload manifests
    manifests: dict[str, bytes] = {}
    for path, want in sorted(tag_ref.items()):
        described = manifest_name(path)
        if described is not None and not described.tag:
            data = in_memory(path, want)
            if data is not None:
                manifests[path] = data
    if unhealed:
        return BagRepair(
            name,
            RepairStatus.FAILED,
            before,
            restored=tuple(restored),
            unhealed=tuple(unhealed),
            unreachable=pool.unreachable(),
            reason="no replica holds payload manifests matching the tag manifests",
            notes=tuple(notes),
        )
    try:
        payload_ref = parse_entries(manifests, tag=False)
    except ValueError as exc:
        return refuse(f"the payload manifests cannot be parsed ({exc})")
    reference: dict[str, Digests] = {**payload_ref, **tag_ref}
    if record is not None:
        reference.update(record.digests)
    # 3. the plan
    present = list_files(bag)
    current_digests = {
        path: current(path, list(want)) for path, want in reference.items() if path in present
    }
    plan = plan_repair(reference, present, current_digests)
    # 4. quarantine (unexpected files out, damaged bytes kept), then restore
    sha = PRESERVATION_ALGORITHMS
    moved, kept = quarantine(
        bag,
        {p: (present[p], current(p, sha)) for p in plan.quarantine},
        {p: (present[p], current(p, sha)) for p in plan.restore if p in present},
        run_id,
        dry_run=dry_run,
    )

    def order(path: str) -> tuple[int, str]:
        described = manifest_name(path)
        if described is not None and described.tag:
            return (0, path)
        return (2 if path.startswith("data/") else 1, path)

    for path in sorted(plan.restore, key=order):
        want = plan.restore[path]
        if path in fetched:
            if not dry_run:
                write_verified(bag / path, fetched[path])
            continue

        def use(view: ReplicaView, rel: str, wanted: Digests) -> tuple[bool, str, dict[str, str]]:
            target = None if dry_run else bag / rel
            where, found = "", dict[str, str]()
            for source in view.sources(rel, wanted):
                ok, found = copy_verified(source, wanted, target)
                where = source.where
                if ok:
                    return True, where, found
            return False, where, found

        outcome = pool.fetch(path, want, use)
        if isinstance(outcome, Unhealed):
            unhealed.append(outcome)
        else:
            restored.append(outcome)
    restored = [r for r in restored if r.path in plan.restore]
    status = (
        RepairStatus.FAILED
        if unhealed
        else (RepairStatus.WOULD_REPAIR if dry_run else RepairStatus.REPAIRED)
    )
    reason = ""
    if unhealed:
        reason = f"no replica holds good bytes for {len(unhealed)} file(s)"
    elif not plan.restore and not plan.quarantine:
        reason = "nothing differs from the reference; the findings are not ones a copy can heal"
        status = RepairStatus.FAILED
    return BagRepair(
        name,
        status,
        before,
        restored=tuple(restored),
        quarantined=tuple(moved),
        kept=tuple(kept),
        unhealed=tuple(unhealed),
        unreachable=pool.unreachable(),
        reason=reason,
        notes=tuple(notes),
    )


def _tag_manifest(path: Path) -> bytes | None:
    """A tag manifest's bytes, read bounded (``MAX_TAG_BYTES``); None for one too large or
    not a regular file, which is then damaged and restored like a missing one."""
    try:
        return read_bounded(path, MAX_TAG_BYTES)
    except (FileTooLargeError, NotRegularFileError):
        return None
