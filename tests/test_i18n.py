"""The interface in English, Dutch and Simplified Chinese: the student pages, the staff pages this project adds to
admin, the chooser, the browser's language, the catalogues.

The .mo files are build output: this module compiles them first (as `make` does), so it passes on a fresh clone.
"""

import ast
import gettext
import re
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils.translation.template import templatize

from experiment.rehearsal import simulate
from experiment.services import participation
from tests.helpers import consent_post, threat_answers, url, usefulness_answers

ROOT = Path(settings.BASE_DIR)
CATALOGUES = sorted((ROOT / "locale").glob("*/LC_MESSAGES/django.po"))
SET_LANGUAGE = "/i18n/setlang/"

# What each page must say in each language, and English that must then be gone. The experiment's own content
# (scenario, threats, diagram titles) is data from the definition file and stays as written.
EXPECTED = {
    "nl": {
        "accept_language": "nl-NL,nl;q=0.9,en;q=0.5",
        "home": ["Meedoen aan een labsessie", "Sessiecode", "Verdergaan waar je gebleven was"],
        "consent": [
            "Informatie en toestemming",
            "Je wordt uitgenodigd om deel te nemen aan een onderzoek: <strong>Mini experiment</strong>.",
            "Ik ga akkoord en doe mee",
        ],
        "training": [
            "Training: Mini scenario",
            "Vervalsing (spoofing)",
            "Je voordoen als iemand of iets anders",
            "Ik heb het materiaal gelezen: start de taak",
            "Je deelnemerscode",
        ],
        "threats": [
            "De dreigingen",
            "Is deze dreiging juist en van toepassing: The real-1 threat?",
            "Niet van toepassing",
            "0 van 4 beantwoord",
            "Volgende",
        ],
        "unknown_code": "Er is geen labsessie met de code QQQQQQQQ. Controleer de code en probeer het opnieuw.",
        "required": "Dit veld is verplicht.",
    },
    "zh-hans": {
        "accept_language": "zh-CN,zh;q=0.9,en;q=0.5",
        "home": ["加入实验场次", "场次代码", "从上次中断处继续"],
        "consent": ["研究说明与知情同意", "诚邀您参加一项研究：<strong>Mini experiment</strong>。", "我同意参加"],
        "training": [
            "培训：Mini scenario",
            "欺骗（Spoofing）",
            "冒充他人或其他事物",
            "我已阅读材料：开始任务",
            "您的参与者代码",
        ],
        "threats": ["威胁列表", "该威胁是否正确且适用：The real-1 threat？", "不适用", "已回答 0/4", "下一步"],
        "unknown_code": "没有代码为 QQQQQQQQ 的实验场次。请检查后重试。",
        "required": "这个字段是必填项。",
    },
}
ENGLISH = {
    "home": ["Join a lab session", "Session code", "Continue where you left off"],
    "consent": ["Information and consent", "I agree to take part"],
    "training": ["Read the material below carefully", "I have read the material", "Your participant code"],
    "threats": ["Next", "Not applicable", "correct and applicable", "0 of 4 answered"],
}
LANGUAGE_CODES = list(EXPECTED)


@pytest.fixture(scope="module", autouse=True)
def compiled_translations():
    call_command("compile_translations", verbosity=0)
    # Django keeps a language's catalogue once loaded; reloading the locale paths drops any read before the .mo
    # files existed (on a fresh clone, this module is what makes them).
    with override_settings(LOCALE_PATHS=list(settings.LOCALE_PATHS)):
        yield


def choose(client: Client, language: str, next_url: str = "/"):
    """The language chooser's POST, as the form in base.html sends it."""
    return client.post(SET_LANGUAGE, {"language": language, "next": next_url})


def student(how: str, language: str) -> Client:
    """A browser in ``language``: chosen with the language chooser (cookie) or asked for by the browser."""
    if how == "header":
        return Client(headers={"accept-language": EXPECTED[language]["accept_language"]})
    client = Client()
    assert choose(client, language).status_code == 302
    return client


