"""Each diagram declares the terms that name it, per language, so the definition validator can refuse a text that
names it to an arm that does not get it. Existing diagrams get the default terms of their kind."""

from django.db import migrations, models

# blinding.DEFAULT_TERMS as it was when this migration was written: a migration keeps its own copy, so a later
# change to the defaults does not rewrite history.
TERMS_BY_KIND = {
    "dfd": {
        "en": ["DFD", "DFDs", "data flow diagram", "data flow diagrams", "data-flow diagram", "dataflow diagram"],
        "nl": ["DFD", "DFD's", "dataflowdiagram", "gegevensstroomdiagram", "datastroomdiagram"],
        "zh-hans": ["DFD", "数据流图", "数据流程图"],
    },
    "sequence": {
        "en": ["sequence diagram", "sequence diagrams"],
        "nl": ["sequentiediagram", "sequentiediagrammen", "volgordediagram"],
        "zh-hans": ["时序图", "序列图", "顺序图"],
    },
}


def give_terms_by_kind(apps, schema_editor):
    Diagram = apps.get_model("threats", "Diagram")
    for kind, terms in TERMS_BY_KIND.items():
        Diagram.objects.filter(kind=kind).update(terms=terms)


class Migration(migrations.Migration):
    dependencies = [
        ("threats", "0003_verbose_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="diagram",
            name="terms",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text='Per language, the words that name this diagram: {"en": ["DFD", "data flow diagram"]}. A '
                "definition whose participant text names it to an arm that does not get it is refused.",
                verbose_name="terms",
            ),
        ),
        migrations.RunPython(give_terms_by_kind, migrations.RunPython.noop),
    ]
