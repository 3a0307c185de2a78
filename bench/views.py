from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template import engines
from django.views.decorators.http import require_GET

from experiment.models import LabSession
from experiment.selectors import participants_for_pages


@require_GET
def reference(request: HttpRequest) -> HttpResponse:
    """The yardstick: one SELECT by a unique index (the join code), a few bytes of text, no template."""
    code = request.GET.get("code", "")
    found = LabSession.objects.filter(join_code=code).values_list("pk", flat=True).first()
    return HttpResponse("found" if found else "none", content_type="text/plain")


# The floor of a student page in standard Django, below which no page of the flow can go: the participant looked
# up as every student page looks it up, then (layout) the site's base.html around an empty page. bench/pages.py
# prints them next to the pages, so what the layout costs is told apart from what each page adds.
_EMPTY_PAGE = engines["django"].from_string('{% extends "base.html" %}{% block content %}{% endblock %}')


@require_GET
def participant_lookup(request: HttpRequest, code) -> HttpResponse:
    participant = get_object_or_404(participants_for_pages(), code=code)
    return HttpResponse(participant.stage, content_type="text/plain")


@require_GET
def participant_layout(request: HttpRequest, code) -> HttpResponse:
    participant = get_object_or_404(participants_for_pages(), code=code)
    context = {"participant": participant, "content_key": participant.content_key}
    return HttpResponse(_EMPTY_PAGE.render(context, request))
