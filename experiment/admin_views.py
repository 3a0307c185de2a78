"""Admin pages beyond CRUD: the join sheet, the live monitor, rehearsals, completion codes, data deletion,
and experiment definitions as files. Each checks its own permission; staff without it get 403."""

import ipaddress
import json
from urllib.parse import urlsplit

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin import site
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from experiment import definition
from experiment.bots import BotError, ClientTransport
from experiment.codes import normalise_join_code
from experiment.models import Experiment, LabSession, SessionStatus
from experiment.monitor import snapshot
from experiment.rehearsal import simulate
from experiment.services import sessions

REHEARSAL_BOTS = 6
# A completion code without its dash (experiment/codes.py).
COMPLETION_CODE_LENGTH = 10


def _get_session_or_403(request: HttpRequest, pk: int, permission: str = "experiment.run_session") -> LabSession:
    if not request.user.has_perm(permission):
        raise PermissionDenied
    return get_object_or_404(LabSession.objects.select_related("experiment"), pk=pk)


def _change_url(session: LabSession) -> str:
    return reverse("admin:experiment_labsession_change", args=[session.pk])


def _context(request: HttpRequest, session: LabSession, title: str, **extra) -> dict:
    return {**site.each_context(request), "title": title, "session": session, "opts": LabSession._meta, **extra}


def join_url(request: HttpRequest, session: LabSession) -> str:
    return request.build_absolute_uri(reverse("experiment:consent", args=[session.join_code]))


def _only_this_computer(request: HttpRequest) -> bool:
    """True when the page was opened at a loopback address, which a student's phone cannot reach."""
    host = urlsplit(f"//{request.get_host()}").hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@require_GET
def join_sheet(request: HttpRequest, pk: int) -> HttpResponse:
    session = _get_session_or_403(request, pk)
    url = join_url(request, session)
    qr = segno.make(url, error="m")
    # No width or height, a viewBox in modules: the page's CSS sizes the code to the screen, sharp at any size.
    svg = qr.svg_inline(scale=1, border=2, omitsize=True, title=_("QR code for %(url)s") % {"url": url})
    context = {
        "session": session,
        "url": url,
        "home": request.build_absolute_uri(reverse("experiment:home")),
        "qr_svg": mark_safe(svg),  # noqa: S308 segno's own SVG
        "only_this_computer": _only_this_computer(request),
    }
    return render(request, "admin/experiment/labsession/join_sheet.html", context)


@require_GET
def monitor(request: HttpRequest, pk: int) -> HttpResponse:
    session = _get_session_or_403(request, pk)
    data_url = reverse("admin:experiment_labsession_monitor_data", args=[session.pk])
    data = snapshot(session)
    context = _context(
        request,
        session,
        _("Monitor %(code)s") % {"code": session.join_code},
        snapshot=data,
        count_rows=list(zip(data["arms"], data["counts"], data["arm_totals"], strict=True)),
        data_url=data_url,
    )
    return render(request, "admin/experiment/labsession/monitor.html", context)


@never_cache
@require_GET
def monitor_data(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(snapshot(_get_session_or_403(request, pk)))


@require_POST
def set_status(request: HttpRequest, pk: int) -> HttpResponse:
    session = _get_session_or_403(request, pk)
    status = request.POST.get("status")
    if status not in SessionStatus.values:
        messages.error(request, _("Unknown status %(status)r; choose open or closed.") % {"status": status})
    else:
        LabSession.objects.filter(pk=session.pk).update(status=status)
        messages.success(
            request,
            _("Session %(code)s is now %(status)s.")
            % {"code": session.join_code, "status": SessionStatus(status).label.lower()},
        )
    return redirect(_change_url(session))


@require_POST
def rehearse(request: HttpRequest, pk: int) -> HttpResponse:
    session = _get_session_or_403(request, pk)
    if session.status == SessionStatus.CLOSED:
        messages.error(request, _("A closed session cannot be rehearsed; open it or rehearse in a draft session."))
        return redirect(_change_url(session))
    try:
        results = simulate(
            session,
            REHEARSAL_BOTS,
            transport_factory=lambda: ClientTransport(request.get_host(), secure=request.is_secure()),
        )
    except BotError as error:
        messages.error(request, _("The rehearsal stopped: %(error)s") % {"error": error})
    else:
        messages.success(
            request,
            _("%(n)s bots took the lab. Look at the monitor, then reset the rehearsal.") % {"n": len(results)},
        )
    return redirect(_change_url(session))


@require_POST
def reset(request: HttpRequest, pk: int) -> HttpResponse:
    session = _get_session_or_403(request, pk)
    try:
        removed = sessions.reset_rehearsal(session)
    except sessions.RehearsalInUse as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Rehearsal reset: %(n)s records of bots removed.") % {"n": removed})
    return redirect(_change_url(session))


class CodesForm(forms.Form):
    codes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10, "cols": 40}),
        label=gettext_lazy("Codes"),
        help_text=gettext_lazy("One completion code per line, as students hand them in."),
    )

    def clean_codes(self) -> list[str]:
        """Each non-empty line in the thank-you page's form: 'acdef34679' and ' Acdef - 34679 ' give 'ACDEF-34679'.
        A line that cannot be a code stays as typed, in capitals, to be shown as not from this session."""
        codes = []
        for line in self.cleaned_data["codes"].splitlines():
            bare = "".join(line.split()).replace("-", "").upper()
            if len(bare) == COMPLETION_CODE_LENGTH:
                codes.append(f"{bare[:5]}-{bare[5:]}")
            elif bare:
                codes.append(line.strip().upper())
        return codes


