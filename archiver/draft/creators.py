"""Who made a statement (``dc.creator``).

In order of preference:

1. a list after a "signed" heading in the statement's language (``Signed:``,
   ``Подписали:``, ``Қол қойғандар:``, ``Signataires :``), numbered or not;
2. a closing: a person's name, then a function, then an organization (each signer:
   the person, inverted "Surname, Given", and the organization);
3. a plain list of names after the text (the signatories without a heading);
4. a byline (``By Central Asian Lawyers Network, 16 June 2021``);
5. the subject of the first sentence (``X and Y have issued the following letter``);
6. an official named in the heading (``Remarks by ... Teresa Ribeiro at ...``).

``Org, Country`` becomes ``Org (Country)``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from archiver.draft.evidence import Evidence
from archiver.draft.gazetteer import Gazetteer
from archiver.draft.morphology import Morphology, is_cyrillic
from archiver.draft.places import ORG_WORDS
from archiver.draft.text import Document, Line

_SIGNED_RE = re.compile(
    r"^(?:the\s+)?(?:statement|appeal|letter|declaration)?\s*(?:was\s+|is\s+)?"
    r"(?:signed(?:\s+by)?|signatories|signatures|signed organi[sz]ations|list of signatories|"
    r"подписали|подписи|подписанты|список подписавших|подписавшие|"
    r"(?:мәлімдемеге\s+|үндеуге\s+|хатқа\s+)?қол\s+қой(?:ғандар|ған\s+ұйымдар)|"
    r"signataires|signé(?:\s+par)?|unterzeichner(?:innen)?|підписали|підписанти)"
    r"\s*(?:\(\d+\))?\s*:?\s*$",
    re.IGNORECASE,
)
_NUMBERING_RE = re.compile(r"^\s*(?:\d{1,3}\s*[.)]|[-–—•*])\s*")
FUNCTION_WORDS = frozenset(
    """director chair chairman chairwoman chairperson president coordinator head executive
    secretary spokesperson founder lawyer journalist expert member ombudsman editor
    coordinatrice coordinateur directeur directrice présidente président responsable avocat
    председатель директор руководитель координатор юрист журналист правозащитник адвокат
    эксперт член редактор исполнительный төраға төрағасы директоры үйлестіруші заңгер
    басшысы жетекшісі үйлестірушісі хатшысы президенті""".split()
)
_KAZAKH_GENITIVE_RE = re.compile(r"(?<=[^\W\d_]{3})(?:ның|нің|дың|дің|тың|тің)$")
_BY_ORGANIZATION_RE = re.compile(
    r"\b(?:by|par)\s+(?:the\s+|l['’]|la\s+|le\s+)?(?P<org>[A-ZÀ-Þ].+?)"
    r"(?:\s+(?:on|at|in|about|regarding|concerning|to|during|sur|à|concernant)\s|,|$)"
)
_VERB_RE = re.compile(
    r"\s(?:today\s+|jointly\s+|also\s+|hereby\s+)?"
    r"(?:ha(?:ve|s) (?:issued|sent|published|adopted|written|received|learned|learnt)|"
    r"issued|sent|express(?:es|ed)?|received|warns?|(?:are |is )?writ(?:e|es|ing) to|"
    r"call(?:s|ed)? (?:on|upon|for)|urge[sd]?|condemn(?:s|ed)?|welcome[sd]?|demand(?:s|ed)?|"
    r"appeal(?:s|ed)? to|share[sd]?|(?:is|are) (?:deeply |gravely |seriously )?"
    r"(?:concerned|alarmed|troubled)|deplore[sd]?|protest(?:s|ed)?|reiterate[sd]?|"
    r"выража[ею]т|призыва[ею]т|осужда[ею]т|заявля[ею]т|обраща[ею]тся|требу[ею]т|направил[иа]?|"
    r"опубликовал[иа]?|приветству[ею]т|напомина[ею]т|выступа[ею]т|"
    r"condamnent|condamne|appellent|appelle|expriment|exprime|demandent|demande|dénoncent|"
    r"dénonce|déplorent|déplore|saluent|salue|rappellent|rappelle|"
    r"s['’]inquiètent|s['’]inquiète|(?:est|sont) (?:vivement |profondément )?préoccupée?s?)\b",
    re.IGNORECASE,
)
_SPLIT_RE = re.compile(r"\s*,\s*(?:and\s+|et\s+|и\s+)?|\s+(?:and|et|и|және|und)\s+")
_GENERIC_RE = re.compile(
    r"^(?:we|мы|біз|nous|human rights (?:organi[sz]ations|groups|defenders)|"
    r"правозащитн\w+|organi[sz]ations|groups|the undersigned|нижеподписавшиеся)\b",
    re.IGNORECASE,
)
_LEADING_ARTICLE_RE = re.compile(r"^(?:the|l['’]|le|la|les)\s*", re.IGNORECASE)
_DATELINE_PREFIX_RE = re.compile(r"^[^–—]{3,60}?\d{4}\)?\s*[–—-]\s+")
_BY_RE = re.compile(r"\b(?:by|par|of|de la|du|de)\s", re.IGNORECASE)
# A given name or surname in Latin letters (accents allowed), or an initial.
_LATIN_NAME_RE = re.compile(r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ'’\-]+|[A-Z]\.(?:-?[A-Z]\.)?")
_CAPITALIZED_RUN_RE = re.compile(
    r"(?:[A-ZÀ-Þ][\w’'\-]*\.?|[A-Z]\.)(?:\s+(?:[A-ZÀ-Þ][\w’'\-]*\.?|[A-Z]\.))+"
)
OFFICE_WORDS = frozenset(
    """un osce eu oic high commissioner special rapporteur representative secretary general
    president minister prime deputy ambassador envoy director chair human rights freedom
    media expert experts working group committee council office united nations european
    rapporteuse spéciale spécial haut-commissaire représentante représentant présidente
    président ministre secrétaire générale général experte onu
    the on of for""".split()
)
_SURNAME_ENDINGS = (
    "ов", "ова", "ев", "ева", "ин", "ина", "енко", "ский", "ская", "ұлы", "қызы", "улы",
    "кызы", "uly", "kyzy", "ov", "ova", "ev", "eva",
)  # fmt: skip


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+(?:[.'’\-][^\W\d_]+)*\.?", text)


def has_org_word(text: str) -> bool:
    """True if ``text`` has a word such as Committee, фонд, орталығы."""
    return any(w.lower() in ORG_WORDS for w in re.findall(r"[^\W\d_]+", text))


def is_function(text: str) -> bool:
    """True for a function line (``Director``, ``Chair, ...``, ``председатель ...``)."""
    words = _words(text)
    return bool(words) and words[0].lower() in FUNCTION_WORDS


class CreatorFinder:
    """Finds signatories (Russian name tags from the morphology, places from the gazetteer)."""

    def __init__(self, gazetteer: Gazetteer, morphology: Morphology) -> None:
        self.gazetteer = gazetteer
        self.morphology = morphology

    # -- names --------------------------------------------------------------------------

    def is_person(self, text: str) -> bool:
        """True if ``text`` looks like a person's name (two or three capitalized words)."""
        text = text.strip(" ,;")
        words = text.split()
        if not 2 <= len(words) <= 3 or re.search(r"[\d«»\"“”()@:]", text):
            return False
        if has_org_word(text) or not all(w[:1].isupper() for w in words):
            return False
        if is_cyrillic(text):
            tags = set().union(*(self.morphology.name_tags(w) for w in words))
            named = [w for w in words if self.morphology.name_tags(w) & {"Name", "Surn"}]
            if any(self.gazetteer.best(w) for w in words if len(w) > 2 and w not in named):
                return False
            return bool(tags & {"Name", "Surn", "Patr"}) or any(
                w.lower().endswith(_SURNAME_ENDINGS) for w in words
            )
        if any(self.gazetteer.best(w) for w in words if len(w) > 2):
            return False
        return all(_LATIN_NAME_RE.fullmatch(w) for w in words)

    def invert(self, name: str) -> str:
        """A person's name as ``Surname, Given``."""
        words = name.strip(" ,;").split()
        if len(words) < 2:
            return name.strip(" ,;")
        first, rest = words[0], words[1:]
        if is_cyrillic(name):
            first_tags = self.morphology.name_tags(first)
            last_tags = self.morphology.name_tags(words[-1])
            first_is_surname = ("Surn" in first_tags and "Name" not in first_tags) or (
                first.lower().endswith(_SURNAME_ENDINGS)
                and not words[-1].lower().endswith(_SURNAME_ENDINGS)
            )
            if first_is_surname and "Surn" not in last_tags:
                return f"{first}, {' '.join(rest)}"
        return f"{words[-1]}, {' '.join(words[:-1])}"

    def _country_suffix(self, item: str) -> str:
        """``Org, Country`` -> ``Org (Country)``."""
        head, comma, tail = item.rpartition(",")
        if comma and head.strip():
            place = self.gazetteer.best(tail.strip())
            if place is not None and place.kind == "country":
                return f"{head.strip()} ({tail.strip()})"
        return item

    def _item(self, text: str) -> str | None:
        """A list item as a creator value (None for an empty item)."""
        item = _NUMBERING_RE.sub("", text).strip(" ;,.")
        if not item:
            return None
        name, comma, rest = item.partition(",")
        if comma and self.is_person(name) and not self.gazetteer.best(rest.strip()):
            return self.invert(name)
        affiliated = re.match(r"^(.+?)\s*\((.+)\)$", item)
        if affiliated and self.is_person(affiliated.group(1)):
            return self.invert(affiliated.group(1))
        if self.is_person(item):
            return self.invert(item)
        return self._country_suffix(item)

    # -- strategies -----------------------------------------------------------------------

    def signed_list(self, document: Document) -> list[Evidence]:
        """Items after a "signed" heading."""
        lines = document.content()
        for index, line in enumerate(lines):
            if not _SIGNED_RE.match(line.text):
                continue
            found: list[Evidence] = []
            for item_line in lines[index + 1 :]:
                if document.is_body(item_line) or len(item_line.words) > 25:
                    break
                previous = found[-1].line if found else line.number
                if item_line.number - previous > 4 or _clutter_between(
                    document, previous, item_line.number
                ):
                    break
                value = self._item(item_line.text)
                if value:
                    found.append(Evidence(value, item_line.number, item_line.text, 0.9, "signed"))
            if found:
                return found
        return []

    def closing(self, document: Document) -> list[Evidence]:
        """Person, function and organization after the text."""
        trailer = document.trailer()
        for index, line in enumerate(trailer):
            name, _, rest = line.text.partition(",")
            if not self.is_person(name):
                continue
            # the rest of the line, then the next two lines: (text, the line it is in)
            following = [(rest.strip(), line)] if rest.strip() else []
            following += [(ln.text, ln) for ln in trailer[index + 1 : index + 3]]
            if not any(is_function(t) or self._organization(t) for t, _ in following):
                continue
            if self._person_list(trailer[index:]):
                return []  # several "Name, function" lines: a list, not a closing
            found = [Evidence(self.invert(name), line.number, line.text, 0.85, "closing")]
            for text, source in following:
                organization = self._organization(text)
                if organization:
                    found.append(Evidence(organization, source.number, source.text, 0.8, "closing"))
                    break
            return found
        return []

    def _person_item(self, text: str) -> bool:
        """``Name Surname, function`` or ``Name Surname`` alone."""
        name, comma, rest = text.partition(",")
        return self.is_person(name) and (not comma or not has_org_word(rest) or is_function(rest))

    def _person_list(self, lines: Sequence[Line]) -> bool:
        """True if the first two lines both name a person (a list of signers)."""
        return len(lines) >= 2 and all(self._person_item(ln.text) for ln in lines[:2])

    def _has_org_lemma(self, text: str) -> bool:
        """Like :func:`has_org_word`, also for inflected Russian words (``совета``)."""
        for word in re.findall(r"[^\W\d_]+", text):
            if word.lower() in ORG_WORDS or any(
                lemma in ORG_WORDS for lemma in self.morphology.lemmas(word.lower())
            ):
                return True
        return False

    def _organization(self, text: str) -> str | None:
        """The organization in a closing line (``председатель Алматинского совета``)."""
        found = self._organization_in(text)
        return found[:1].upper() + found[1:] if found else None

    def _organization_in(self, text: str) -> str | None:
        words = text.split()
        if len(words) >= 2 and words[-1].lower() in FUNCTION_WORDS and is_cyrillic(text):
            # Kazakh: "«Әділет» қоғамдық қорының директоры" -> "«Әділет» қоғамдық қоры"
            head = " ".join([*words[:-2], _KAZAKH_GENITIVE_RE.sub("", words[-2])])
            return head.strip(" ,") if has_org_word(head) else None
        if words and words[0].lower().strip(",;:") in FUNCTION_WORDS:
            if "," in text:
                after = text.rsplit(",", 1)[1].strip()
                if has_org_word(after):
                    return after
            rest = " ".join(words[1:]).strip(" ,")
            if rest and is_cyrillic(rest) and self._has_org_lemma(rest):
                return self.morphology.nominative(rest)
            if rest.lower().startswith(("of ", "de ", "du ")) and has_org_word(rest):
                return _LEADING_ARTICLE_RE.sub("", rest.split(" ", 1)[1])
            return None
        if has_org_word(text):
            return text.strip(" ,")
        return None

    def plain_list(self, document: Document) -> list[Evidence]:
        """Names listed after the text, without a heading."""
        found: list[Evidence] = []
        for line in document.trailer():
            text = line.text
            if re.search(r"\d{4}", text) or text.endswith((".", "?", "!", ":")):
                if found:
                    break
                continue
            if len(line.words) > 20:
                break
            previous = found[-1].line if found else document.body_end
            if _lines_between(document, previous, line.number) > 2:
                break
            value = self._item(text)
            if ":" in text:  # "Media contacts: press office, Geneva"
                value = None
            if value and (_name_like(text) or self._person_item(text)):
                found.append(Evidence(value, line.number, text, 0.75, "list after the text"))
            elif found:
                break
        if len(found) == 1 and not (
            has_org_word(found[0].text) or self._person_item(found[0].text)
        ):
            return []
        return found

    def byline(self, document: Document) -> list[Evidence]:
        """``By <organization>, <date>`` before the text."""
        for line in document.header():
            match = re.match(r"^(?:by|par)\s+(.+?)(?:,|\s[–—-]\s|$)", line.text, re.IGNORECASE)
            if match and len(match.group(1).split()) <= 12:
                value = match.group(1).strip()
                if self.is_person(value):
                    value = self.invert(value)
                return [Evidence(value, line.number, line.text, 0.8, "byline")]
        return []

    def inline(self, document: Document) -> list[Evidence]:
        """The organizations that are the subject of the first sentence."""
        for line in document.body()[:2]:
            sentence = _DATELINE_PREFIX_RE.sub("", line.text)
            sentence = re.split(r"(?<=[.!?])\s", sentence, maxsplit=1)[0]
            match = _VERB_RE.search(sentence)
            if match is None:
                if is_cyrillic(sentence):
                    found = self._kazakh_subject(sentence, line)
                    if found:
                        return found
                continue
            subject = re.sub(r"\s*\([^)]*\)", "", sentence[: match.start()]).strip()
            parts = self._split_subject(subject)
            if parts:
                return [Evidence(p, line.number, line.text, 0.7, "first sentence") for p in parts]
        return []

    def _kazakh_subject(self, sentence: str, line: Line) -> list[Evidence]:
        words = sentence.split()
        for index, word in enumerate(words[:10]):
            if word.lower().strip(",") in ORG_WORDS:
                value = " ".join(words[: index + 1]).strip(",")
                return [Evidence(value, line.number, line.text, 0.6, "first sentence")]
        return []

    def _split_subject(self, subject: str) -> list[str]:
        if not subject or _GENERIC_RE.match(subject) or len(subject.split()) > 30:
            return []
        parts = [subject]
        pieces = [p for p in _SPLIT_RE.split(subject) if p]
        if len(pieces) > 1 and all(_organization_like(p) for p in pieces):
            parts = pieces
        out: list[str] = []
        for part in parts:
            part = _LEADING_ARTICLE_RE.sub("", part.strip())
            if not is_cyrillic(part):
                part = re.sub(r"^(?:[a-zà-ÿ]+\s+)+(?=[A-ZÀ-Þ])", "", part)
            if _GENERIC_RE.match(part) or not (has_org_word(part) or part[:1].isupper()):
                return []
            if len(part.split()) < 2 and not has_org_word(part):
                return []
            out.append(part[:1].upper() + part[1:])
        return out

    def official(self, document: Document, title_line: int | None) -> list[Evidence]:
        """An official named in the heading (or the line under it)."""
        lines = [ln for ln in document.header() if title_line is None or ln.number >= title_line]
        for line in lines[:3]:
            organization = _BY_ORGANIZATION_RE.search(line.text)
            if organization and has_org_word(organization.group("org")):
                value = organization.group("org").strip()
                return [Evidence(value, line.number, line.text, 0.65, "named in the heading")]
            by = _BY_RE.search(line.text)
            if by is None:
                continue
            for match in _CAPITALIZED_RUN_RE.finditer(line.text, by.end()):
                words = match.group(0).split()
                while words and words[0].lower().strip(".") in OFFICE_WORDS:
                    words.pop(0)
                name = " ".join(words)
                if self.is_person(name):
                    return [Evidence(self.invert(name), line.number, line.text, 0.7, "official")]
        return []

    def find(self, document: Document, title_line: int | None) -> list[Evidence]:
        """``dc.creator``: the first strategy that finds someone."""
        for strategy in (self.signed_list, self.closing, self.plain_list, self.byline):
            found = strategy(document)
            if found:
                return _unique(found)
        found = self.inline(document)
        if found:
            return _unique(found)
        return _unique(self.official(document, title_line))


def _organization_like(piece: str) -> bool:
    """A part of a subject that names an organization by itself (to split ``X and Y``)."""
    return has_org_word(piece) or piece.lower().startswith("the ") or bool(re.search("[«“]", piece))


def _clutter_between(document: Document, first: int, last: int) -> bool:
    """True if a non-empty clutter line lies strictly between two line numbers."""
    return any(
        document.line(n).text and document.line(n).boilerplate for n in range(first + 1, last)
    )


def _lines_between(document: Document, first: int, last: int) -> int:
    """Non-empty lines strictly between two line numbers."""
    return sum(1 for number in range(first + 1, last) if document.line(number).text)


def _name_like(text: str) -> bool:
    """An organization's name: a word such as Committee, a quoted name, or Title Case words."""
    if has_org_word(text) or re.search(r"[«“\"]", text):
        return True
    words = [w for w in re.findall(r"[^\W\d_]+", text) if len(w) > 3]
    return len(words) >= 2 and all(w[:1].isupper() for w in words)


def _unique(found: Sequence[Evidence]) -> list[Evidence]:
    seen: set[str] = set()
    out = []
    for evidence in found:
        if evidence.value.lower() not in seen:
            seen.add(evidence.value.lower())
            out.append(evidence)
    return out
