"""The researchers' analysis: view, exports and `analyze` agree; permissions; neutralised cells; codebook."""

import csv
import html
import io
import json
import zipfile
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analysis import dataset, exports, report
from analysis.columns import ANSWER_COLUMNS
from experiment.models import Participant
from experiment.rehearsal import simulate
from experiment.services import participation

pytestmark = pytest.mark.django_db


@pytest.fixture
def filled_lab(lab):
    simulate(lab, 16, profile="diagram_helps", seed=11)
    Participant.objects.filter(session=lab).update(is_simulated=False)  # count them as real students here
    return lab


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def analysis_url(experiment) -> str:
    return reverse("admin:experiment_experiment_analysis", args=[experiment.pk])


def export_url(experiment, name: str) -> str:
    return reverse("admin:experiment_experiment_export", args=[experiment.pk, name])


def read_csv(content: bytes | str) -> list[dict]:
    text = content.decode() if isinstance(content, bytes) else content
    return list(csv.DictReader(io.StringIO(text)))


def test_the_analysis_view_shows_the_tests_and_plots(researcher, filled_lab):
    response = logged_in(researcher).get(analysis_url(filled_lab.experiment))
    assert response.status_code == 200
    content = html.unescape(response.content.decode())
    results = response.context["results"]
    assert results["n"] == 16
    for metric in results["metrics"]:
        assert metric["test"]["apa"] in content
    assert "Direction-free (the smaller tail), without continuity correction" in content
    main = content[content.index('id="content"') :]  # after admin's navigation sidebar, whose app lists are tables
    assert main.index("<table") == main.index('<table id="summary-table"')  # the summary comes first
    assert content.count('<details class="metric"') == len(results["metrics"])
    assert content.count('src="data:image/svg+xml;base64,') == 3
    assert "Holm-adjusted p" in content
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("name", ["analysis", "participants.csv"])
def test_instructors_and_plain_staff_get_403(instructor, plain_staff, filled_lab, name):
    url = analysis_url(filled_lab.experiment) if name == "analysis" else export_url(filled_lab.experiment, name)
    assert logged_in(instructor).get(url).status_code == 403
    assert logged_in(plain_staff).get(url).status_code == 403


def test_anonymous_users_are_sent_to_log_in(client, filled_lab):
    response = client.get(export_url(filled_lab.experiment, "answers.csv"))
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_bad_filters_are_refused_with_a_message(researcher, filled_lab):
    response = logged_in(researcher).get(analysis_url(filled_lab.experiment), {"margin_tp": "abc", "sessions": "99999"})
    assert response.status_code == 400
    assert b"Enter a number" in response.content
    assert b"Select a valid choice" in response.content
    export = logged_in(researcher).get(export_url(filled_lab.experiment, "answers.csv"), {"margin_precision": "-1"})
    assert export.status_code == 400


def test_an_unknown_export_is_404(researcher, filled_lab):
    assert logged_in(researcher).get(export_url(filled_lab.experiment, "secrets.txt")).status_code == 404


def test_the_view_the_exports_and_analyze_agree(researcher, filled_lab, capsys):
    experiment = filled_lab.experiment
    client = logged_in(researcher)
    view_results = client.get(analysis_url(experiment)).context["results"]
    call_command("analyze", "--experiment", experiment.slug, "--format", "json")
    command_results = json.loads(capsys.readouterr().out)
    package = zipfile.ZipFile(io.BytesIO(client.get(export_url(experiment, "replication.zip")).content))
    package_results = json.loads(package.read("results.json"))
    normalise = lambda r: json.loads(json.dumps(r, default=str))  # noqa: E731
    assert normalise(view_results) == command_results == package_results
    rows = read_csv(b"".join(client.get(export_url(experiment, "participants.csv")).streaming_content))
    tp_by_arm = {arm["slug"]: [] for arm in view_results["arms"]}
    for row in rows:
        tp_by_arm[row["arm"]].append(int(row["tp"]))
    for i, arm in enumerate(view_results["arms"]):
        assert sorted(tp_by_arm[arm["slug"]]) == sorted(view_results["metrics"][0]["values"][i])
    answers = read_csv(package.read("answers.csv"))
    assert len(answers) == 16 * 4
    outcomes = {(r["is_real"], r["answer"]): r["outcome"] for r in answers}
    assert outcomes.get(("true", "applicable"), "TP") == "TP"
    assert outcomes.get(("false", "applicable"), "FP") == "FP"
    assert set(package.namelist()) == {
        "consort.csv",
        "participants.csv",
        "answers.csv",
        "codebook.md",
        "experiment.json",
        "results.json",
        "expected.csv",
        "replicate.R",
    }


