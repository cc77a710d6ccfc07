"""Tests for archiver.ledger.chain: canonical JSON, record hashes, pure chain verification."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.ledger.chain import (
    FORMAT_V1,
    GENESIS,
    ChildRows,
    StoredRun,
    canonical_json,
    canonical_json_v1,
    canonical_outcome,
    child_hash,
    children_digest,
    decode_members,
    encode_members,
    is_member,
    merkle_root,
    missing_tables,
    run_fields,
    run_hash,
    verify_chain,
)

OUTCOME = {"bag": "/c/a", "status": "valid", "files": 1, "bytes": 2, "findings": []}


def stored_chain(count: int) -> list[StoredRun]:
    """``count`` runs of one valid outcome each, hashed and linked as a format 1 ledger
    stores them (format 2 audit runs are tested through the store, tests/test_store.py)."""
    runs: list[StoredRun] = []
    prev, prev_id = GENESIS, ""
    for seq in range(1, count + 1):
        run_id = f"r{seq}"
        lines = [f"o:{child_hash({'run_id': run_id, **OUTCOME}, FORMAT_V1)}"]
        fields = run_fields(
            run_id=run_id,
            kind="audit",
            started="2026-01-01T00:00:00+00:00",
            ended="2026-01-01T00:00:01+00:00",
            mode="full",
            roots=["/c"],
            versions={"archiver": "1"},
            bags=1,
            failed=0,
            files=1,
            bytes_=2,
            seconds=1.0,
            children=1,
            children_hash=children_digest(lines),
            prev_hash=prev,
            prev_run_id=prev_id,
            format_=FORMAT_V1,
        )
        digest = run_hash(fields)
        runs.append(
            StoredRun(
                seq,
                run_id,
                "audit",
                fields["started"],
                fields["ended"],
                "full",
                canonical_json(["/c"]).decode(),
                canonical_json({"archiver": "1"}).decode(),
                1,
                0,
                1,
                2,
                1.0,
                1,
                fields["children_hash"],
                prev,
                digest,
                prev_id,
            )
        )
        prev, prev_id = digest, run_id
    return runs


def outcome_rows(run: StoredRun, status: str = "valid") -> ChildRows:
    row = {"run_id": str(run.run_id), **OUTCOME}
    stored = (0, "/c/a", status, 1, 2, "[]", child_hash(row, FORMAT_V1))
    return [stored], []


def head_of(runs: list[StoredRun]) -> dict[str, str]:
    return {"head_seq": str(runs[-1].seq), "head_hash": str(runs[-1].hash)}


def test_canonical_json() -> None:
    assert canonical_json({"b": [1, "é"], "a": None}) == '{"a":null,"b":[1,"é"]}'.encode()
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_intact_chain_has_no_problems() -> None:
    runs = stored_chain(3)
    by_seq = {run.seq: run for run in runs}
    assert verify_chain(runs, lambda seq: outcome_rows(by_seq[seq]), [], head_of(runs)) == []
    problems = verify_chain(runs, lambda seq: outcome_rows(by_seq[seq]), [], head_of(runs), "0")
    assert [(p.kind, p.seq) for p in problems] == [("head-mismatch", 3)]


Tamper = Callable[[list[StoredRun]], list[StoredRun]]


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (
            lambda runs: [runs[0], dataclasses.replace(runs[1], mode="fast"), runs[2]],
            [("edited-run", 2, "run seq 2 (id r2): run row edited")],
        ),
        (
            lambda runs: runs[1:],
            [("deleted-run", 2, "run seq 1 (id r1) missing before run seq 2 (id r2)")],
        ),
        (
            lambda runs: [runs[0], dataclasses.replace(runs[2], seq=2)],
            [("deleted-run", 2, "run r2 between run seq 1 (id r1) and run seq 2 (id r3)")],
        ),
        (
            lambda runs: [runs[0], runs[2]],
            [("deleted-run", 3, "run seq 2 (id r2) missing before run seq 3 (id r3)")],
        ),
    ],
    ids=["edited-run", "deleted-first", "deleted-renumbered", "deleted-middle"],
)
def test_broken_links_are_diagnosed(tamper: Tamper, expected: list[tuple[str, int, str]]) -> None:
    runs = tamper(stored_chain(3))
    by_seq = {run.seq: run for run in runs}
    problems = verify_chain(runs, lambda seq: outcome_rows(by_seq[seq]), [], head_of(runs))
    assert len(problems) == len(expected)
    for problem, (kind, seq, start) in zip(problems, expected, strict=True):
        assert (problem.kind, problem.seq) == (kind, seq)
        assert problem.message.startswith(start), problem.message


def test_edited_outcome_orphans_and_truncated_head() -> None:
    runs = stored_chain(2)
    by_seq = {run.seq: run for run in runs}

    def children(seq: int) -> ChildRows:
        return outcome_rows(by_seq[seq], "invalid" if seq == 2 else "valid")

    problems = verify_chain(runs, children, [7], {"head_seq": "3", "head_hash": "f" * 64})
    assert [(p.kind, p.seq) for p in problems] == [
        ("edited-outcome", 2),
        ("deleted-run", 7),
        ("truncated", 2),
    ]


def test_missing_tables() -> None:
    assert missing_tables({"meta", "runs", "outcomes", "events"}) == []
    problems = missing_tables({"meta", "outcomes"})
    assert [p.message for p in problems] == ["table runs was dropped", "table events was dropped"]


def test_rfc8785_and_format_1_canonical_json_differ_where_the_rfc_says() -> None:
    value = {"seconds": 2.0, "\U0001f600": 1, "\ufb01": 2, "big": 1e21}
    # RFC 8785: numbers as ECMAScript prints them, keys sorted by UTF-16 code units
    assert canonical_json(value) == '{"big":1e+21,"seconds":2,"😀":1,"ﬁ":2}'.encode()
    assert canonical_json_v1(value) == '{"big":1e+21,"seconds":2.0,"ﬁ":2,"😀":1}'.encode()


_JSON_KEYS = st.text(max_size=8) | st.sampled_from(["\U0001f600", "\ufb01", "a", "A", ""])
_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(_JSON_KEYS, inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(_JSON_VALUES)
def test_canonical_json_is_rfc8785_byte_for_byte(value: object) -> None:
    """The fast path (the C encoder) gives rfc8785's bytes, or rfc8785's error."""
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        with pytest.raises(ValueError, match="cannot canonicalize"):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        {"a\ud800": 1},  # a lone surrogate
        {1: "an int key"},
        [2**53],
        {"x": float("nan")},
        {"nested": [{"k": [1, 2.5, "\u0007\x7f\u2028"]}]},
        {"bag": "b", "status": "valid", "files": 1, "bytes": 2, "findings": []},
    ],
)
def test_canonical_json_edges_are_rfc8785s(value: object) -> None:
    try:
        expected = rfc8785.dumps(value)
    except ValueError:  # CanonicalizationError, or UnicodeEncodeError for a surrogate
        with pytest.raises(ValueError):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


_OUTCOMES = st.fixed_dictionaries(
    {
        "bag": st.text(),
        "status": st.sampled_from(["valid", "invalid"]),
        "files": st.integers(min_value=0, max_value=2**60),
        "bytes": st.integers(min_value=0, max_value=2**60),
        "findings": st.lists(st.dictionaries(_JSON_KEYS, _JSON_VALUES, max_size=4), max_size=3),
    },
    optional={"tagmanifests": st.dictionaries(_JSON_KEYS, _JSON_VALUES, max_size=3)},
)


@settings(max_examples=200, deadline=None)
@given(_OUTCOMES)
def test_canonical_outcome_is_rfc8785_of_each_part(fields: dict[str, object]) -> None:
    """The outcome's hash and its stored findings and tag digests, checked once, are the
    SHA-256 of rfc8785's bytes and rfc8785's bytes (or rfc8785's error)."""
    tags = fields.get("tagmanifests")
    try:
        expected = (
            hashlib.sha256(rfc8785.dumps(fields)).hexdigest(),
            rfc8785.dumps(fields["findings"]),
            rfc8785.dumps(tags) if tags else b"",
        )
    except rfc8785.CanonicalizationError:
        with pytest.raises(ValueError, match="cannot canonicalize"):
            canonical_outcome(fields)
        return
    assert canonical_outcome(fields) == expected


def test_merkle_root_is_rfc_6962() -> None:
    def leaf(i: int) -> str:
        return hashlib.sha256(bytes([i])).hexdigest()

    def h(data: bytes) -> bytes:
        return hashlib.sha256(data).digest()

    a, b, c = (h(b"\x00" + bytes.fromhex(leaf(i))) for i in range(3))
    assert merkle_root([]) == hashlib.sha256(b"").hexdigest()
    assert merkle_root([leaf(0)]) == a.hex()
    assert merkle_root([leaf(0), leaf(1)]) == h(b"\x01" + a + b).hex()
    assert merkle_root([leaf(0), leaf(1), leaf(2)]) == h(b"\x01" + h(b"\x01" + a + b) + c).hex()


@pytest.mark.parametrize("ids", [[], [1], [1, 2, 3], [0, 7, 8, 9, 10, 11, 12, 13, 14, 15, 800]])
def test_members_bitmap_round_trip(ids: list[int]) -> None:
    blob = encode_members(ids)
    assert decode_members(blob) == ids
    assert all(is_member(blob, i) for i in ids)
    assert not is_member(blob, 5) and not is_member(blob, 10_000)