def page_text(response) -> str:
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def assert_translated(text: str, language: str, page: str, expected: dict, english: dict) -> None:
    """Every expected phrase of the page in that language is there, and none of its English ones."""
    for phrase in expected[language][page]:
        assert phrase in text, f"{page} in {language}: {phrase!r} is missing"
    for phrase in english[page]:
        assert phrase not in text, f"{page} in {language}: {phrase!r} is still in English"


def assert_in_language(text: str, language: str, page: str) -> None:
    assert f'<html lang="{language}">' in text
    assert_translated(text, language, page, EXPECTED, ENGLISH)


# -- the pages --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["cookie", "header"])
@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_the_start_and_consent_pages_are_in_the_chosen_language(db, lab, how, language):
    client = student(how, language)
    home = client.get("/")
    assert_in_language(page_text(home), language, "home")
    assert home["Content-Language"] == language
    consent = client.get(reverse("experiment:consent", args=[lab.join_code]))
    assert_in_language(page_text(consent), language, "consent")


@pytest.mark.parametrize("how", ["cookie", "header"])
@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_a_participants_training_and_threats_pages_are_in_the_chosen_language(db, lab, how, language):
    client = student(how, language)
    participant = consent_post(client, lab.join_code)
    assert_in_language(page_text(client.get(url("training", participant))), language, "training")
    assert client.post(url("training", participant)).status_code == 302
    assert_in_language(page_text(client.get(url("threats", participant))), language, "threats")


def test_without_a_choice_the_pages_stay_in_english(db, lab, client):
    text = page_text(client.get("/"))
    assert '<html lang="en">' in text
    assert "Join a lab session" in text


def test_a_chosen_language_wins_over_the_browsers(db, lab):
    client = Client(headers={"accept-language": EXPECTED["zh-hans"]["accept_language"]})
    choose(client, "nl")
    assert "Meedoen aan een labsessie" in page_text(client.get("/"))


# -- the chooser ------------------------------------------------------------------------------------------------------


def test_the_chooser_returns_to_the_same_page_in_the_new_language(db, lab, client):
    participant = consent_post(client, lab.join_code)
    training = url("training", participant)
    response = choose(client, "nl", training)
    assert response.status_code == 302
    assert response["Location"] == training
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "nl"
    assert_in_language(page_text(client.get(training)), "nl", "training")
    choose(client, "en", training)
    assert "Read the material below carefully" in page_text(client.get(training))


def assert_chooser_points_back(client: Client, path: str) -> None:
    text = page_text(client.get(path))
    assert f'<form class="language-chooser d-flex flex-wrap align-items-center gap-2" action="{SET_LANGUAGE}"' in text
    assert f'<input type="hidden" name="next" value="{path}">' in text
    assert '<label for="language-select"' in text
    assert '<option value="en" lang="en" selected>English</option>' in text
    assert '<option value="nl" lang="nl">Nederlands</option>' in text
    assert '<option value="zh-hans" lang="zh-hans">简体中文</option>' in text


def test_every_student_page_has_the_chooser_pointing_back_at_it(db, lab, client):
    assert_chooser_points_back(client, "/")
    assert_chooser_points_back(client, reverse("experiment:consent", args=[lab.join_code]))
    participant = consent_post(client, lab.join_code)
    assert_chooser_points_back(client, url("training", participant))
    client.post(url("training", participant))
    assert_chooser_points_back(client, url("threats", participant))
    client.post(url("threats", participant), threat_answers(participant))
    assert_chooser_points_back(client, url("usefulness", participant))
    client.post(url("usefulness", participant), usefulness_answers(participant))
    assert_chooser_points_back(client, url("done", participant))
    assert_chooser_points_back(client, reverse("experiment:declined"))


def test_the_chooser_marks_the_current_language(db, lab):
    text = page_text(student("cookie", "zh-hans").get("/"))
    assert '<option value="zh-hans" lang="zh-hans" selected>简体中文</option>' in text
    assert '<input type="submit" class="btn btn-sm btn-outline-light" value="切换">' in text


def test_after_a_refused_join_the_chooser_returns_to_the_start_page(db, lab, client):
    # /join/ only takes a POST: coming back to it after choosing a language would be a 405.
    response = client.post(reverse("experiment:join"), {"code": "QQQQQQQQ"})
    assert response.status_code == 400
    assert '<input type="hidden" name="next" value="/">' in response.content.decode()


