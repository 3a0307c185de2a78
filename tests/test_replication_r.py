"""The replication package's R script recomputes ThreatLab's tests from the package's CSV files, with base R."""

import io
import shutil
import subprocess
import zipfile

import pytest

from analysis import exports
from analysis.dataset import Filters
from experiment.models import Participant
from experiment.rehearsal import simulate

pytestmark = pytest.mark.django_db
RSCRIPT = shutil.which("Rscript")


@pytest.fixture
def package(lab, tmp_path):
    simulate(lab, 24, profile="diagram_helps", seed=11)
    Participant.objects.filter(session=lab).update(is_simulated=False)
    archive = zipfile.ZipFile(io.BytesIO(exports.replication_package(lab.experiment, Filters())))
    archive.extractall(tmp_path)
    return tmp_path


def test_the_package_lists_what_r_recomputes(package):
    expected = (package / "expected.csv").read_text().splitlines()
    tests = {line.split(",")[0] for line in expected[1:]}
    assert {"wilcox", "van_elteren", "holm", "fisher"} <= tests
    assert "quit(status" in (package / "replicate.R").read_text()


@pytest.mark.skipif(RSCRIPT is None, reason="Rscript is not installed (apt-get install r-base-core)")
def test_r_recomputes_every_test_to_the_same_values(package):
    run = subprocess.run([RSCRIPT, "replicate.R"], cwd=package, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "MISMATCH" not in run.stdout and "0 mismatch(es)" in run.stdout
    assert run.stdout.count(" ok\n") >= 8 + 8 + 3 + 4  # Mann-Whitney and van Elteren per score, Holm, Fisher
