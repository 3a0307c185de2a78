"""Completion codes are derived from the participant's code with SECRET_KEY and checked by deriving them again, so
the table that stored them goes: its rows were written in completion order, which linked each code to its
participant. Every code already handed out stays valid, as it is derived the same way."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("experiment", "0008_diagram_arm_links"),
    ]

    operations = [
        migrations.DeleteModel(name="CompletionCode"),
    ]