# -- messages from the code -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_form_errors_are_in_the_chosen_language(db, lab, language):
    client = student("cookie", language)
    unknown = client.post(reverse("experiment:join"), {"code": "QQQQQQQQ"})
    assert unknown.status_code == 400
    assert EXPECTED[language]["unknown_code"] in unknown.content.decode()
    empty = client.post(reverse("experiment:join"), {"code": ""})
    assert EXPECTED[language]["required"] in empty.content.decode()


def test_a_closed_session_turns_students_away_in_their_language(db, closed_lab):
    client = student("header", "nl")
    response = client.get(reverse("experiment:consent", args=[closed_lab.join_code]))
    assert response.status_code == 403
    assert "Deze labsessie is gesloten en neemt geen nieuwe deelnemers meer aan." in response.content.decode()


# -- the staff pages -------------------------------------------------------------------------------------------------

# What the staff pages this project adds to admin say in each language, and English that must then be gone. Django
# translates its own admin pages. The statistics (APA lines, methods, metric and source names) are research output and
# stay in English, as `manage.py analyze` writes them.
STAFF_EXPECTED = {
    "nl": {
        "join_sheet": ["Scan de code, of open", "en vul de sessiecode in", "Directe link:", "<title>Meedoen: "],
        "monitor": [
            "Deelnemers per stap en arm",
            "Laatste activiteit",
            "Geen toestemming gegeven:",
            '<th scope="col">Dreigingen</th>',
            'data-text-updated="Bijgewerkt om %(time)s."',
            'data-text-failed="Bijwerken mislukt (HTTP %(status)s)."',
            'data-text-offline="Offline; opnieuw proberen."',
        ],
        "analysis": [
            "Analyse: Mini experiment",
            "4 deelnemer(s) geanalyseerd:",
            "Stroom van deelnemers (CONSORT)",
            "Details per uitkomst",
            "Samenvatting per uitkomst",
            "Gesimuleerde meetellen",
            'value="Toepassen"',
        ],
        "stages": ["Training", "Dreigingen", "Nut", "Afgerond"],
        "opened": "Sessie {code} is nu open.",
    },
    "zh-hans": {
        "join_sheet": ["扫描二维码，或打开", "并输入场次代码", "直接链接：", "<title>加入 "],
        "monitor": [
            "各阶段和各组的参与者",
            "最近活动",
            "拒绝同意：",
            '<th scope="col">威胁</th>',
            'data-text-updated="已于 %(time)s 更新。"',
            'data-text-failed="更新失败（HTTP %(status)s）。"',
            'data-text-offline="离线；正在重试。"',
        ],
        "analysis": [
            "分析：Mini experiment",
            "共分析 4 名参与者：",
            "参与者流程（CONSORT）",
            "各结果详情",
            "各结果摘要",
            "包括模拟参与者",
            'value="应用"',
        ],
        "stages": ["培训", "威胁", "有用程度", "已完成"],
        "opened": "场次 {code} 的状态现为：开放。",
    },
}
STAFF_ENGLISH = {
    "join_sheet": ["Scan the code", "enter the session code", "Direct link"],
    "monitor": ["Participants per stage and arm", "Last activity", "Declined consent", "Updated %(time)s", "retrying"],
    "analysis": ["participant(s) analysed", "Flow of participants", "Details per outcome", "Include simulated"],
}


def staff(user, language: str) -> Client:
    """A logged-in staff member who chose ``language`` with the chooser (the same cookie as a student's)."""
    client = Client()
    client.force_login(user)
    assert choose(client, language, "/admin/").status_code == 302
    return client


def assert_staff_page_in_language(text: str, language: str, page: str) -> None:
    # Admin's own base template adds dir="ltr" after the language; the join sheet is a page of its own.
    assert f'<html lang="{language}"' in text
    assert_translated(text, language, page, STAFF_EXPECTED, STAFF_ENGLISH)


def admin_url(name: str, session) -> str:
    return reverse(f"admin:experiment_labsession_{name}", args=[session.pk])


