"""A session's own limit on new participants per client address. Existing sessions get none (null), which means
the site's default (NEW_PARTICIPANTS_PER_ADDRESS), so they admit students as they would by default."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("experiment", "0010_participant_title_from_scenario_title"),
    ]

    operations = [
        migrations.AddField(
            model_name="labsession",
            name="new_participants_per_address",
            field=models.PositiveIntegerField(
                blank=True,
                help_text=(
                    "Optional: most students who may join from one network address in 10 minutes; empty for the "
                    "default (200). A class behind one NAT shares an address: raise it for a bigger class."
                ),
                null=True,
                validators=[django.core.validators.MinValueValidator(1)],
                verbose_name="new participants per address",
            ),
        ),
        migrations.AddConstraint(
            model_name="labsession",
            constraint=models.CheckConstraint(
                condition=models.Q(("new_participants_per_address__isnull", True), ("new_participants_per_address__gte", 1), _connector="OR"),
                name="experiment_labsession_new_participants_at_least_1",
            ),
        ),
    ]
