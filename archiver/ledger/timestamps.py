"""RFC 3161 tokens of ledger runs: what each proves, and the check ``ledger verify`` makes.

Each recorded run (audit, deposit, repair) gets a token from the TSA over its run hash
just after the run is committed: the imprint is the SHA-512 of the run's ``hash`` as
64 ASCII hex digits (``printf %s HASH > run.txt; openssl ts -verify -in run.tsr -data
run.txt -CAfile tsa-ca.pem``). Tokens are kept in the table ``timestamps`` (seq, run_id,
token, gen_time, tsa), outside the hash chain (a token is obtained after the hash it
stamps exists); the table is made with a ledger's first token (no format version change),
so ledgers of every earlier format open and verify as before.

``check_tokens`` is what makes a rewrite of the whole chain detectable with no head hash
kept elsewhere: a run hash recomputed by an attacker no longer matches its token, and a
token obtained for the rewritten run is dated long after the run's recorded end. Since
every run hash covers the previous one, a valid token vouches for its run and every run
before it; runs after the last valid token are vouched for by none and are reported too
(``untimestamped``), so deleting tokens is no way out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from archiver.model.records import Problem
from archiver.timestamp.verify import digest_bytes, verify_token

if TYPE_CHECKING:
    from cryptography import x509

# a token is requested the moment its run is committed; one dated more than this after the
# run's end (or before it: clocks differ) was not obtained then
GRACE = timedelta(minutes=10)

TABLE = """CREATE TABLE IF NOT EXISTS timestamps (
    seq INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    token BLOB NOT NULL,
    gen_time TEXT NOT NULL,
    tsa TEXT NOT NULL)"""


@dataclass(frozen=True, slots=True)
class RunToken:
    """A run's stored token."""

    seq: int
    run_id: str
    token: bytes
    gen_time: str  # as the token says, ISO 8601 UTC
    tsa: str


@dataclass(frozen=True, slots=True)
class StampedRun:
    """What a run's token is checked against: its chained hash and recorded end."""

    seq: int
    run_id: str
    hash: str
    ended: str


def run_message(run_hash: str) -> bytes:
    """The bytes a run's token stamps: its hash in ASCII hex."""
    return run_hash.encode("ascii")


def _parse(moment: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def check_tokens(
    runs: Sequence[StampedRun],
    tokens: Mapping[int, RunToken],
    roots: Sequence[x509.Certificate] | None,
    *,
    now: datetime,
    grace: timedelta = GRACE,
) -> list[Problem]:
    """The problems of the runs' tokens, in chain order; none when there are no tokens and
    no CA (a ledger never timestamped, checked by someone who does not ask for it).

    ``roots`` None: no CA is configured; stored tokens are then reported unverified.
    """
    if roots is None:
        if not tokens:
            return []
        earliest = min(tokens)
        return [
            Problem(
                "timestamp-unverified",
                f"{len(tokens)} runs have timestamp tokens but no [timestamp] ca is "
                "configured to verify them (archive.toml, --config)",
                earliest,
                tokens[earliest].run_id,
            )
        ]
    problems: list[Problem] = []
    covered = 0  # runs up to this seq are vouched for by a valid token
    for run in runs:
        token = tokens.get(run.seq)
        if token is None:
            continue
        where = f"run {run.seq} ({run.run_id})"
        verdict = verify_token(token.token, digest_bytes(run_message(run.hash)), roots, now=now)
        if not verdict.valid:
            problems.append(
                Problem(
                    "timestamp-invalid",
                    f"{where}: its timestamp token does not verify: {verdict.reason}",
                    run.seq,
                    run.run_id,
                )
            )
            continue
        ended = _parse(run.ended)
        if ended is None or verdict.gen_time is None:
            problems.append(
                Problem("timestamp-invalid", f"{where}: no end time", run.seq, run.run_id)
            )
            continue
        late = verdict.gen_time - ended
        if late > grace or -late > grace:
            word = "after" if late > grace else "before"
            problems.append(
                Problem(
                    "timestamp-late" if late > grace else "timestamp-early",
                    f"{where}: its token is dated {verdict.gen_time.isoformat()}, "
                    f"{abs(late).total_seconds():.0f} s {word} the run's recorded end "
                    f"{run.ended} (obtained for a rewritten run?)",
                    run.seq,
                    run.run_id,
                )
            )
            continue
        covered = run.seq
    uncovered = [run for run in runs if run.seq > covered]
    if uncovered:
        first = uncovered[0]
        problems.append(
            Problem(
                "untimestamped",
                f"run {first.seq} ({first.run_id})"
                + (f" and {len(uncovered) - 1} later runs" if len(uncovered) > 1 else "")
                + " are covered by no valid timestamp token (the TSA failed, or tokens were "
                "removed); the next run's token covers them",
                first.seq,
                first.run_id,
            )
        )
    return sorted(problems, key=lambda p: p.seq or 0)
