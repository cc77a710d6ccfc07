"""Signatories, closings, bylines, first-sentence subjects and officials."""

from __future__ import annotations

import pytest
from draft_helpers import BODY, doc, shared_drafter

from archiver.draft.creators import CreatorFinder
from archiver.draft.text import Document


@pytest.fixture(scope="module")
def finder() -> CreatorFinder:
    return shared_drafter().creators


def _creators(finder: CreatorFinder, document: Document, title_line: int | None = 1) -> list[str]:
    return [e.value for e in finder.find(document, title_line)]


@pytest.mark.parametrize(
    "heading",
    ["Signed:", "Подписали:", "Қол қойғандар:", "Signataires :", "The statement was signed by:"],
)
def test_signed_heading_list(finder: CreatorFinder, heading: str) -> None:
    document = doc(
        "Title of it",
        BODY,
        "",
        heading,
        "1. Steppe Rights Monitor",
        "2) Labour Law Clinic, Kyrgyzstan",
        "- Open Dialogue Initiative (Poland)",
        "",
        "Share this:",
    )
    assert _creators(finder, document) == [
        "Steppe Rights Monitor",
        "Labour Law Clinic (Kyrgyzstan)",
        "Open Dialogue Initiative (Poland)",
    ]


def test_signed_persons_are_inverted(finder: CreatorFinder) -> None:
    document = doc(
        "Обращение",
        BODY,
        "Подписи:",
        "1. Касымова Алия, юрист",
        "2. Ержан Бекмухамедов, журналист",
        "3. Marat Seitkali",
    )
    assert _creators(finder, document) == [
        "Касымова, Алия",
        "Бекмухамедов, Ержан",
        "Seitkali, Marat",
    ]


def test_closing_person_function_organization(finder: CreatorFinder) -> None:
    document = doc(
        "Title",
        BODY,
        "",
        "Marat Seitkali",
        "Director",
        "Central Asian Press Freedom Network",
        "",
        "Print this page",
    )
    assert _creators(finder, document) == ["Seitkali, Marat", "Central Asian Press Freedom Network"]


def test_closing_with_organization_in_genitive(finder: CreatorFinder) -> None:
    document = doc(
        "Заявление", BODY, "Дина Орынбаева,", "председатель Алматинского правозащитного совета"
    )
    assert _creators(finder, document) == ["Орынбаева, Дина", "Алматинский правозащитный совет"]


def test_plain_list_after_the_text(finder: CreatorFinder) -> None:
    document = doc(
        "Title",
        BODY,
        "",
        "Freedom of Eurasia, Austria",
        "",
        "Feminist League",
        "",
        "Liberty, Kazakhstan",
        "",
        "Leave a Reply",
    )
    assert _creators(finder, document) == [
        "Freedom of Eurasia (Austria)",
        "Feminist League",
        "Liberty (Kazakhstan)",
    ]


def test_site_notices_after_the_text_are_not_signatories(finder: CreatorFinder) -> None:
    document = doc(
        "Title",
        BODY,
        "",
        "Join Us",
        "Support Become a volunteer Complete training",
        "Spelling error report",
    )
    assert _creators(finder, document) == []


def test_byline(finder: CreatorFinder) -> None:
    document = doc(
        "Tajikistan: lawyers must not be punished",
        "By Central Asian Lawyers Network, 16 June 2021",
        BODY,
    )
    assert _creators(finder, document) == ["Central Asian Lawyers Network"]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "The Ukrainian Helsinki Human Rights Union and Kharkiv Human Rights Group have "
            "issued the following open letter to the authorities.",
            ["Ukrainian Helsinki Human Rights Union", "Kharkiv Human Rights Group"],
        ),
        (
            "Paris, le 25 octobre 2022 – L'Observatoire des libertés en Asie centrale et "
            "l'association Droits Sans Frontières Eurasie condamnent l'arrestation de militants.",
            ["Observatoire des libertés en Asie centrale", "Droits Sans Frontières Eurasie"],
        ),
        (
            "Казахстанское бюро по правам человека и Фонд «Ар.Рух.Хак» призывают власти освободить "
            "пятерых активистов, задержанных после схода жителей.",
            ["Казахстанское бюро по правам человека", "Фонд «Ар.Рух.Хак»"],
        ),
        (
            "The Partnership for Legal Empowerment in Eastern Europe and Central Asia "
            "(Partnership) shares the concern of other NGOs about the situation.",
            ["Partnership for Legal Empowerment in Eastern Europe and Central Asia"],
        ),
    ],
)
def test_subject_of_the_first_sentence(
    finder: CreatorFinder, sentence: str, expected: list[str]
) -> None:
    assert _creators(finder, doc("Title", sentence)) == expected


def test_generic_subject_is_not_a_creator(finder: CreatorFinder) -> None:
    sentence = (
        "Human rights organizations of Kazakhstan express their deep concern over the unrest "
        "in the region."
    )
    assert _creators(finder, doc("Title", sentence)) == []


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        (
            "Opening remarks by UN High Commissioner for Human Rights Navi Pillay at a press "
            "conference",
            "Pillay, Navi",
        ),
        (
            "Remarks by OSCE Representative on Freedom of the Media Teresa Ribeiro at the end "
            "of her visit",
            "Ribeiro, Teresa",
        ),
        (
            "Statement by the UN Special Rapporteur on minorities, Helena Marquez, on the "
            "situation",
            "Marquez, Helena",
        ),
    ],
)
def test_official_named_in_the_heading(finder: CreatorFinder, heading: str, expected: str) -> None:
    assert _creators(finder, doc(heading, BODY)) == [expected]


