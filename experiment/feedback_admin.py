"""Admin pages of the feedback: releasing it for a session or for all of an experiment's closed sessions, undoing a
release, and the class view for discussion. Releasing needs ``experiment.release_feedback``; the class view needs
``experiment.view_analysis`` (researchers, at any time) or the release permission once the session is released
(instructors: release is when the key becomes that class's to know)."""

from django import forms
from django.contrib import messages
from django.contrib.admin import site
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from experiment.feedback import MIN_FINISHED, class_shares
from experiment.models import Experiment, LabSession
from experiment.services import feedback

RELEASE = "experiment.release_feedback"


class ReleaseForm(forms.Form):
    """Which closed sessions to release, and, when students in them are still at work, the confirmation."""

    sessions = forms.ModelMultipleChoiceField(
        queryset=LabSession.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Closed sessions whose feedback is not released"),
        error_messages={"required": gettext_lazy("Choose at least one closed session.")},
    )
    release_anyway = forms.BooleanField(
        required=False, label=gettext_lazy("Release even though some students have not finished")
    )

    def __init__(self, releasable, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sessions"].queryset = releasable
        self.fields["sessions"].initial = list(releasable)

    def clean(self) -> dict:
        cleaned = super().clean()
        working = feedback.still_working(cleaned.get("sessions") or [])
        if working and not cleaned.get("release_anyway"):
            self.add_error(
                "release_anyway",
                _(
                    "Students who have not finished: %(n)d. Once released, a classmate could show them the key. "
                    "Tick the box to release anyway."
                )
                % {"n": working},
            )
        return cleaned


def _session_or_403(request: HttpRequest, pk: int) -> LabSession:
    if not request.user.has_perm(RELEASE):
        raise PermissionDenied
    return get_object_or_404(LabSession.objects.select_related("experiment"), pk=pk)


def _released(request: HttpRequest, released: list[LabSession]) -> None:
    if released:
        codes = ", ".join(session.join_code for session in released)
        messages.success(request, _("Feedback released for %(codes)s.") % {"codes": codes})
    else:
        messages.warning(request, _("Nothing was released: the sessions were reopened or already released."))


@require_http_methods(["GET", "POST"])
def release_session(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session_or_403(request, pk)
    releasable = feedback.releasable(session.experiment).filter(pk=session.pk)
    form = ReleaseForm(releasable, request.POST or None)
    if request.method == "POST" and form.is_valid():
        _released(request, feedback.release(form.cleaned_data["sessions"], request.user))
        return redirect(reverse("admin:experiment_labsession_feedback", args=[session.pk]))
    context = {
        **site.each_context(request),
        "title": _("Feedback of %(code)s") % {"code": session.join_code},
        "session": session,
        "opts": LabSession._meta,
        "form": form,
        "closed": session.is_closed(),
        "working": feedback.still_working([session]),
        "history": feedback.history(session),
    }
    return render(request, "admin/experiment/labsession/feedback.html", context, status=400 if form.errors else 200)


@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session_or_403(request, pk)
    if feedback.withdraw(session, request.user):
        messages.success(request, _("Feedback of %(code)s is hidden again.") % {"code": session.join_code})
    else:
        messages.warning(request, _("The feedback of %(code)s was not released.") % {"code": session.join_code})
    return redirect(reverse("admin:experiment_labsession_feedback", args=[session.pk]))


@require_http_methods(["GET", "POST"])
def release_experiment(request: HttpRequest, pk: int) -> HttpResponse:
    """Release every session of the experiment that is closed now; sessions created later are not covered."""
    if not request.user.has_perm(RELEASE):
        raise PermissionDenied
    experiment = get_object_or_404(Experiment, pk=pk)
    form = ReleaseForm(feedback.releasable(experiment), request.POST or None)
    if request.method == "POST" and form.is_valid():
        _released(request, feedback.release(form.cleaned_data["sessions"], request.user))
        return redirect(reverse("admin:experiment_experiment_feedback", args=[experiment.pk]))
    context = {
        **site.each_context(request),
        "title": _("Release feedback: %(title)s") % {"title": experiment.title},
        "experiment": experiment,
        "opts": Experiment._meta,
        "form": form,
    }
    return render(request, "admin/experiment/experiment/feedback.html", context, status=400 if form.errors else 200)


@never_cache
@require_GET
def class_results(request: HttpRequest, pk: int) -> HttpResponse:
    """Per threat, the share of the session's finished participants who marked it applicable, real and fabricated:
    for the projector, with no individual data."""
    session = get_object_or_404(LabSession.objects.select_related("experiment"), pk=pk)
    researcher = request.user.has_perm("experiment.view_analysis")
    if not (researcher or (request.user.has_perm(RELEASE) and session.feedback_is_released())):
        raise PermissionDenied
    finished, shares = class_shares(session)
    context = {"session": session, "finished": finished, "shares": shares, "min_finished": MIN_FINISHED}
    return render(request, "admin/experiment/labsession/class_results.html", context)
