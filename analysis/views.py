"""Researchers' analysis view and exports, inside Django admin. Each needs its permission; others get 403."""

from django.conf import settings
from django.contrib.admin import site
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from analysis import dataset, exports, plots, report
from analysis.forms import AnalysisFilterForm
from experiment.models import Experiment


def _get_experiment_or_403(request: HttpRequest, pk: int, permission: str) -> Experiment:
    if not request.user.has_perm(permission):
        raise PermissionDenied
    return get_object_or_404(Experiment.objects.select_related("scenario"), pk=pk)


def _in_research_language():
    """Research output (the report, its plots, the codebook, the replication package) is written in the project's
    language, as `manage.py analyze` and `export_results` write it, whatever language the page around it is in."""
    return translation.override(settings.LANGUAGE_CODE)


def _plots(results: dict) -> dict:
    arms = [arm["name"] for arm in results["arms"]]
    metrics = [m for m in results["metrics"] if m["key"] in ("tp", "fn", "fp", "precision", "recall")]
    ratings = results["ratings"]
    shares = [
        [next((a["distribution"]["shares"] for a in r["per_arm"] if a["arm"] == arm), None) for arm in arms]
        for r in ratings
    ]
    threats = results["threats"]
    return {
        "boxes": plots.box_plots([m["label"] for m in metrics], arms, [m["values"] for m in metrics]),
        "likert": plots.likert_bars([r["label"] for r in ratings], arms, shares) if ratings else None,
        "threats": plots.selection_rates(
            [t["ref"] for t in threats],
            [t["is_real"] for t in threats],
            arms,
            [[a["share"] for a in t["per_arm"]] for t in threats],
        ),
    }


def _plan(data: dataset.Dataset, planning: dict) -> dict:
    try:
        return report.plan_next_study(data, **planning)
    except ValueError as error:
        return {"problem": str(error)}


@never_cache
@require_GET
def analysis(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = _get_experiment_or_403(request, pk, "experiment.view_analysis")
    form = AnalysisFilterForm(experiment, request.GET or None)
    context = {
        **site.each_context(request),
        "title": _("Analysis: %(title)s") % {"title": experiment.title},
        "experiment": experiment,
        "form": form,
        "opts": Experiment._meta,
    }
    if form.is_bound and not form.is_valid():
        return render(request, "admin/analysis/analysis.html", context, status=400)
    filters = form.filters() if form.is_bound else dataset.Filters()
    margins = form.margins() if form.is_bound else {}
    planning = form.planning() if form.is_bound else None
    with _in_research_language():
        data = dataset.load(experiment, filters)
        results = report.build(data, margins)
        figures = _plots(results) if results["n"] else None
        plan = _plan(data, planning) if planning else None
    context |= {"results": results, "plots": figures, "plan": plan, "query": request.GET.urlencode()}
    return render(request, "admin/analysis/analysis.html", context)


EXPORTS = {
    "participants.csv": exports.participant_rows,
    "answers.csv": exports.answer_rows,
    "consort.csv": exports.consort_rows,
}


@never_cache
@require_GET
def export(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    experiment = _get_experiment_or_403(request, pk, "experiment.export_results")
    form = AnalysisFilterForm(experiment, request.GET or None)
    if form.is_bound and not form.is_valid():
        text = _("Invalid filters: %(errors)s") % {"errors": form.errors.as_text()}
        return HttpResponse(text, status=400, content_type="text/plain; charset=utf-8")
    filters = form.filters() if form.is_bound else dataset.Filters()
    disposition = f'attachment; filename="{experiment.slug}-{name}"'
    if name in EXPORTS:
        response = StreamingHttpResponse(
            exports.csv_lines(EXPORTS[name](experiment, filters)), content_type="text/csv; charset=utf-8"
        )
    elif name == "codebook.md":
        with _in_research_language():
            text = exports.codebook(experiment)
        response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    elif name == "replication.zip":
        margins = form.margins() if form.is_bound else {}
        with _in_research_language():
            package = exports.replication_package(experiment, filters, margins)
        response = HttpResponse(package, content_type="application/zip")
    else:
        return HttpResponse(status=404)
    response["Content-Disposition"] = disposition
    return response
