"""The student's way through a lab: join, consent, training, threats, usefulness, thanks.

Every participant view first sends the participant to the URL of the stage they are at, so the back button, a
refresh, a second tab or a replayed POST lands on the current stage and changes nothing.
"""

import uuid

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from experiment import selectors, throttle
from experiment.bots import BOT_HEADER, is_bot_token
from experiment.codes import completion_code_for
from experiment.consent import sheet_of
from experiment.content import kept
from experiment.feedback import MIN_FINISHED
from experiment.feedback import personal as personal_feedback
from experiment.forms import (
    ConsentForm,
    JoinForm,
    QuestionnaireForm,
    ResumeForm,
    ReturningForm,
    ShownThreatsForm,
    ThreatAnswersForm,
    TrainingForm,
    UnlockForm,
    UsefulnessForm,
)
from experiment.models import DebriefShown, Experiment, LabSession, Participant, Placement, Stage
from experiment.services import participation
from experiment.stages import consent_progress, progress_of, url_of
from threats.models import STRIDE_PROPERTY, Diagram

# A browser remembers its participant per lab session in a signed cookie rather than in Django's session table: a
# class joining at once would otherwise write hundreds of session rows in the same ten seconds.
_REMEMBER_SALT = "threatlab.participant"
STRIDE_TABLE = [(category, *STRIDE_PROPERTY[category]) for category in STRIDE_PROPERTY]


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
    """The unfinished participant this browser holds for the session, if any. A finished one is not held: the next
    student at a shared computer who opens the join link starts as a new participant."""
    value = request.get_signed_cookie(
        _remember_cookie(session.pk), default=None, salt=_REMEMBER_SALT, max_age=settings.SESSION_COOKIE_AGE
    )
    try:
        code = uuid.UUID(value) if value else None
    except ValueError:
        return None
    found = Participant.objects.filter(code=code, session=session).exclude(stage=Stage.DONE)
    return found.first() if code else None


def _forgetting(response: HttpResponse, session_id: int) -> HttpResponse:
    response.delete_cookie(_remember_cookie(session_id), samesite="Lax")
    return response


# The browser that has just finished, or whoever typed the participant's short code, sees the completion code for
# ten minutes: time to write it down, reload or switch language. After that, or anywhere else, the thank-you page
# found from the address alone (a shared computer's history) shows nothing until the short code is typed.
_FINISHED_COOKIE = "threatlab_finished"
_FINISHED_SALT = "threatlab.finished"
SHOWS_COMPLETION_CODE_SECONDS = 10 * 60


