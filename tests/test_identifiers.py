"""archiver.model.identifiers: one UUID derivation, giving the identifiers already written."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.model.identifiers import ARCHIVER_UUID_NAMESPACE, derive_uuid


def test_stable_and_separates_parts() -> None:
    assert derive_uuid("a", "b") == derive_uuid("a", "b")
    assert derive_uuid("a", "b") != derive_uuid("ab")
    assert derive_uuid("a", "b") != derive_uuid("b", "a")
    assert uuid.UUID(derive_uuid("x")).version == 5


def test_same_identifiers_as_the_three_derivations_it_replaces() -> None:
    # PREMIS records of built bags (archiver.metadata.ingest)
    assert ARCHIVER_UUID_NAMESPACE == uuid.uuid5(uuid.NAMESPACE_URL, "urn:archiver")
    assert derive_uuid("entity", "c", "s.txt", "ab") == str(
        uuid.uuid5(ARCHIVER_UUID_NAMESPACE, "entity\x1fc\x1fs.txt\x1fab")
    )
    assert derive_uuid("entity", "c") == "7be17013-f94e-50f0-a275-67124e5bee29"
    # ledger events (archiver.ledger.chain.event_identifier)
    name = "archiver:event:" + '{"bag":"/b"}'
    assert derive_uuid(name, namespace=uuid.NAMESPACE_URL) == str(
        uuid.uuid5(uuid.NAMESPACE_URL, name)
    )
    # their PREMIS export (archiver.ledger.premis_export)
    parts = ("archiver:ledger", "fixity check", "run-1", "/b")
    assert derive_uuid(*parts, namespace=uuid.NAMESPACE_URL) == str(
        uuid.uuid5(uuid.NAMESPACE_URL, "\x1f".join(parts))
    )


@settings(max_examples=300)
@given(
    st.lists(st.text(alphabet=st.characters(exclude_categories=("Cs",))), max_size=5),
    st.sampled_from([ARCHIVER_UUID_NAMESPACE, uuid.NAMESPACE_URL, uuid.NAMESPACE_DNS]),
)
def test_equals_uuid5_for_any_text(parts: list[str], namespace: uuid.UUID) -> None:
    """Computed without a UUID object, it is still exactly Python's uuid5."""
    assert derive_uuid(*parts, namespace=namespace) == str(
        uuid.uuid5(namespace, "\x1f".join(parts))
    )
