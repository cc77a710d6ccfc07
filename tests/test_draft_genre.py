"""The genre of a statement, dcterms.type (archiver.draft.genre)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from draft_helpers import BODY, doc, shared_drafter

from archiver.draft.genre import (
    GENRES,
    OPEN_LETTERS,
    PETITIONS,
    PRESS_RELEASES,
    SPEECHES,
    draft_genre,
    genre_uris,
)
from archiver.draft.scoring import ALL_SCORED_FIELDS, SCORED_FIELDS, score_field, score_row
from archiver.metadata.rights import genre_terms
from bench import draft as bench_draft

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "sources"


def _seed_genres() -> dict[str, str]:
    with (SOURCES / "metadata.csv").open(encoding="utf-8", newline="") as handle:
        return {row["filename"]: row["dcterms.type"] for row in csv.DictReader(handle)}


def _genre(*lines: str, title_line: int | None = None) -> str | None:
    found = draft_genre(doc(*lines), title_line)
    assert len(found) <= 1
    if not found:
        return None
    label = {uri: label for label, uri in genre_uris().items()}[found[0].value]
    return label


def test_the_genres_are_the_terms_of_genres_json() -> None:
    assert set(genre_uris()) == set(GENRES)
    assert set(genre_uris().values()) == set(genre_terms())


@pytest.mark.parametrize("name", sorted(_seed_genres()))
def test_each_seed_drafts_the_genre_of_its_catalog_row(name: str) -> None:
    draft = shared_drafter().draft((SOURCES / name).read_text(encoding="utf-8"))
    assert draft.values("dcterms.type") == [_seed_genres()[name]]
    [evidence] = draft.fields["dcterms.type"]
    text = (SOURCES / name).read_text(encoding="utf-8").splitlines()[evidence.line - 1]
    assert evidence.text == text.strip(" •") and 0.5 <= evidence.confidence <= 0.9


def test_seed_evidence_lines() -> None:
    drafter = shared_drafter()
    found = {
        name: drafter.draft((SOURCES / name).read_text(encoding="utf-8")).fields["dcterms.type"][0]
        for name in _seed_genres()
    }
    assert (found["000_5e17403660513e1c.txt"].line, found["000_5e17403660513e1c.txt"].text) == (
        27,
        "APPEAL",
    )
    assert found["001_ff95daece7007d9c.txt"].line == 1  # "Open Appeal": open letter
    assert "addressed" in found["003_8f94555c1076f2cd.txt"].note  # "To the President ..."
    assert "remarks" in found["004_868b7bb273d2ea5b.txt"].note.lower()


def test_no_cue_no_genre() -> None:
    assert _genre("Kazakhstan: workers detained in Aktau", "", "14 March 2019", BODY) is None
    assert _genre(BODY, BODY) is None
    assert shared_drafter().draft(BODY).values("dcterms.type") == []


@pytest.mark.parametrize(
    ("heading", "genre"),
    [
        ("Open letter to the Speaker of the Mazhilis", OPEN_LETTERS),
        ("Открытое письмо Президенту Республики Казахстан", OPEN_LETTERS),
        ("Открытое обращение к Генеральному прокурору", OPEN_LETTERS),
        ("Тараздағы журналистің ұсталуына қатысты ашық хат", OPEN_LETTERS),
        ("Letter to the Minister of Internal Affairs", OPEN_LETTERS),
        ("Appeal to the Prosecutor General of Kazakhstan", PETITIONS),
        ("Petition for the release of the Zhanaozen workers", PETITIONS),
        ("Обращение к депутатам Мажилиса", PETITIONS),
        ("Құқық қорғаушылардың үндеуі", PETITIONS),
        ("Press release: workers detained in Aktau", PRESS_RELEASES),
        ("Пресс-релиз о задержании рабочих", PRESS_RELEASES),
        ("Joint statement on the detention of oil workers", PRESS_RELEASES),
        ("Заявление правозащитных организаций", PRESS_RELEASES),
        ("Құқық қорғаушылардың мәлімдемесі", PRESS_RELEASES),
        ("Opening remarks by the High Commissioner", SPEECHES),
        ("Speech of the Ombudsman at the conference", SPEECHES),
        ("Выступление Уполномоченного по правам человека", SPEECHES),
        ("Вступительное слово председателя", SPEECHES),
        ("Омбудсменнің сөйлеген сөзі", SPEECHES),
    ],
)
def test_form_words_in_the_title(heading: str, genre: str) -> None:
    assert _genre(heading, "", BODY, title_line=1) == genre


def test_a_statement_addressed_to_someone_is_an_open_letter() -> None:
    lines = ("To the President K.-J. Tokayev", "Statement of human rights groups", BODY)
    assert _genre(*lines, title_line=2) == OPEN_LETTERS
    assert _genre("Кому: Президенту", "Заявление правозащитников", BODY) == OPEN_LETTERS
    assert _genre("Statement of human rights groups", BODY, title_line=1) == PRESS_RELEASES


def test_specific_phrases_count_in_the_text() -> None:
    assert _genre(BODY, "The groups issued the following open letter to the court.") == (
        OPEN_LETTERS
    )
    said = "Правозащитники распространили заявление для прессы о задержании журналиста."
    assert _genre(BODY, said) == PRESS_RELEASES


def test_the_voice_of_the_text() -> None:
    assert _genre(BODY, "Ladies and gentlemen, thank you for coming to this meeting.") == SPEECHES
    assert _genre(BODY, "Дамы и господа, благодарю вас за то, что пришли сегодня.") == SPEECHES
    assert _genre(BODY, "We call on the authorities to release the detained workers.") == (
        PETITIONS
    )
    assert _genre(BODY, "Мы требуем немедленно освободить задержанных журналистов.") == PETITIONS
    assert _genre(BODY, "Біз билікті ұсталғандарды босатуды талап етеміз.") == PETITIONS
    [found] = draft_genre(doc(BODY, "We urge the authorities to stop the arrests now."))
    assert found.line == 2 and found.confidence == 0.6


def test_a_form_word_beats_the_voice() -> None:
    lines = ("Statement on the detentions", BODY, "We call on the authorities to act now.")
    assert _genre(*lines, title_line=1) == PRESS_RELEASES


def test_ambiguous_words_in_running_text_are_not_cues() -> None:
    assert _genre(BODY, "The court of appeal upheld the sentence of the lawyer last week.") is None
    assert (
        _genre(BODY, "Жестокое обращение с задержанными в изоляторе продолжается годами.") is None
    )
    assert _genre(BODY, "In his speech the President promised reforms to the labour law.") is None
    assert _genre(BODY, "A statement by the ministry said that the workers were released.") is None


def test_genre_is_scored_by_exact_uri_where_the_row_has_one() -> None:
    uri = genre_uris()[PETITIONS]
    assert score_field("dcterms.type", [uri], [uri])[0] == 1.0
    assert score_field("dcterms.type", [genre_uris()[OPEN_LETTERS]], [uri])[0] == 0.0
    assert score_field("dcterms.type", [uri.lower()], [uri])[0] == 0.0
    assert score_field("dcterms.type", [], [])[0] == 1.0
    # an unlabelled row is not scored for the genre; the default is the five of the mean
    assert "dcterms.type" not in score_row({"dcterms.type": [uri]}, {}, terms=ALL_SCORED_FIELDS)
    assert set(score_row({"dcterms.type": [uri]}, {"dcterms.type": [uri]})) == set(SCORED_FIELDS)


def test_the_seeds_score_1_on_the_genre() -> None:
    drafter = shared_drafter()
    for case in bench_draft.seed_cases():
        assert case.expected.get("dcterms.type"), case.name
        scores = score_row(
            drafter.draft(case.text).draft_json(), case.expected, None, ["dcterms.type"]
        )
        assert scores["dcterms.type"][0] == 1.0, case.name
