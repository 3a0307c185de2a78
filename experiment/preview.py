"""Staff preview of an arm's student pages: the students' own templates around a stand-in participant never saved.

Nothing is written: no participant, no answers, no allocation, no declined count. A POST binds the page's form and
shows it again, with its errors or with a note that it would be taken; the next page is a link. Rendered blocks go
to the content cache under a key of the preview's own (``preview_key``): the preview builds its forms here, apart
from the student views, so nothing it renders may ever fill a block that a student's page reads.
"""

import uuid

from django.contrib.admin import site
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from experiment import selectors
from experiment.consent import sheet_of
from experiment.forms import (
    ConsentForm,
    QuestionnaireForm,
    ShownThreatsForm,
    ThreatAnswersForm,
    TrainingForm,
    UsefulnessForm,
)
from experiment.models import Arm, Experiment, LabSession, Participant, Placement, SessionStatus, Stage
from experiment.stages import OPTIONAL, stages_for
from experiment.views import STRIDE_TABLE
from threats.models import Diagram, Threat

CONSENT = "consent"
TEMPLATES = {
    CONSENT: "experiment/consent.html",
    Stage.ENTRY: "experiment/questionnaire.html",
    Stage.TRAINING: "experiment/training.html",
    Stage.THREATS: "experiment/threats.html",
    Stage.USEFULNESS: "experiment/usefulness.html",
    Stage.EXIT: "experiment/questionnaire.html",
    Stage.DONE: "experiment/done.html",
}
# What the footer and the thank-you page show in place of a participant's code and completion code.
STAND_IN_CODE = uuid.UUID(int=0)
SAMPLE_COMPLETION_CODE = "ACDEF-34679"


def preview_key(content_key: uuid.UUID) -> uuid.UUID:
    """The preview's own content key: it changes with the experiment's, and no student page ever reads under it."""
    return uuid.uuid5(content_key, "preview")


def pages_of(experiment: Experiment) -> list[str]:
    """The pages a student of this experiment sees, in order: the consent page, then one per stage."""
    return [CONSENT, *(str(stage) for stage in stages_for(experiment))]


def page_label(page: str) -> str:
    return _("Information and consent") if page == CONSENT else str(Stage(page).label)


def _get_arm_or_403(request: HttpRequest, pk: int, arm_pk: int) -> Arm:
    if not request.user.has_perm("experiment.run_session"):
        raise PermissionDenied
    return get_object_or_404(Arm.objects.select_related("experiment__scenario"), pk=arm_pk, experiment_id=pk)


def stand_in(arm: Arm, page: str) -> Participant:
    """A participant of ``arm`` at ``page``, in memory only: it has no primary key and is never saved.

    It sees the threats in the scenario's order (each student sees them shuffled). Its experiment carries the
    preview's content key, in this request's copy only.
    """
    experiment = arm.experiment
    experiment.content_key = preview_key(experiment.content_key)
    session = LabSession(experiment=experiment, join_code="PREVIEW", status=SessionStatus.OPEN)
    threats = Threat.objects.filter(scenario_id=experiment.scenario_id).order_by("position")
    participant = Participant(
        code=STAND_IN_CODE,
        session=session,
        arm=arm,
        stage=page if page != CONSENT else Stage.ENTRY,
        threat_order=list(threats.values_list("pk", flat=True)),
    )
    # As the student pages' selector annotates it (selectors.participants_for_pages).
    participant.content_key = experiment.content_key
    return participant


def _posted(request: HttpRequest):
    return request.POST if request.method == "POST" else None


