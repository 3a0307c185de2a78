from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from experiment.models import LabSession


@require_GET
def reference(request: HttpRequest) -> HttpResponse:
    """The yardstick: one SELECT by a unique index (the join code), a few bytes of text, no template."""
    code = request.GET.get("code", "")
    found = LabSession.objects.filter(join_code=code).values_list("pk", flat=True).first()
    return HttpResponse("found" if found else "none", content_type="text/plain")
