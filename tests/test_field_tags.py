"""The form tags student pages use instead of includes (experiment/templatetags/fields.py) write what Django's
own widgets and the errors template write."""

import pytest
from django import forms
from django.template.loader import render_to_string

from experiment.templatetags.fields import form_errors, hidden_input


class _Form(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput, required=False)
    count = forms.IntegerField(widget=forms.HiddenInput, required=False)
    choice = forms.ChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect)


@pytest.mark.parametrize(
    "data",
    [
        None,  # unbound: no value attribute
        {"token": "", "choice": "a"},
        {"token": "3,1,2", "count": "7", "choice": "a"},
        {"token": '"><script>alert(1)</script>', "choice": "a"},  # escaped as the widget escapes it
    ],
)
def test_a_hidden_input_is_written_as_the_widget_writes_it(data):
    form = _Form(data)
    for name in ("token", "count"):
        assert hidden_input(form[name]) == str(form[name].as_hidden())


def test_a_form_without_errors_writes_nothing():
    assert form_errors(_Form()) == ""
    assert form_errors(_Form({"choice": "a"})) == ""


def test_a_form_with_errors_writes_the_errors_template():
    form = _Form({"choice": "nonsense"})
    written = form_errors(form)
    assert written == render_to_string("includes/form_errors.html", {"form": form})
    assert 'href="#id_choice_0"' in written, "a radio group's error links to its first radio"
    assert "Select a valid choice." in written