def _page_context(request: HttpRequest, participant: Participant, page: str) -> tuple[dict, object | None]:
    """The context the student view of ``page`` gives its template, and the page's bound form on a POST."""
    experiment = participant.session.experiment
    data = _posted(request)
    base = {"participant": participant, "content_key": participant.content_key}
    material = {**base, "experiment": experiment, "stride_table": STRIDE_TABLE}
    if page == CONSENT:
        form = ConsentForm(sheet_of(experiment), data, initial={"entry_token": uuid.uuid4()})
        return {"session": participant.session, "form": form, "problem": None}, form
    if page == Stage.TRAINING:
        form = TrainingForm(data)
        return {**material, "form": form}, form
    if page == Stage.THREATS:

        def new_threats_form(data=None) -> ThreatAnswersForm:
            threats = selectors.threats_in_order(participant)
            return ThreatAnswersForm(threats, data, ask_confidence=experiment.ask_confidence)

        form = new_threats_form(data) if data is not None else None
        refs = dict(Threat.objects.filter(pk__in=participant.threat_order).values_list("pk", "ref"))
        context = {
            **material,
            "form": form,
            "shown": form or ShownThreatsForm(participant.threat_order),
            "cards": [(threat_id, refs[threat_id]) for threat_id in participant.threat_order],
            "blank_form": SimpleLazyObject(new_threats_form),
        }
        return context, form
    if page == Stage.USEFULNESS:

        def new_usefulness_form(data=None) -> UsefulnessForm:
            return UsefulnessForm(selectors.usefulness_sources(participant), data)

        form = new_usefulness_form(data) if data is not None else None
        return {**base, "form": form, "blank_form": SimpleLazyObject(new_usefulness_form)}, form
    if page in OPTIONAL:
        placement = Placement(OPTIONAL[Stage(page)])

        def new_questionnaire_form(data=None) -> QuestionnaireForm:
            return QuestionnaireForm(selectors.questionnaire_items(experiment, placement), data)

        form = new_questionnaire_form(data) if data is not None else None
        context = {
            **base,
            "placement": placement,
            "questionnaire": selectors.questionnaire(experiment, placement),
            "form": form,
            "blank_form": SimpleLazyObject(new_questionnaire_form),
        }
        return context, form
    return {**base, "completion_code": SAMPLE_COMPLETION_CODE}, None


@require_GET
def preview_index(request: HttpRequest, pk: int) -> HttpResponse:
    """Every page of every arm of the experiment, as links."""
    if not request.user.has_perm("experiment.run_session"):
        raise PermissionDenied
    experiment = get_object_or_404(Experiment, pk=pk)
    pages = [(page, page_label(page)) for page in pages_of(experiment)]
    context = {
        **site.each_context(request),
        "title": _("Preview the student pages of %(experiment)s") % {"experiment": experiment},
        "experiment": experiment,
        "arms": list(experiment.arms.order_by("position")),
        "pages": pages,
        "opts": Experiment._meta,
    }
    return render(request, "admin/experiment/experiment/preview_index.html", context)


@require_http_methods(["GET", "POST"])
def preview_page(request: HttpRequest, pk: int, arm_pk: int, page: str) -> HttpResponse:
    """One student page of the arm, as its students see it; a POST shows the answered form and stores nothing."""
    arm = _get_arm_or_403(request, pk, arm_pk)
    pages = pages_of(arm.experiment)
    if page not in pages:
        raise Http404("This experiment has no such page.")
    participant = stand_in(arm, page)
    context, form = _page_context(request, participant, page)
    taken = form is not None and form.is_bound and form.is_valid()
    later = pages[pages.index(page) + 1 :]
    context |= {
        "preview": True,
        "page_template": TEMPLATES[page],
        "arm": arm,
        "page": page,
        "preview_pages": [(name, page_label(name)) for name in pages],
        "next_page": (later[0], page_label(later[0])) if later else None,
        "taken": taken,
    }
    status = 400 if form is not None and form.is_bound and not taken else 200
    return render(request, "admin/experiment/experiment/preview_page.html", context, status=status)


@require_GET
def preview_diagram(request: HttpRequest, pk: int, arm_pk: int, slug: str) -> HttpResponse:
    """A diagram of the arm, as the preview's pages load it (their ``../diagrams/`` address); others are 404."""
    arm = _get_arm_or_403(request, pk, arm_pk)
    svg = Diagram.objects.shown_by(arm.pk).filter(slug=slug).values_list("svg", flat=True).first()
    if svg is None:
        raise Http404("This arm shows no such diagram.")
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response