@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_the_join_sheet_and_the_monitor_are_in_the_instructors_language(
    db, lab, instructor, make_participant, language
):
    participation.start_threats(make_participant())
    client = staff(instructor, language)
    join_sheet = page_text(client.get(admin_url("join_sheet", lab)))
    assert_staff_page_in_language(join_sheet, language, "join_sheet")
    assert f"{lab.join_code[:4]}&#8239;{lab.join_code[4:]}" in join_sheet
    assert_staff_page_in_language(page_text(client.get(admin_url("monitor", lab))), language, "monitor")
    # What monitor.js redraws from: the values stay as they are (for scripts), the labels are in the language.
    data = client.get(admin_url("monitor_data", lab)).json()
    assert data["stages"] == ["training", "threats", "usefulness", "done"]
    assert data["stage_labels"] == STAFF_EXPECTED[language]["stages"]
    assert [p["stage_label"] for p in data["participants"]] == [STAFF_EXPECTED[language]["stages"][1]]
    assert data["session"]["status"] == "open"
    assert data["session"]["status_label"] == {"nl": "Open", "zh-hans": "开放"}[language]


@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_the_analysis_page_is_in_the_researchers_language_and_the_statistics_stay_in_english(
    db, lab, researcher, language
):
    simulate(lab, 4, profile="perfect", seed=1)
    client = staff(researcher, language)
    analysis = reverse("admin:experiment_experiment_analysis", args=[lab.experiment.pk])
    text = page_text(client.get(analysis, {"include_simulated": "on"}))
    assert_staff_page_in_language(text, language, "analysis")
    assert 'id="consort"' in text and 'id="threat-table"' in text
    for research_output in ("Mann-Whitney U =", "True positives (TP)", "Scenario description", "Wilcoxon"):
        assert research_output in text, research_output
    codebook = client.get(reverse("admin:experiment_experiment_export", args=[lab.experiment.pk, "codebook.md"]))
    assert "Scenario description" in codebook.content.decode()


@pytest.mark.parametrize("language", LANGUAGE_CODES)
def test_an_admin_message_is_in_the_chosen_language(db, closed_lab, instructor, language):
    client = staff(instructor, language)
    response = client.post(admin_url("set_status", closed_lab), {"status": "open"}, follow=True)
    assert STAFF_EXPECTED[language]["opened"].format(code=closed_lab.join_code) in page_text(response)
    closed_lab.refresh_from_db()
    assert closed_lab.status == "open"


def test_without_a_choice_the_staff_pages_stay_in_english(db, lab, instructor, client):
    client.force_login(instructor)
    monitor = page_text(client.get(admin_url("monitor", lab)))
    assert 'data-text-updated="Updated %(time)s."' in monitor
    assert "Participants per stage and arm" in monitor
    assert "Scan the code, or open" in page_text(client.get(admin_url("join_sheet", lab)))
    response = client.post(admin_url("set_status", lab), {"status": "closed"}, follow=True)
    assert f"Session {lab.join_code} is now closed." in page_text(response)


def test_the_lab_sessions_admin_page_labels_its_fields_in_the_researchers_language(db, lab, researcher):
    text = page_text(staff(researcher, "nl").get(admin_url("change", lab)))
    assert '<html lang="nl"' in text
    assert "<label>Sessiecode:</label>" in text
    assert "<div>Voor docenten, bijv. 'groep dinsdag'.</div>" in text
    assert "labsessie wijzigen" in text
    for english in ("Join code", "Closes at", "For instructors", "Change lab session"):
        assert english not in text, english


# -- the catalogues ---------------------------------------------------------------------------------------------------

