"""The student's way through a lab: join, consent, training, threats, usefulness, thanks.

Every participant view first sends the participant to the URL of the stage they are at, so the back button, a
refresh, a second tab or a replayed POST lands on the current stage and changes nothing.
"""

import uuid

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from experiment import services, throttle
from experiment.bots import BOT_HEADER, is_bot_token
from experiment.codes import completion_code_for
from experiment.content import Content
from experiment.forms import (
    ConsentForm,
    JoinForm,
    QuestionnaireForm,
    ResumeForm,
    ThreatAnswersForm,
    TrainingForm,
    UsefulnessForm,
)
from experiment.lookups import participant_by_code, session_by_join_code
from experiment.models import LabSession, Participant, Placement, Stage
from experiment.sources import sources_for
from threats.models import STRIDE_PROPERTY

# A browser remembers its participant per lab session in a signed cookie rather than in Django's session table: a
# class joining at once would otherwise write hundreds of session rows in the same ten seconds.
_REMEMBER_SALT = "threatlab.participant"
STAGE_URL_NAMES = {
    Stage.ENTRY: "experiment:entry",
    Stage.TRAINING: "experiment:training",
    Stage.THREATS: "experiment:threats",
    Stage.USEFULNESS: "experiment:usefulness",
    Stage.EXIT: "experiment:exit",
    Stage.DONE: "experiment:done",
}


def stage_url(participant: Participant) -> str:
    return reverse(STAGE_URL_NAMES[Stage(participant.stage)], args=[participant.code])


def _remember_cookie(session_id: int) -> str:
    return f"threatlab_participant_{session_id}"


def _remembering(response: HttpResponse, participant: Participant) -> HttpResponse:
    response.set_signed_cookie(
        _remember_cookie(participant.session_id),
        str(participant.code),
        salt=_REMEMBER_SALT,
        max_age=settings.SESSION_COOKIE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def _remembered(request: HttpRequest, session: LabSession) -> Participant | None:
    value = request.get_signed_cookie(
        _remember_cookie(session.pk), default=None, salt=_REMEMBER_SALT, max_age=settings.SESSION_COOKIE_AGE
    )
    try:
        code = uuid.UUID(value) if value else None
    except ValueError:
        return None
    return Participant.objects.filter(code=code, session=session).first() if code else None


def _participant_or_404(code: uuid.UUID) -> tuple[Participant, Content]:
    """The participant and its experiment's content, its relations taken from the snapshot: one query in all."""
    found = participant_by_code(code)
    if found is None:
        raise Http404("No participant has this code.")
    return found


def _posted(request: HttpRequest):
    """The POST data to bind a form to (even when empty, so an empty POST shows errors), or None on GET."""
    return request.POST if request.method == "POST" else None


def _at_stage(request: HttpRequest, participant: Participant, stage: Stage) -> bool:
    """True if the participant is at ``stage``; otherwise a POST learns why it was not taken."""
    if participant.stage == stage:
        return True
    if request.method == "POST":
        messages.info(request, _("That step is already done. Here is where you are now."))
    return False


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "experiment/home.html", {"join_form": JoinForm(), "resume_form": ResumeForm()})


def _too_many_guesses(request: HttpRequest) -> HttpResponse:
    message = _("Too many wrong session codes from here. Wait ten minutes, or ask your instructor for the link.")
    return render(request, "experiment/blocked.html", {"message": message}, status=429)


@require_POST
def join(request: HttpRequest) -> HttpResponse:
    if throttle.is_blocked(request):
        return _too_many_guesses(request)
    form = JoinForm(request.POST)
    if not form.is_valid():
        if "code" in form.errors and request.POST.get("code", "").strip():
            throttle.record_wrong_code(request)
        return render(request, "experiment/home.html", {"join_form": form, "resume_form": ResumeForm()}, status=400)
    return redirect("experiment:consent", join_code=form.cleaned_data["code"].join_code)


@require_POST
def resume(request: HttpRequest) -> HttpResponse:
    form = ResumeForm(request.POST)
    participant = None
    if form.is_valid():
        participant = Participant.objects.filter(code=form.cleaned_data["participant_code"]).first()
        if participant is None:
            form.add_error("participant_code", _("No participant has this code. Check it and try again."))
    if participant is None:
        return render(request, "experiment/home.html", {"join_form": JoinForm(), "resume_form": form}, status=400)
    return _remembering(redirect(stage_url(participant)), participant)


@never_cache
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, join_code: str) -> HttpResponse:
    session = session_by_join_code(join_code.upper())
    if session is None:
        if throttle.is_blocked(request):
            return _too_many_guesses(request)
        throttle.record_wrong_code(request)
        raise Http404("No lab session has this code.")
    participant = _remembered(request, session)
    if participant is not None:
        return redirect(stage_url(participant))
    is_bot = is_bot_token(request.headers.get(BOT_HEADER))
    problem = services.admission_problem(session, rehearsal=is_bot)
    form = ConsentForm(_posted(request), initial={"entry_token": uuid.uuid4()})
    if problem is None and request.method == "POST" and form.is_valid():
        if form.cleaned_data["decision"] == "decline":
            services.record_declined(session)
            return redirect("experiment:declined")
        try:
            participant = services.enrol(session, form.cleaned_data["entry_token"], is_simulated=is_bot)
        except services.AdmissionRefused as refused:
            problem = str(refused)
        else:
            return _remembering(redirect(stage_url(participant)), participant)
    status = 403 if problem else (400 if form.is_bound else 200)
    context = {"session": session, "form": form, "problem": problem}
    return render(request, "experiment/consent.html", context, status=status)


