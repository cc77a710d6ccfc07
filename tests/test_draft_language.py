"""Languages of a statement: its own first, a second only for a real part."""

from __future__ import annotations

from draft_helpers import doc, shared_drafter

from archiver.draft.language import draft_languages, line_languages, stopword_language

EN = (
    "The authorities detained eleven workers who had gathered peacefully in front of the "
    "administration to ask for the wages owed to them since November."
)
RU = (
    "Рабочие нефтесервисной компании в Атырауской области с марта протестуют против задержек "
    "заработной платы, а трое организаторов забастовки уволены."
)
KK = (
    "Атырау облысындағы мұнай сервистік компанияның жұмысшылары наурыз айынан бері жалақының "
    "кешіктірілуіне наразылық білдіріп келеді."
)


def _languages(*lines: str) -> list[str]:
    document = doc(*lines)
    return [e.value for e in draft_languages(line_languages(document, shared_drafter().detect))]


def test_one_language() -> None:
    assert _languages("Title of the statement", EN, EN) == ["en"]


def test_menu_words_in_other_languages_do_not_count() -> None:
    assert _languages("Главная Новости", "English | Русский | Қазақша", EN, EN) == ["en"]


def test_a_real_part_in_a_second_language_counts_first_language_leads() -> None:
    assert _languages(KK, RU) == ["kk", "ru"]
    assert _languages(EN, EN, EN, RU) == ["en", "ru"]


def test_kazakh_letters_decide_between_kazakh_and_russian() -> None:
    assert _languages("Басты бет", KK) == ["kk"]


def test_french_heading_counts_as_a_real_part() -> None:
    assert _languages("Déclarations Haut-Commissariat aux droits de l’homme", EN, EN, EN) == [
        "en",
        "fr",
    ]


def test_excluded_lines_and_empty_text() -> None:
    document = doc(EN, "International Center for Journalism et de la Presse Libre (MediaNet)")
    found = line_languages(document, shared_drafter().detect)
    assert [e.value for e in draft_languages(found, exclude={2})] == ["en"]
    assert draft_languages([]) == []


def test_stopwords_overrule_the_trigram_guess() -> None:
    assert (
        stopword_language("Statement by the UN Special Rapporteur on the rights of minorities")
        == "en"
    )
    assert stopword_language("Pillay") is None