@require_http_methods(["GET", "POST"])
def check_codes(request: HttpRequest, pk: int) -> HttpResponse:
    """Which handed-in codes belong to this session: valid, unknown, or handed in twice. No answers shown."""
    session = _get_session_or_403(request, pk)
    form = CodesForm(request.POST or None)
    issued = sessions.issued_codes(session)
    results = None
    if request.method == "POST" and form.is_valid():
        valid = set(issued)
        seen: set[str] = set()
        results = []
        for code in form.cleaned_data["codes"]:
            if code in seen:
                verdict = _("handed in twice")
            else:
                verdict = _("valid") if code in valid else _("not from this session")
            seen.add(code)
            results.append((code, verdict))
    context = _context(
        request,
        session,
        _("Completion codes of %(code)s") % {"code": session.join_code},
        form=form,
        results=results,
        issued=len(issued),
    )
    return render(request, "admin/experiment/labsession/codes.html", context)


@require_http_methods(["GET", "POST"])
def delete_data(request: HttpRequest, pk: int) -> HttpResponse:
    session = _get_session_or_403(request, pk, "experiment.delete_session_data")
    if request.method == "POST":
        if normalise_join_code(request.POST.get("confirm", "")) != session.join_code:
            messages.error(request, _("Type the session's join code to confirm; nothing was deleted."))
            return redirect(reverse("admin:experiment_labsession_delete_data", args=[session.pk]))
        gone = sessions.delete_session_data(session)
        messages.success(
            request,
            _(
                "Deleted %(participants)s participants, %(answers)s answers, %(ratings)s ratings and "
                "%(codes)s completion codes."
            )
            % {
                "participants": gone.participants,
                "answers": gone.answers,
                "ratings": gone.ratings,
                "codes": gone.completion_codes,
            },
        )
        return redirect(_change_url(session))
    title = _("Delete the data of %(code)s") % {"code": session.join_code}
    context = _context(request, session, title, data=sessions.session_data(session))
    return render(request, "admin/experiment/labsession/delete_data.html", context)


@require_GET
def download_definition(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm("threats.view_threat"):
        raise PermissionDenied
    experiment = get_object_or_404(Experiment, pk=pk)
    response = HttpResponse(
        json.dumps(definition.dump(experiment), indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    # Built by Django, so a slug loaded before slugs were checked cannot split or end the header.
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=f"{experiment.slug}.json")
    return response


class DefinitionUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"), help_text=gettext_lazy("An experiment definition (.json) with its SVGs inline.")
    )


@csrf_exempt  # Only until the size is known: CSRF's check would read the whole body first. See _upload_definition.
@require_http_methods(["GET", "POST"])
def upload_definition(request: HttpRequest) -> HttpResponse:
    if not (request.user.has_perm("experiment.add_experiment") and request.user.has_perm("threats.add_scenario")):
        raise PermissionDenied
    limit = settings.THREATLAB_DEFINITION_MAX_BYTES
    if request.method == "POST" and _content_length(request) > limit:
        problem = _("The upload is %(size)s; a definition file may be at most %(limit)s.") % {
            "size": filesizeformat(_content_length(request)),
            "limit": filesizeformat(limit),
        }
        return _upload_page(request, DefinitionUploadForm(), [problem], status=413)
    return _upload_definition(request)


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@csrf_protect
def _upload_definition(request: HttpRequest) -> HttpResponse:
    form = DefinitionUploadForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            experiment = definition.load(definition.validate(definition.parse(upload.read(), upload.name)))
        except definition.DefinitionError as error:
            problems = error.problems
        else:
            messages.success(request, _("Loaded experiment %(slug)s.") % {"slug": experiment.slug})
            for warning in definition.warnings(experiment):
                messages.warning(request, warning)
            return redirect(reverse("admin:experiment_experiment_change", args=[experiment.pk]))
    return _upload_page(request, form, problems, status=400 if problems else 200)


def _upload_page(request: HttpRequest, form: DefinitionUploadForm, problems: list[str], status: int) -> HttpResponse:
    context = {
        **site.each_context(request),
        "title": _("Upload an experiment definition"),
        "form": form,
        "problems": problems,
        "opts": Experiment._meta,
    }
    return render(request, "admin/experiment/experiment/upload.html", context, status=status)