# A %-format placeholder (%(ref)s, %(s)02d) and an HTML tag: a translation keeps exactly those of its original.
PLACEHOLDER = re.compile(r"%\([^)]+\)[#0 +-]*\d*(?:\.\d+)?[a-zA-Z]|%[#0 +-]*\d*(?:\.\d+)?[sdfir]")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def test_there_is_a_catalogue_for_dutch_and_for_simplified_chinese():
    assert [path.parent.parent.name for path in CATALOGUES] == ["nl", "zh_Hans"]


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda path: path.parent.parent.name)
def test_every_message_is_translated_and_keeps_its_placeholders(path):
    po = polib.pofile(str(path))
    assert not po.metadata_is_fuzzy
    assert po.metadata["Language"] == path.parent.parent.name
    assert po.obsolete_entries() == []
    assert len(po) > 100
    untranslated = [entry.msgid for entry in po if entry.fuzzy or not entry.msgstr.strip()]
    assert untranslated == []
    changed = [
        (entry.msgid, entry.msgstr)
        for entry in po
        if Counter(PLACEHOLDER.findall(entry.msgid)) != Counter(PLACEHOLDER.findall(entry.msgstr))
        or Counter(TAG.findall(entry.msgid)) != Counter(TAG.findall(entry.msgstr))
    ]
    assert changed == []


def test_chinese_has_one_plural_form():
    po = polib.pofile(str(ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    assert po.metadata["Plural-Forms"] == "nplurals=1; plural=0;"


def _python_msgids():
    """(msgid, where) for every _(...), gettext(...), gettext_lazy(...) with a literal, as makemessages finds them."""
    names = {"_", "gettext", "gettext_lazy", "gettext_noop"}
    for folder in ["experiment", "threats", "analysis", "config"]:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in names
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                ):
                    yield node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}"


def _template_msgids():
    """(msgid, where) for every {% translate %} and {% blocktranslate %}, through Django's own templatize."""
    call = re.compile(r"""\bgettext\(u?('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\)""")
    for path in sorted((ROOT / "templates").rglob("*.html")):
        source = templatize(path.read_text(encoding="utf-8"), origin=str(path))
        assert not re.search(r"\b(?:n|p|np)gettext\(", source), f"{path}: plural or context forms need this test"
        for match in call.finditer(source):
            yield ast.literal_eval(match.group(1)), str(path.relative_to(ROOT))


def test_every_translatable_string_in_the_code_is_in_the_catalogues():
    """A string marked for translation but missing from a .po would show in English: run makemessages, translate."""
    found = [*_python_msgids(), *_template_msgids()]
    assert len(found) > 100
    for path in CATALOGUES:
        msgids = {entry.msgid for entry in polib.pofile(str(path))}
        missing = sorted({f"{where}: {msgid!r}" for msgid, where in found if msgid not in msgids})
        assert missing == [], f"not in {path.relative_to(ROOT)}"


# -- compile_translations ---------------------------------------------------------------------------------------------


def write_po(folder: Path, body: str) -> Path:
    path = folder / "nl" / "LC_MESSAGES" / "django.po"
    path.parent.mkdir(parents=True)
    header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Language: nl\\n"\n\n'
    path.write_text(header + body, encoding="utf-8")
    return path


def test_compile_translations_writes_what_gettext_reads_and_leaves_out_fuzzy_and_empty(tmp_path, settings):
    settings.LOCALE_PATHS = [tmp_path]
    po = write_po(
        tmp_path,
        'msgid "Thank you"\nmsgstr "Bedankt"\n\n'
        '#, fuzzy\nmsgid "Join"\nmsgstr "Deelnemen"\n\n'
        'msgid "Continue"\nmsgstr ""\n\n'
        '#, python-format\nmsgid "Code %(code)s"\nmsgstr "Code %(code)s"\n',
    )
    call_command("compile_translations", verbosity=0)
    with po.with_suffix(".mo").open("rb") as mo:
        catalogue = gettext.GNUTranslations(mo)
    assert catalogue.gettext("Thank you") == "Bedankt"
    assert catalogue.gettext("Code %(code)s") == "Code %(code)s"
    assert catalogue.gettext("Join") == "Join"
    assert catalogue.gettext("Continue") == "Continue"


def test_compile_translations_refuses_a_translation_that_loses_a_placeholder(tmp_path, settings):
    settings.LOCALE_PATHS = [tmp_path]
    po = write_po(tmp_path, '#, python-format\nmsgid "Is %(ref)s applicable?"\nmsgstr "Is %(rfe)s van toepassing?"\n')
    with pytest.raises(CommandError, match="Is %\\(ref\\)s applicable"):
        call_command("compile_translations", verbosity=0)
    assert not po.with_suffix(".mo").exists()
