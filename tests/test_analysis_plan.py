"""The analysis plan a definition declares: equivalence margins per outcome and the Holm family."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from analysis import dataset, report
from experiment import definition
from experiment.models import OUTCOMES, Experiment, default_holm_family
from experiment.rehearsal import simulate
from tests.test_definition import minimal, write

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def with_plan(plan: dict) -> dict:
    data = minimal() | {"schema_version": definition.SCHEMA_VERSION}
    data["experiment"]["analysis"] = plan
    return data


def test_a_version_1_file_loads_with_no_margins_and_the_default_family(tmp_path):
    call_command("load_experiment", write(tmp_path, minimal()), stdout=StringIO())
    experiment = Experiment.objects.get(slug="exp")
    assert experiment.equivalence_margins == {}
    assert experiment.holm_family == ["tp", "fp", "precision"] == default_holm_family()


def test_a_declared_plan_loads_and_dumps_back(tmp_path):
    plan = {
        "equivalence_margins": {"tp": {"margin": 1, "rationale": "one threat"}, "precision": {"margin": 0.2}},
        "holm_family": ["tp", "fp"],
    }
    call_command("load_experiment", write(tmp_path, with_plan(plan)), stdout=StringIO())
    experiment = Experiment.objects.get(slug="exp")
    assert experiment.equivalence_margins == {
        "tp": {"margin": 1.0, "rationale": "one threat"},
        "precision": {"margin": 0.2, "rationale": ""},
    }
    assert experiment.holm_family == ["tp", "fp"]
    assert definition.dump(experiment)["experiment"]["analysis"] == {
        "equivalence_margins": experiment.equivalence_margins,
        "holm_family": ["tp", "fp"],
        "stratify_by_session": False,
    }


@pytest.mark.parametrize(
    ("plan", "problem"),
    [
        ([], "experiment.analysis: expected an object"),
        ({"margins": {}}, "experiment.analysis.margins: unknown"),
        (
            {"equivalence_margins": {"tpp": {"margin": 1}}},
            "experiment.analysis.equivalence_margins.tpp: not an outcome",
        ),
        ({"equivalence_margins": {"tp": 1}}, "equivalence_margins.tp: expected an object with margin and rationale"),
        ({"equivalence_margins": {"tp": {"margin": 0}}}, "equivalence_margins.tp.margin: expected a number above 0"),
        ({"equivalence_margins": {"tp": {"margin": True}}}, "equivalence_margins.tp.margin: expected a number"),
        ({"equivalence_margins": {"tp": {"margin": "1"}}}, "equivalence_margins.tp.margin: expected a number"),
        ({"equivalence_margins": {"tp": {"margin": 1, "rationale": 3}}}, "equivalence_margins.tp.rationale"),
        ({"holm_family": "tp"}, "experiment.analysis.holm_family: expected a list of outcomes"),
        ({"holm_family": ["tp", "TP"]}, 'holm_family[1]: "TP" is not one of'),
        ({"holm_family": ["tp", "tp"]}, "holm_family: an outcome appears more than once"),
        ({"stratify_by_session": "yes"}, "experiment.analysis.stratify_by_session: expected true or false"),
    ],
)
def test_a_bad_plan_is_refused_with_its_place_and_nothing_is_loaded(tmp_path, plan, problem):
    with pytest.raises(CommandError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        call_command("load_experiment", write(tmp_path, with_plan(plan)), stdout=StringIO())
    assert not Experiment.objects.exists()


@pytest.mark.parametrize("name", ["kubernetes-pod-dfd", "kubernetes-pod-three-arms", "github-push", "kubernetes-large"])
def test_the_shipped_experiments_declare_a_margin_with_its_rationale_for_every_score(name):
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    assert data["schema_version"] == definition.SCHEMA_VERSION
    margins = data["experiment"]["analysis"]["equivalence_margins"]
    assert set(margins) == set(OUTCOMES) - {"mean_confidence"}  # the shipped ones do not ask confidence
    assert all(entry["rationale"].strip() for entry in margins.values())
    assert 0 < margins["precision"]["margin"] < 1 and 0 < margins["recall"]["margin"] < 1
    assert data["experiment"]["analysis"]["holm_family"] == ["tp", "fp", "precision"]


def test_an_outcome_without_a_margin_gets_no_equivalence_test_and_the_filters_can_set_one(lab):
    simulate(lab, 12, profile="diagram_helps", seed=5)
    experiment = lab.experiment
    experiment.equivalence_margins = {"tp": {"margin": 1.0, "rationale": "one threat"}}
    experiment.save()
    loaded = dataset.load(experiment, dataset.Filters(include_simulated=True))
    declared = {m["key"]: m for m in report.build(loaded)["metrics"]}
    assert "tost" in declared["tp"] and "tost" not in declared["precision"]
    assert "margin = 1.00" in declared["tp"]["tost"]["apa"]
    overridden = {m["key"]: m for m in report.build(loaded, {"precision": 0.1, "tp": 2})["metrics"]}
    assert "margin = 0.10" in overridden["precision"]["tost"]["apa"]
    assert "margin = 2.00" in overridden["tp"]["tost"]["apa"]


def test_holm_runs_over_the_declared_family_and_fn_and_recall_take_tp_s_test(lab):
    simulate(lab, 16, profile="diagram_helps", seed=11)
    results = report.build(dataset.load(lab.experiment, dataset.Filters(include_simulated=True)))
    metrics = {m["key"]: m for m in results["metrics"]}
    family = [metrics[key]["test"]["p"] for key in ("tp", "fp", "precision")]
    from analysis.stats import holm

    assert [metrics[key]["test"]["p_holm"] for key in ("tp", "fp", "precision")] == holm(family)
    for key in ("fn", "recall"):
        assert metrics[key]["test"]["same_test_as"] == "tp"
        assert metrics[key]["test"]["p_holm"] == metrics["tp"]["test"]["p_holm"]
        assert metrics[key]["test"]["p"] == pytest.approx(metrics["tp"]["test"]["p"])
    assert "p_holm" not in metrics["f1"]["test"]


def test_analyze_takes_margins_and_refuses_bad_ones(lab, capsys):
    simulate(lab, 8, profile="diagram_helps", seed=2)
    call_command("analyze", "--session", lab.join_code, "--include-simulated", "--margin", "fp=1", "--format", "json")
    results = json.loads(capsys.readouterr().out)
    assert results["margins"]["fp"] == {"margin": 1.0, "rationale": "set in the filters", "source": "filters"}
    for bad in ("nope=1", "tp=0", "tp=abc", "tp"):
        with pytest.raises(CommandError, match="--margin"):
            call_command("analyze", "--session", lab.join_code, "--margin", bad)


def test_the_admin_refuses_a_bad_plan(experiment):
    experiment.equivalence_margins = {"tp": {"margin": -1}}
    with pytest.raises(ValidationError, match="margin"):
        experiment.full_clean()


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_experiments_a_plan_that_keeps_the_count_margins():
    executor = MigrationExecutor(connection)
    executor.migrate([("experiment", "0012_analysis_plan")])
    old = executor.loader.project_state([("experiment", "0012_analysis_plan")]).apps
    scenario = old.get_model("threats", "Scenario").objects.create(slug="s", title="S", task_html="<p>t</p>")
    old.get_model("experiment", "Experiment").objects.create(
        slug="old", title="Old", scenario=scenario, equivalence_margins={}, holm_family=[]
    )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    experiment = Experiment.objects.get(slug="old")
    assert set(experiment.equivalence_margins) == {"tp", "fn", "fp", "tn"}
    assert all(entry["margin"] == 1.0 for entry in experiment.equivalence_margins.values())
    assert experiment.holm_family == ["tp", "fp", "precision"]
