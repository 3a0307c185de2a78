"""Each experiment declares its analysis plan: equivalence margins per outcome, the family Holm adjusts over, and
whether its sessions are strata of the stratified tests."""

from django.db import migrations, models

import experiment.models


class Migration(migrations.Migration):
    dependencies = [
        ("experiment", "0011_new_participants_per_address"),
    ]

    operations = [
        migrations.AddField(
            model_name="experiment",
            name="equivalence_margins",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text=(
                    "Outcome -> {'margin': number in the outcome's units, 'rationale': text}. An outcome without a "
                    "margin gets no equivalence test."
                ),
                verbose_name="equivalence margins",
            ),
        ),
        migrations.AddField(
            model_name="experiment",
            name="holm_family",
            field=models.JSONField(
                blank=True,
                default=experiment.models.default_holm_family,
                help_text=(
                    "The outcomes whose p values are adjusted together by Holm's method, e.g. ['tp', 'fp', "
                    "'precision']."
                ),
                verbose_name="Holm family",
            ),
        ),
        migrations.AddField(
            model_name="experiment",
            name="stratify_analysis_by_session",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "The stratified tests also take each session (a lab, a site) as a stratum, besides the "
                    "randomisation's."
                ),
                verbose_name="stratify the analysis by session",
            ),
        ),
    ]