@pytest.mark.parametrize(
    ("name", "inverted"),
    [
        ("Marat Seitkali", "Seitkali, Marat"),
        ("Jean Pierre Dupont", "Dupont, Jean Pierre"),
        ("Дина Орынбаева", "Орынбаева, Дина"),
        ("Касымова Алия", "Касымова, Алия"),
        ("Сергей Литвиненко", "Литвиненко, Сергей"),
    ],
)
def test_invert(finder: CreatorFinder, name: str, inverted: str) -> None:
    assert finder.invert(name) == inverted


def test_nobody(finder: CreatorFinder) -> None:
    assert _creators(finder, doc("Title", BODY)) == []


@pytest.mark.parametrize(
    ("phrase", "nominative"),
    [
        ("Алматинского правозащитного совета", "Алматинский правозащитный совет"),
        ("Коалиции НКО Казахстана против пыток", "Коалиция НКО Казахстана против пыток"),
        (
            "Западно-Казахстанского правозащитного центра",
            "Западно-Казахстанский правозащитный центр",
        ),
        ("Атырауской области", "Атырауская область"),
    ],
)
def test_nominative_of_an_organization_or_region(phrase: str, nominative: str) -> None:
    assert shared_drafter().morphology.nominative(phrase) == nominative


def test_organization_named_after_by_in_the_heading(finder: CreatorFinder) -> None:
    heading = "Statement by the Caspian Environmental Watch on the oil spill near Atyrau"
    assert _creators(finder, doc(heading, BODY)) == ["Caspian Environmental Watch"]


def test_closing_function_comma_organization(finder: CreatorFinder) -> None:
    document = doc(
        "Title",
        BODY,
        "On behalf of the Board,",
        "Anna Petrova",
        "Executive Director, Eurasian Media Forum",
    )
    assert _creators(finder, document) == ["Petrova, Anna", "Eurasian Media Forum"]


def test_kazakh_closing_organization_in_genitive(finder: CreatorFinder) -> None:
    document = doc("Мәлімдеме", BODY, "Айжан Бекова,", "«Әділет» қоғамдық қорының директоры")
    assert _creators(finder, document) == ["Бекова, Айжан", "«Әділет» қоғамдық қоры"]


def test_french_official_with_accented_name(finder: CreatorFinder) -> None:
    heading = (
        "Déclaration de fin de mission de la Rapporteuse spéciale Ana Lucía Ortega sur le pays"
    )
    assert _creators(finder, doc(heading, BODY)) == ["Ortega, Ana Lucía"]


def test_subject_with_received_and_quoted_names(finder: CreatorFinder) -> None:
    english = (
        "The Cotton Freedom Campaign and the Samarkand Labour Rights Centre have received "
        "reports that teachers were ordered to pick cotton during the harvest."
    )
    assert _creators(finder, doc("Title", english)) == [
        "Cotton Freedom Campaign",
        "Samarkand Labour Rights Centre",
    ]
    russian = (
        "Общественное объединение «Журналисты Оша» и Медиацентр «Ордо» обращаются к Вам "
        "с просьбой вмешаться в дело журналистов."
    )
    assert _creators(finder, doc("Обращение", russian)) == [
        "Общественное объединение «Журналисты Оша»",
        "Медиацентр «Ордо»",
    ]


def test_list_of_persons_with_functions_without_heading(finder: CreatorFinder) -> None:
    document = doc(
        "Открытое письмо",
        BODY,
        "",
        "Ольга Ким, редактор",
        "Асель Жумабаева, журналист",
        "Дмитрий Шевченко, фотограф",
    )
    assert _creators(finder, document) == ["Ким, Ольга", "Жумабаева, Асель", "Шевченко, Дмитрий"]


def test_kazakh_signed_organizations_heading(finder: CreatorFinder) -> None:
    document = doc(
        "Мәлімдеме",
        BODY,
        "Мәлімдемеге қол қойған ұйымдар:",
        "«Таза ауа» экологиялық қоғамдық бірлестігі",
        "Солтүстік азаматтық альянсы",
    )
    assert _creators(finder, document) == [
        "«Таза ауа» экологиялық қоғамдық бірлестігі",
        "Солтүстік азаматтық альянсы",
    ]


def test_contact_lines_are_not_signatories(finder: CreatorFinder) -> None:
    heading = "Statement by the UN Special Rapporteur on freedom of association, Omar Haddad"
    document = doc(
        "Kyrgyzstan: UN experts alarmed", heading, BODY, "", "Contacts: press office, Geneva"
    )
    assert _creators(finder, document) == ["Haddad, Omar"]


def test_closing_function_with_comma_and_lowercase_organization(finder: CreatorFinder) -> None:
    english = doc(
        "Letter", BODY, "Yours sincerely,", "", "Aizhan Toktosunova", "Chair, Bishkek Press Club"
    )
    assert _creators(finder, english) == ["Toktosunova, Aizhan", "Bishkek Press Club"]
    russian = doc("Заявление", BODY, "Нигора Саидова,", "директор фонда «Открытый диалог»")
    assert _creators(finder, russian) == ["Саидова, Нигора", "Фонд «Открытый диалог»"]