def test_the_text_report_carries_every_number_the_page_shows(filled_lab, capsys):
    experiment = filled_lab.experiment
    experiment.equivalence_margins = {"tp": {"margin": 1, "rationale": "one threat"}}
    experiment.save()
    call_command("analyze", "--session", filled_lab.join_code)
    out = capsys.readouterr().out
    results = report.build(dataset.load(experiment))
    assert "16 participants" in out
    assert "True positives (TP): DFD > Control, one-sided: Mann-Whitney U =" in out
    for metric in results["metrics"]:
        for key in ("test", "slides", "slides_uncorrected", "tost", "van_elteren", "adjusted"):
            if key in metric:
                assert metric[key]["apa"] in out, (metric["key"], key)
        for described in metric["per_arm"]:
            assert f"{described['arm']} M (SD) = {described['mean']:.2f}" in out
        assert metric["direction"] in out and metric["test"]["ci"] in out
    for threat in results["threats"]:
        assert threat["fisher"]["apa"] in out and "sample OR" in out
    for within in results["within_arm"]:
        assert within["wilcoxon"]["apa"] in out and within["paired_t"]["apa"] in out
    for method in results["methods"]:
        assert method in out
    methods = out.split("\nMethods\n", 1)[1].splitlines()
    assert methods == [f"[{i}] {method}" for i, method in enumerate(results["methods"], start=1)]  # each once


def test_simulated_and_incomplete_participants_are_left_out_unless_asked(lab):
    simulate(lab, 4, seed=1)
    participation.enrol(lab, __import__("uuid").uuid4())
    default = report.build(dataset.load(lab.experiment))
    assert default["n"] == 0
    assert default["excluded"] == {"simulated": 4, "incomplete": 1, "implausibly_fast": 0}
    everyone = report.build(
        dataset.load(lab.experiment, dataset.Filters(include_simulated=True, include_incomplete=True))
    )
    assert everyone["n"] == 5


def test_the_analysis_view_uses_a_constant_number_of_queries(researcher, lab):
    client = logged_in(researcher)
    counts = []
    for more in (6, 12):
        simulate(lab, more, seed=more)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(analysis_url(lab.experiment), {"include_simulated": "on"}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 20


def test_exports_use_a_constant_number_of_queries(researcher, lab):
    client = logged_in(researcher)
    counts = {"participants.csv": [], "answers.csv": []}
    for more in (3, 9):
        simulate(lab, more, seed=more)
        for name in counts:
            with CaptureQueriesContext(connection) as queries:
                body = b"".join(
                    client.get(export_url(lab.experiment, name), {"include_simulated": "on"}).streaming_content
                )
            counts[name].append(len(queries))
            assert body.count(b"\n") > more
    for name, (small, large) in counts.items():
        # participants.csv's 16: the request's 4 (session, user, permissions), the experiment, its strata and its
        # layout (6), the threats and the participants scored as the analysis scores them (3), and the 3 streams.
        assert small == large <= 16, name


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("x")',
        "+1",
        "-2+3",
        "@SUM(A1)",
        "\tx",
        "\rx",
        # Fullwidth signs, which spreadsheets read as their ASCII forms.
        '\uff1dHYPERLINK("x")',
        "\uff0b1",
        "\uff0d2+3",
        "\uff20SUM(A1)",
        # The first visible character after zero-width characters, a byte-order mark or whitespace.
        "\u200b=1+1",
        "\u200c\u200d+1",
        "\u2060@SUM(A1)",
        "\ufeff=1",
        " =1",
        "\n\u3000-1",
    ],
)
def test_cells_starting_a_formula_are_neutralised(text):
    assert exports.neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["plain", "a=1", "1-2", " plain", "\u200bplain", "", -2, 3.5])
def test_other_cells_are_left_as_they_are(value):
    assert exports.neutralise(value) == value


def test_a_formula_in_a_comment_is_neutralised_in_the_export(researcher, filled_lab):
    Participant.objects.filter(session=filled_lab).update(comment="=cmd|' /C calc'!A0")
    body = b"".join(logged_in(researcher).get(export_url(filled_lab.experiment, "participants.csv")).streaming_content)
    assert {row["comment"] for row in read_csv(body)} == {"'=cmd|' /C calc'!A0"}


def test_a_fullwidth_formula_behind_a_zero_width_space_is_neutralised_in_the_export(researcher, filled_lab):
    Participant.objects.filter(session=filled_lab).update(comment="\u200b\uff1dcmd|' /C calc'!A0")
    body = b"".join(logged_in(researcher).get(export_url(filled_lab.experiment, "participants.csv")).streaming_content)
    assert {row["comment"] for row in read_csv(body)} == {"'\u200b\uff1dcmd|' /C calc'!A0"}


