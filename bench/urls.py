from django.urls import include, path

from bench.views import participant_layout, participant_lookup, reference

urlpatterns = [
    path("bench/ref/", reference, name="bench-reference"),
    path("bench/lookup/<uuid:code>/", participant_lookup, name="bench-lookup"),
    path("bench/layout/<uuid:code>/", participant_layout, name="bench-layout"),
    path("", include("config.urls")),
]
