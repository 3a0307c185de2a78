from django.urls import include, path, register_converter

from experiment import views
from experiment.codes import JoinCodeConverter

register_converter(JoinCodeConverter, "join_code")

app_name = "experiment"

participant_urls = [
    path("", views.participant_home, name="participant"),
    path("entry/", views.entry, name="entry"),
    path("training/", views.training, name="training"),
    path("threats/", views.threats, name="threats"),
    path("usefulness/", views.usefulness, name="usefulness"),
    path("exit/", views.exit_questionnaire, name="exit"),
    path("done/", views.done, name="done"),
    path("feedback/", views.feedback, name="feedback"),
    path("diagrams/<slug:slug>.svg", views.diagram_svg, name="diagram"),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("join/", views.join, name="join"),
    path("join/<join_code:join_code>/", views.consent, name="consent"),
    path("join/<join_code:join_code>/returning/", views.returning, name="returning"),
    path("declined/", views.declined, name="declined"),
    path("resume/", views.resume, name="resume"),
    path("p/<uuid:code>/", include(participant_urls)),
]
