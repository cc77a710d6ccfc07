"""What characterization found about a file: its text profile and its PRONOM format.

Records only; ``archiver.build.characterize`` produces them, the metadata records and the
build report read them.
"""

from __future__ import annotations

from dataclasses import dataclass

PLAIN_TEXT_PUID = "x-fmt/111"


@dataclass(frozen=True, slots=True)
class TextProfile:
    """What the bytes say about text: UTF-8 validity, BOM, NUL bytes, line endings."""

    valid_utf8: bool
    bom: bool
    has_nul: bool
    crlf: int
    lf: int
    cr: int

    @property
    def is_text(self) -> bool:
        """Valid UTF-8 (ASCII included) with no NUL bytes."""
        return self.valid_utf8 and not self.has_nul

    @property
    def encoding(self) -> str:
        """'UTF-8', 'UTF-8 with BOM' or 'unknown'."""
        if not self.valid_utf8:
            return "unknown"
        return "UTF-8 with BOM" if self.bom else "UTF-8"

    @property
    def line_endings(self) -> str:
        """'LF', 'CRLF', 'CR', 'mixed' or 'none'."""
        kinds = [name for name, n in (("LF", self.lf), ("CRLF", self.crlf), ("CR", self.cr)) if n]
        if not kinds:
            return "none"
        return kinds[0] if len(kinds) == 1 else "mixed"

    def describe(self) -> str:
        """One line for PREMIS and the build report."""
        if not self.is_text:
            return "not text: " + ("contains NUL bytes" if self.has_nul else "not valid UTF-8")
        return (
            f"{self.encoding}; line endings {self.line_endings} "
            f"(LF {self.lf}, CRLF {self.crlf}, CR {self.cr})"
        )


@dataclass(frozen=True, slots=True)
class FormatMatch:
    """A PRONOM identification."""

    puid: str | None
    name: str
    version: str | None
    mime_type: str | None
    basis: str  # "signature", "container", "extension", "extension+text" or "none"
    candidates: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for PREMIS: what was chosen and why."""
        if self.puid is None:
            return "no PRONOM format matched"
        others = [c for c in self.candidates if c != self.puid]
        tail = f"; other candidates: {', '.join(others)}" if others else ""
        return f"{self.puid} ({self.name}) by {self.basis} match{tail}"
