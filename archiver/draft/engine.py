"""Draft a statement's catalog description from its text (pure once the resources are loaded)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from archiver.draft.creators import CreatorFinder
from archiver.draft.dates import draft_date
from archiver.draft.evidence import Draft, Evidence
from archiver.draft.gazetteer import Gazetteer
from archiver.draft.genre import draft_genre
from archiver.draft.language import (
    SECOND_MIN_CONFIDENCE,
    Detector,
    draft_languages,
    line_languages,
    lingua_detector,
)
from archiver.draft.morphology import Morphology
from archiver.draft.places import PlaceFinder
from archiver.draft.text import read_document
from archiver.draft.title import draft_title

# Creators found in these places do not make their lines signatory lines.
HEADING_NOTES = frozenset({"first sentence", "official", "named in the heading"})


class Drafter:
    """Drafts descriptions; loads the language detector, morphology and gazetteer once."""

    def __init__(
        self,
        detector: Detector | None = None,
        gazetteer: Gazetteer | None = None,
        morphology: Morphology | None = None,
    ) -> None:
        # lingua loads its models without holding the GIL: load them beside the rest
        with ThreadPoolExecutor(max_workers=1) as pool:
            given = detector
            pending = pool.submit(lingua_detector if given is None else lambda: given)
            self.gazetteer = gazetteer if gazetteer is not None else Gazetteer.load()
            self.morphology = morphology if morphology is not None else Morphology()
            self.detect: Detector = pending.result()
        self.places = PlaceFinder(self.gazetteer, self.morphology)
        self.creators = CreatorFinder(self.gazetteer, self.morphology)

    def _is_place(self, name: str) -> bool:
        return self.gazetteer.best(name) is not None

    def draft(self, text: str) -> Draft:
        """The draft of ``text``: title, date, creators, places, languages, type and genre."""
        document = read_document(text)
        found = line_languages(document, self.detect)
        main = draft_languages(found)
        by_line = {
            item.line.number: item.code
            for item in found
            if item.confidence >= SECOND_MIN_CONFIDENCE
        }
        title = draft_title(document, by_line, main[0].value if main else None, self._is_place)
        title_line = title[0].line if title else None
        date = draft_date(document)
        creators = self.creators.find(document, title_line)
        skip = {e.line for e in creators if e.note not in HEADING_NOTES}
        languages = draft_languages(found, skip)
        date_lines = {e.line for e in date}
        places = self.places.find(document, title_line, skip, date_lines)
        kind = [Evidence("Text", 0, "", 0.95, "a text file (DCMI Type)")]
        genre = draft_genre(document, title_line)
        return Draft(
            {
                "dc.title": tuple(title),
                "dc.date": tuple(date),
                "dc.creator": tuple(creators),
                "dcterms.spatial": tuple(places),
                "dc.language": tuple(languages),
                "dc.type": tuple(kind),
                "dcterms.type": tuple(genre),
            }
        )
