from django.urls import include, path

from bench.views import reference

urlpatterns = [
    path("bench/ref/", reference, name="bench-reference"),
    path("", include("config.urls")),
]
