"""Controlled rights and genre terms: the URIs a catalog row may name.

Two small tables, package data next to the JSON Schemas: ``schemas/rights-uris.json``
(RightsStatements.org statements and Creative Commons licenses and tools, as their
publishers spell the URIs) and ``schemas/genres.json`` (genre terms of a named
vocabulary, LCGFT). The catalog's ``dcterms.rights`` and ``dcterms.license`` must be one
of the first, its ``dcterms.type`` (the genre, beside the DCMI type in ``dc.type``) one of
the second; :mod:`archiver.metadata.dublin_core` checks them, PREMIS (rights statements)
and RO-Crate read their labels here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files


@dataclass(frozen=True, slots=True)
class Term:
    """A controlled term: its URI, label and vocabulary (and, for rights, its kind:
    "rights statement" or "license")."""

    uri: str
    label: str
    vocabulary: str
    kind: str | None = None


def _load(name: str) -> Mapping[str, Term]:
    data = json.loads(files("archiver.metadata").joinpath("schemas", name).read_text("utf-8"))
    return {
        t["uri"]: Term(t["uri"], t["label"], t["vocabulary"], t.get("kind")) for t in data["terms"]
    }


@cache
def rights_terms() -> Mapping[str, Term]:
    """Every known rights URI -> its term."""
    return _load("rights-uris.json")


@cache
def genre_terms() -> Mapping[str, Term]:
    """Every known genre URI -> its term."""
    return _load("genres.json")


def rights_term(uri: str | None) -> Term | None:
    """The rights term of ``uri`` (None for None or an unknown URI)."""
    return rights_terms().get(uri) if uri else None


def genre_term(uri: str | None) -> Term | None:
    """The genre term of ``uri`` (None for None or an unknown URI)."""
    return genre_terms().get(uri) if uri else None