def _showing_code(response: HttpResponse, participant: Participant) -> HttpResponse:
    """Forget the participant for its session's join link, and show its completion code in this browser for a
    while."""
    response.set_signed_cookie(
        _FINISHED_COOKIE,
        str(participant.code),
        salt=_FINISHED_SALT,
        max_age=SHOWS_COMPLETION_CODE_SECONDS,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return _forgetting(response, participant.session_id)


def _shows_code(request: HttpRequest, participant: Participant) -> bool:
    shown = request.get_signed_cookie(
        _FINISHED_COOKIE, default=None, salt=_FINISHED_SALT, max_age=SHOWS_COMPLETION_CODE_SECONDS
    )
    return shown == str(participant.code)


def _participant_or_404(request: HttpRequest, code: uuid.UUID) -> Participant:
    """The participant with what the request reads of it and its experiment (more for an answer): one query."""
    found = selectors.participants_answering() if request.method == "POST" else selectors.participants_for_pages()
    return get_object_or_404(found, code=code)


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


def _limited(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "experiment/blocked.html", {"message": message}, status=429)


def _too_many_guesses(request: HttpRequest) -> HttpResponse:
    message = _("Too many wrong session codes from here. Wait ten minutes, or ask your instructor for the link.")
    return _limited(request, message)


def _too_many_participant_codes(request: HttpRequest) -> HttpResponse:
    return _limited(request, _("Too many wrong participant codes from here. Wait ten minutes, or ask your instructor."))


@require_POST
def join(request: HttpRequest) -> HttpResponse:
    form = JoinForm(request.POST)
    if form.is_valid():
        return redirect("experiment:consent", join_code=form.cleaned_data["code"].join_code)
    typed = "code" in form.errors and bool(request.POST.get("code", "").strip())
    if typed and throttle.wrong_code(request, throttle.JOIN):
        return _too_many_guesses(request)
    return render(request, "experiment/home.html", {"join_form": form, "resume_form": ResumeForm()}, status=400)


@never_cache
@require_POST
def resume(request: HttpRequest) -> HttpResponse:
    form = ResumeForm(request.POST)
    if not form.is_valid():
        # Only a wrong code counts: the limit never refuses a right one.
        typed = "participant_code" in form.errors and bool(request.POST.get("participant_code", "").strip())
        if typed and throttle.wrong_code(request, throttle.RESUME):
            return _too_many_participant_codes(request)
        return render(request, "experiment/home.html", {"join_form": JoinForm(), "resume_form": form}, status=400)
    participant = form.cleaned_data["participant_code"]
    if participant.stage != Stage.DONE:
        return _remembering(redirect(url_of(participant)), participant)
    if form.proves_owner:
        return _showing_code(redirect(url_of(participant)), participant)
    return redirect(url_of(participant))


@never_cache
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, join_code: str) -> HttpResponse:
    session = selectors.session_by_join_code(join_code.upper())
    if session is None:
        if throttle.wrong_code(request, throttle.JOIN):
            return _too_many_guesses(request)
        raise Http404("No lab session has this code.")
    participant = _remembered(request, session)
    if participant is not None and request.method == "POST":
        return redirect(url_of(participant))
    if participant is not None:
        return _returning_page(request, session, participant, ReturningForm())
    # Staff trying the join link are no students: like rehearsal bots they take part as simulated participants,
    # which "Reset the rehearsal" removes and the analysis leaves out. (A student's browser has no staff login, so
    # this reads no session.)
    is_bot = is_bot_token(request.headers.get(BOT_HEADER)) or request.user.is_staff
    problem = participation.admission_problem(session, rehearsal=is_bot)
    form = ConsentForm(sheet_of(session.experiment), _posted(request), initial={"entry_token": uuid.uuid4()})
    if problem is None and request.method == "POST" and form.is_valid():
        # Signed rehearsal bots come from the server itself (and may be many in a simulation), staff are signed in:
        # they do not count.
        if not is_bot and throttle.new_participant(request, session):
            return _limited(
                request,
                _(
                    "Too many students have joined this session from your network in the last ten minutes. Wait a "
                    "few minutes and try again, or ask your instructor."
                ),
            )
        if form.cleaned_data["decision"] == "decline":
            if not is_bot:  # a student's refusal, not staff trying the button
                participation.record_declined(session)
            return redirect("experiment:declined")
        try:
            participant = participation.enrol(
                session, form.cleaned_data["entry_token"], form.consent(), is_simulated=is_bot
            )
        except participation.AdmissionRefused as refused:
            problem = str(refused)
        else:
            return _remembering(redirect(url_of(participant)), participant)
    status = 403 if problem else (400 if form.is_bound else 200)
    context = {"session": session, "form": form, "problem": problem, "progress": consent_progress(session.experiment)}
    return render(request, "experiment/consent.html", context, status=status)


def _returning_page(request: HttpRequest, session: LabSession, participant: Participant, form) -> HttpResponse:
    context = {"session": session, "remembered": participant, "form": form}
    return render(request, "experiment/returning.html", context, status=400 if form.is_bound else 200)


@never_cache
@require_POST
def returning(request: HttpRequest, join_code: str) -> HttpResponse:
    """The answer of a browser that holds an unfinished participant: continue as them, or start as a new student
    (the browser forgets them; its script forgets their unsent answers)."""
    session = selectors.session_by_join_code(join_code.upper())
    if session is None:
        raise Http404("No lab session has this code.")
    participant = _remembered(request, session)
    if participant is None:
        return redirect("experiment:consent", join_code=session.join_code)
    form = ReturningForm(request.POST)
    if not form.is_valid():
        return _returning_page(request, session, participant, form)
    if form.cleaned_data["choice"] == "continue":
        return redirect(url_of(participant))
    return _forgetting(redirect("experiment:consent", join_code=session.join_code), session.pk)


@require_GET
def declined(request: HttpRequest) -> HttpResponse:
    return render(request, "experiment/declined.html")