@require_GET
def declined(request: HttpRequest) -> HttpResponse:
    return render(request, "experiment/declined.html")


@require_GET
def participant_home(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    participant, _content = _participant_or_404(code)
    return redirect(stage_url(participant))


def _material_context(participant: Participant, content: Content) -> dict:
    return {
        "participant": participant,
        "content_key": content.key,
        "scenario": content.scenario,
        "sections": content.sections,
        "diagrams": content.shown_diagrams(participant.arm_id),
        "stride_table": [(category, *STRIDE_PROPERTY[category]) for category in STRIDE_PROPERTY],
    }


@never_cache
@require_http_methods(["GET", "POST"])
def training(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    participant, content = _participant_or_404(code)
    if not _at_stage(request, participant, Stage.TRAINING):
        return redirect(stage_url(participant))
    form = TrainingForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.start_threats(participant, form.cleaned_data["exposure"])
        except services.TooEarly as early:
            minutes, seconds = divmod(early.remaining_seconds, 60)
            form.add_error(
                None, _("Please keep reading: the task opens in %(m)d min %(s)02d s.") % {"m": minutes, "s": seconds}
            )
        else:
            return redirect(stage_url(participant))
    context = {**_material_context(participant, content), "form": form}
    return render(request, "experiment/training.html", context, status=400 if form.errors else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def threats(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    participant, content = _participant_or_404(code)
    if not _at_stage(request, participant, Stage.THREATS):
        return redirect(stage_url(participant))
    form = ThreatAnswersForm(
        content.threats_in_order(participant.threat_order),
        _posted(request),
        ask_confidence=content.experiment.ask_confidence,
        share_key=content.key,
    )
    if request.method == "POST" and form.is_valid():
        answers = [services.ThreatAnswer(t.pk, pos, choice, sure) for t, pos, choice, sure in form.answers()]
        # A submit that was taken has moved the participant on (and re-read it); one that was not learns where
        # the participant is now.
        if not services.submit_answers(participant, answers, form.cleaned_data["exposure"]):
            messages.info(request, _("Your answers were already submitted; they are kept as they were."))
            participant.refresh_from_db()
        return redirect(stage_url(participant))
    context = {**_material_context(participant, content), "form": form}
    return render(request, "experiment/threats.html", context, status=400 if form.is_bound else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def usefulness(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    participant, content = _participant_or_404(code)
    if not _at_stage(request, participant, Stage.USEFULNESS):
        return redirect(stage_url(participant))
    form = UsefulnessForm(
        sources_for(content.shown_diagrams(participant.arm_id)),
        _posted(request),
        share_key=(content.key, participant.arm_id),
    )
    if request.method == "POST" and form.is_valid():
        completion = services.submit_usefulness(participant, form.ratings(), form.cleaned_data["comment"])
        if completion is None:
            messages.info(request, _("Your ratings were already submitted; they are kept as they were."))
            participant.refresh_from_db()
        return redirect(stage_url(participant))
    context = {"participant": participant, "content_key": content.key, "form": form}
    return render(request, "experiment/usefulness.html", context, status=400 if form.is_bound else 200)


def _questionnaire(request: HttpRequest, code: uuid.UUID, stage: Stage, placement: Placement) -> HttpResponse:
    participant, content = _participant_or_404(code)
    if not _at_stage(request, participant, stage):
        return redirect(stage_url(participant))
    questionnaire, items = content.questionnaires[placement]
    form = QuestionnaireForm(items, _posted(request), share_key=(content.key, placement))
    if request.method == "POST" and form.is_valid():
        if stage == Stage.ENTRY:
            stored = services.submit_entry(participant, form.responses())
        else:
            stored = services.submit_exit(participant, form.responses()) is not None
        if not stored:
            messages.info(request, _("Your answers were already submitted; they are kept as they were."))
            participant.refresh_from_db()
        return redirect(stage_url(participant))
    context = {"participant": participant, "content_key": content.key, "questionnaire": questionnaire, "form": form}
    return render(request, "experiment/questionnaire.html", context, status=400 if form.is_bound else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def entry(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    return _questionnaire(request, code, Stage.ENTRY, Placement.ENTRY)


@never_cache
@require_http_methods(["GET", "POST"])
def exit_questionnaire(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    return _questionnaire(request, code, Stage.EXIT, Placement.EXIT)


@require_GET
def done(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    participant, _content = _participant_or_404(code)
    if participant.stage != Stage.DONE:
        return redirect(stage_url(participant))
    completion_code = completion_code_for(str(participant.code))
    return render(request, "experiment/done.html", {"participant": participant, "completion_code": completion_code})


@require_GET
def diagram_svg(request: HttpRequest, code: uuid.UUID, slug: str) -> HttpResponse:
    """A diagram of the participant's arm, as an image; diagrams of other arms are not there (404)."""
    participant, content = _participant_or_404(code)
    shown = content.shown_diagrams(participant.arm_id)
    diagram = next((d for d in shown if d.slug == slug), None)
    if diagram is None:
        return HttpResponse(status=404)
    response = HttpResponse(diagram.svg, content_type="image/svg+xml; charset=utf-8")
    # Loaded by <img>, an SVG never runs scripts; this header also covers opening it directly in a tab.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, max-age=3600"
    return response