def test_the_codebook_names_every_exported_column_and_the_key(researcher, filled_lab):
    client = logged_in(researcher)
    codebook = client.get(export_url(filled_lab.experiment, "codebook.md")).content.decode()
    header = next(
        csv.reader(
            io.StringIO(
                b"".join(client.get(export_url(filled_lab.experiment, "participants.csv")).streaming_content).decode()
            )
        )
    )
    for column in [*header, *(c.name for c in ANSWER_COLUMNS)]:
        assert f"| `{column}` |" in codebook, column
    assert "rating_diagram_dfd" in header
    for threat in filled_lab.experiment.scenario.threats.all():
        assert f"| {threat.ref} |" in codebook
    assert "precision = TP / (TP + FP), missing when nothing was marked applicable" in codebook


def test_export_results_writes_the_files(filled_lab, tmp_path):
    out = StringIO()
    call_command("export_results", "--session", filled_lab.join_code, "--out", str(tmp_path / "x"), stdout=out)
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == [
        "answers.csv",
        "codebook.md",
        "participants.csv",
        "replication.zip",
    ]
    assert len(read_csv((tmp_path / "x" / "participants.csv").read_text())) == 16


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--session", "NOPENOPE"], "No session has the join code"), (["--experiment", "nope"], "No experiment 'nope'")],
)
def test_the_commands_refuse_unknown_names(filled_lab, tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("analyze", *args)
    with pytest.raises(CommandError, match=message):
        call_command("export_results", *args, "--out", str(tmp_path))


def test_the_view_can_compare_chosen_arms(researcher, filled_lab):
    control = filled_lab.experiment.arms.get(slug="control")
    response = logged_in(researcher).get(analysis_url(filled_lab.experiment), {"arms": [control.pk]})
    assert response.status_code == 200
    results = response.context["results"]
    assert [arm["slug"] for arm in results["arms"]] == ["control"]
    assert "test" not in results["metrics"][0], "one arm: described, not tested"


def test_dataframes_carry_the_codebook_columns_and_types(filled_lab):
    from analysis import frames

    people = frames.participants(filled_lab.experiment)
    answers = frames.answers(filled_lab.experiment)
    assert len(people) == 16 and len(answers) == 16 * 4
    assert list(answers.columns) == [c.name for c in ANSWER_COLUMNS]
    assert str(people["tp"].dtype) == "Int64" and str(people["precision"].dtype) == "Float64"
    assert str(people["is_simulated"].dtype) == "boolean" and str(people["arm"].dtype) == "string"
    assert str(people["completed_at"].dtype).startswith("datetime64") and people["completed_at"].notna().all()
    by_arm = people.groupby("arm")["tp"].apply(sorted).to_dict()
    results = report.build(dataset.load(filled_lab.experiment))
    for i, arm in enumerate(results["arms"]):
        assert by_arm[arm["slug"]] == sorted(results["metrics"][0]["values"][i])


@pytest.mark.parametrize(
    "query",
    [
        {"plan_outcome": "nope"},
        {"plan_outcome": "tp", "plan_n": "1"},
        {"plan_outcome": "tp", "plan_n": "999999"},
        {"plan_outcome": "tp", "plan_shift": "nan"},
        {"margin_fp": "0"},
        {"margin_f1": "inf"},
        {"arms": "abc"},
    ],
)
def test_bad_planning_and_margin_input_is_refused_and_changes_nothing(researcher, filled_lab, query):
    experiment = filled_lab.experiment
    before = (experiment.equivalence_margins, experiment.holm_family)
    response = logged_in(researcher).get(analysis_url(experiment), query)
    assert response.status_code == 400
    experiment.refresh_from_db()
    assert (experiment.equivalence_margins, experiment.holm_family) == before


def test_the_page_plans_the_next_study_when_asked(researcher, filled_lab):
    response = logged_in(researcher).get(analysis_url(filled_lab.experiment), {"plan_outcome": "tp", "plan_n": "20"})
    assert response.status_code == 200
    plan = response.context["plan"]
    assert plan["key"] == "tp" and plan["n_per_arm"] == 20 and 0 <= plan["power"] <= 1
    assert "Planning the next study" in response.content.decode() and plan["apa"] in html.unescape(
        response.content.decode()
    )


def test_plan_sample_size_repeats_with_its_seed_and_refuses_bad_input(filled_lab, capsys):
    args = ["plan_sample_size", "--session", filled_lab.join_code, "--n", "20", "--simulations", "200", "--format"]
    call_command(*args, "json")
    first = json.loads(capsys.readouterr().out)
    call_command(*args, "json")
    assert json.loads(capsys.readouterr().out) == first
    assert first["n_per_arm"] == 20 and first["simulations"] == 200
    for bad in (["--n", "0"], ["--simulations", "5"]):
        with pytest.raises(CommandError):
            call_command("plan_sample_size", "--session", filled_lab.join_code, *bad)