@never_cache
@require_GET
def participant_home(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    participant = _participant_or_404(request, code)
    return redirect(url_of(participant))


def _page_context(participant: Participant) -> dict:
    """What every participant page's template needs: the participant and the key of its cached content blocks.

    A page with questions gets its form as ``form`` only when a POST bound it. Unanswered, it passes ``blank_form``,
    built on first use (SimpleLazyObject): only when the template renders the questions' cached block, so a page
    whose block is cached builds no form and reads no questions.
    """
    return {"participant": participant, "content_key": participant.content_key, "progress": progress_of(participant)}


def _experiment(participant: Participant) -> SimpleLazyObject:
    """The participant's experiment, read on first use: a page whose cached blocks are all there reads none of it."""
    return SimpleLazyObject(lambda: participant.session.experiment)


def _material_context(participant: Participant) -> dict:
    """The training material: its template reaches the sections and diagrams through the experiment and the arm,
    so a page whose material block comes from the cache reads none of them."""
    return {**_page_context(participant), "experiment": _experiment(participant), "stride_table": STRIDE_TABLE}


@never_cache
@require_http_methods(["GET", "POST"])
def training(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    participant = _participant_or_404(request, code)
    if not _at_stage(request, participant, Stage.TRAINING):
        return redirect(url_of(participant))
    form = TrainingForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            participation.start_threats(participant, form.cleaned_data["exposure"])
        except participation.TooEarly as early:
            minutes, seconds = divmod(early.remaining_seconds, 60)
            form.add_error(
                None, _("Please keep reading: the task opens in %(m)d min %(s)02d s.") % {"m": minutes, "s": seconds}
            )
        else:
            return redirect(url_of(participant))
    context = {**_material_context(participant), "form": form}
    return render(request, "experiment/training.html", context, status=400 if form.errors else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def threats(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    participant = _participant_or_404(request, code)
    if not _at_stage(request, participant, Stage.THREATS):
        return redirect(url_of(participant))

    def new_form(data=None) -> ThreatAnswersForm:
        threats = selectors.threats_in_order(participant)
        return ThreatAnswersForm(threats, data, ask_confidence=participant.session.experiment.ask_confidence)

    form = new_form(request.POST) if request.method == "POST" else None
    if form is not None and form.is_valid():
        answers = [participation.ThreatAnswer(t.pk, pos, choice, sure) for t, pos, choice, sure in form.answers()]
        # A submit that was taken has moved the participant on (and re-read it); one that was not learns where
        # the participant is now.
        if not participation.submit_answers(participant, answers, form.cleaned_data["exposure"]):
            messages.info(request, _("Your answers were already submitted; they are kept as they were."))
            participant.refresh_from_db()
        return redirect(url_of(participant))
    context = {
        **_material_context(participant),
        "form": form,
        "shown": form or ShownThreatsForm(participant.threat_order),
        "cards": selectors.threat_titles(participant),
        "answered": form.answered() if form else 0,
        "blank_form": SimpleLazyObject(new_form),
    }
    return render(request, "experiment/threats.html", context, status=400 if form else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def usefulness(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    participant = _participant_or_404(request, code)
    if not _at_stage(request, participant, Stage.USEFULNESS):
        return redirect(url_of(participant))

    def new_form(data=None) -> UsefulnessForm:
        return UsefulnessForm(selectors.usefulness_sources(participant), data)

    form = new_form(request.POST) if request.method == "POST" else None
    if form is not None and form.is_valid():
        completion = participation.submit_usefulness(participant, form.ratings(), form.cleaned_data["comment"])
        if completion is None:
            messages.info(request, _("Your ratings were already submitted; they are kept as they were."))
            participant.refresh_from_db()
        response = redirect(url_of(participant))
        return _showing_code(response, participant) if completion else response
    context = {**_page_context(participant), "form": form, "blank_form": SimpleLazyObject(new_form)}
    return render(request, "experiment/usefulness.html", context, status=400 if form else 200)


def _questionnaire(request: HttpRequest, code: uuid.UUID, stage: Stage, placement: Placement) -> HttpResponse:
    participant = _participant_or_404(request, code)
    if not _at_stage(request, participant, stage):
        return redirect(url_of(participant))
    experiment = _experiment(participant)

    def new_form(data=None) -> QuestionnaireForm:
        return QuestionnaireForm(selectors.questionnaire_items(experiment, placement), data)

    form = new_form(request.POST) if request.method == "POST" else None
    if form is not None and form.is_valid():
        if stage == Stage.ENTRY:
            stored = participation.submit_entry(participant, form.responses())
        else:
            stored = participation.submit_exit(participant, form.responses()) is not None
        if not stored:
            messages.info(request, _("Your answers were already submitted; they are kept as they were."))
            participant.refresh_from_db()
        elif stage == Stage.EXIT:
            return _showing_code(redirect(url_of(participant)), participant)
        return redirect(url_of(participant))
    # Read only for a block the content cache does not hold yet.
    questionnaire = SimpleLazyObject(lambda: selectors.questionnaire(experiment, placement))
    context = {
        **_page_context(participant),
        "placement": placement,
        "questionnaire": questionnaire,
        "form": form,
        "blank_form": SimpleLazyObject(new_form),
    }
    return render(request, "experiment/questionnaire.html", context, status=400 if form else 200)


@never_cache
@require_http_methods(["GET", "POST"])
def entry(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    return _questionnaire(request, code, Stage.ENTRY, Placement.ENTRY)


@never_cache
@require_http_methods(["GET", "POST"])
def exit_questionnaire(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    return _questionnaire(request, code, Stage.EXIT, Placement.EXIT)


@never_cache
@require_http_methods(["GET", "POST"])
def done(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    """The thank-you page. Its completion code shows to the browser that has just finished and to whoever typed the
    participant's short code; opened from the address alone, it asks for that code first (wrong guesses limited as
    join codes are)."""
    participant = _participant_or_404(request, code)
    if participant.stage != Stage.DONE:
        return redirect(url_of(participant))
    if _shows_code(request, participant) and request.method == "POST":
        return redirect(url_of(participant))
    if _shows_code(request, participant):
        context = {
            **_page_context(participant),
            "completion_code": completion_code_for(str(participant.code)),
            "debrief_at_once": _debrief_at_once(participant),
            "experiment": _experiment(participant),
        }
        return render(request, "experiment/done.html", context)
    form = UnlockForm(participant, _posted(request))
    if form.is_valid():
        return _showing_code(redirect(url_of(participant)), participant)
    typed = form.is_bound and bool(request.POST.get("participant_code", "").strip())
    if typed and throttle.wrong_code(request, throttle.RESUME):
        return _too_many_participant_codes(request)
    context = {**_page_context(participant), "unlock_form": form}
    return render(request, "experiment/done.html", context, status=400 if form.is_bound else 200)


def _debrief_at_once(participant: Participant) -> bool:
    def read() -> bool:
        shown = Experiment.objects.filter(sessions=participant.session_id).values_list("debrief_shown", flat=True)
        return shown.get() == DebriefShown.AT_ONCE

    return kept(participant.content_key, "debrief-at-once", read)


@never_cache
@require_GET
def feedback(request: HttpRequest, code: uuid.UUID) -> HttpResponse:
    """The participant's answers beside the key, once their session's feedback is released; until then, when it
    will come. Only the participant's own session is read."""
    participant = _participant_or_404(request, code)
    if participant.stage != Stage.DONE:
        return redirect(url_of(participant))
    session = LabSession.objects.select_related("experiment").get(pk=participant.session_id)
    context = {
        **_page_context(participant),
        "session": session,
        "experiment": session.experiment,
        "min_finished": MIN_FINISHED,
    }
    if session.feedback_is_released():
        context["feedback"] = personal_feedback(participant, session)
    return render(request, "experiment/feedback.html", context)


@require_GET
def diagram_svg(request: HttpRequest, code: uuid.UUID, slug: str) -> HttpResponse:
    """A diagram of the participant's arm, as an image; diagrams of other arms are not there (404)."""
    participant = _participant_or_404(request, code)

    def read() -> str | None:
        return Diagram.objects.shown_by(participant.arm_id).filter(slug=slug).values_list("svg", flat=True).first()

    svg = kept(participant.content_key, f"svg:{participant.arm_id}:{slug}", read)
    if svg is None:
        return HttpResponse(status=404)
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    # Loaded by <img>, an SVG never runs scripts; this header also covers opening it directly in a tab.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, max-age=3600"
    return response
