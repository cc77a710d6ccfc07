"""The draft of one statement: each term's values with the evidence behind them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DRAFT_TERMS: tuple[str, ...] = (
    "dc.title",
    "dc.date",
    "dc.creator",
    "dcterms.spatial",
    "dc.language",
    "dc.type",
    "dcterms.type",
)


@dataclass(frozen=True)
class Evidence:
    """One drafted value, the line it came from (1-based, 0 if none), that line and a confidence.

    ``note`` says how the value was found (e.g. ``approximate: month inferred``).
    """

    value: str
    line: int
    text: str
    confidence: float
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        """The evidence as JSON."""
        record: dict[str, Any] = {
            "value": self.value,
            "line": self.line,
            "text": self.text,
            "confidence": round(self.confidence, 2),
        }
        if self.note:
            record["note"] = self.note
        return record


@dataclass(frozen=True)
class Draft:
    """A drafted catalog description: per term, the values in order with their evidence."""

    fields: dict[str, tuple[Evidence, ...]] = field(default_factory=dict)

    def values(self, term: str) -> list[str]:
        """The drafted values of ``term``."""
        return [e.value for e in self.fields.get(term, ())]

    def draft_json(self) -> dict[str, list[str]]:
        """The ``draft`` object: the shape of ``metadata/dc.json`` (term -> list of strings)."""
        return {term: self.values(term) for term in DRAFT_TERMS}

    def evidence_json(self) -> dict[str, list[dict[str, Any]]]:
        """The ``evidence`` object: term -> list of {value, line, text, confidence}."""
        return {term: [e.to_json() for e in self.fields.get(term, ())] for term in DRAFT_TERMS}
