"""The information sheet and its consent statements, the debrief, and the release of feedback.

Existing experiments get the example information sheet and debrief (marked as an example to replace). Existing
participants read the consent page's fixed text before sheets came from the definition and pressed its one button:
they are recorded as having agreed to that text (version "built-in") and to taking part, so open sessions keep
working. Content keys are renewed, so no consent page cached with the fixed text is shown again.
"""

import uuid

import django.db.models.deletion
from django.db import migrations, models

# experiment/definition/examples.py as it was when this migration was written, as the models store it: a migration
# keeps its own copy, so a later change to the example does not rewrite history.
SHEET = {
    "version": "example-1",
    "researchers": "Dr. A. Example (principal investigator) and B. Sample, MSc (PhD candidate).",
    "institution": "Example University, Department of Computer Science, Software Security group.",
    "contact": "Questions about the study: study-contact@example.edu. Complaints, to someone outside the "
    "research team: the ethics board's secretary, ethics-board@example.edu.",
    "ethics_approval": "Approved by the Ethics Review Board of the Faculty of Science, Example University, "
    "reference ERB-2025-0000.",
    "duration": "About 30 to 45 minutes, in one sitting. You read training material about a system, then judge "
    "whether each of a list of security threats applies to it, and rate how useful the information "
    "was. You are assigned at random to one of the study's groups; the groups see slightly "
    "different material.",
    "voluntariness": "Taking part is voluntary and has no effect on your grade. You may stop at any time by "
    "closing the page; nothing you have not submitted is kept. If you do not agree, nothing "
    "about you is kept. Once you submit, your answers cannot be linked back to you, so they "
    "cannot be withdrawn afterwards.",
    "data_use": "We do not ask for your name, student number or e-mail, and we do not store your IP address. "
    "Your answers are stored under a random participant code only, on the university's servers, and "
    "kept for ten years after publication. They are used for research; if you agree below, they may "
    "also be published as an open data set.",
    "translations": {
        "nl": {
            "researchers": "Dr. A. Example (hoofdonderzoeker) en B. Sample, MSc (promovendus).",
            "institution": "Example University, Faculteit Informatica, onderzoeksgroep Softwarebeveiliging.",
            "contact": "Vragen over het onderzoek: study-contact@example.edu. Klachten, aan "
            "iemand buiten het onderzoeksteam: de secretaris van de ethische "
            "commissie, ethics-board@example.edu.",
            "ethics_approval": "Goedgekeurd door de Ethische Toetsingscommissie van de "
            "Faculteit Bètawetenschappen, Example University, kenmerk "
            "ERB-2025-0000.",
            "duration": "Ongeveer 30 tot 45 minuten, in één keer. Je leest lesmateriaal over "
            "een systeem, beoordeelt daarna voor elke dreiging in een lijst of die "
            "op het systeem van toepassing is, en geeft aan hoe nuttig de "
            "informatie was. Je wordt willekeurig ingedeeld in een van de groepen "
            "van het onderzoek; de groepen zien iets ander materiaal.",
            "voluntariness": "Meedoen is vrijwillig en heeft geen invloed op je cijfer. Je kunt "
            "op elk moment stoppen door de pagina te sluiten; wat je niet hebt "
            "verstuurd, wordt niet bewaard. Als je niet akkoord gaat, wordt "
            "niets over jou bewaard. Na het versturen zijn je antwoorden niet "
            "meer tot jou te herleiden en kunnen ze dus niet meer worden "
            "ingetrokken.",
            "data_use": "We vragen niet naar je naam, studentnummer of e-mailadres en we slaan "
            "je IP-adres niet op. Je antwoorden worden alleen onder een "
            "willekeurige deelnemerscode opgeslagen, op de servers van de "
            "universiteit, en tien jaar na publicatie bewaard. Ze worden gebruikt "
            "voor onderzoek; als je hieronder akkoord gaat, kunnen ze ook als open "
            "dataset worden gepubliceerd.",
        },
        "zh-hans": {
            "researchers": "A. Example 博士（项目负责人）和 B. Sample 硕士（博士研究生）。",
            "institution": "Example 大学计算机科学系软件安全研究组。",
            "contact": "关于本研究的问题：study-contact@example.edu。投诉（由研究团队以外的人处理）：伦理委员会秘书，ethics-board@example.edu。",
            "ethics_approval": "已获 Example 大学理学院伦理审查委员会批准，编号 ERB-2025-0000。",
            "duration": "大约 30 到 45 "
            "分钟，一次完成。你先阅读关于一个系统的培训材料，然后判断列表中的每个安全威胁是否适用于该系统，并评价这些信息有多大用处。你会被随机分到研究的某一组；各组看到的材料略有不同。",
            "voluntariness": "参与完全自愿，不影响你的成绩。你可以随时关闭页面退出；未提交的内容不会被保存。如果你不同意，不会保存任何关于你的信息。提交后，你的回答无法再追溯到你本人，因此之后无法撤回。",
            "data_use": "我们不询问你的姓名、学号或电子邮箱，也不保存你的 IP "
            "地址。你的回答只以一个随机参与者代码保存在大学的服务器上，并在发表后保留十年。这些数据用于研究；如果你在下面同意，也可能作为开放数据集发布。",
        },
    },
}
STATEMENTS = [
    {
        "key": "read_information",
        "text": "I have read the information above and know whom to ask if I have questions.",
        "required": True,
        "translations": {
            "nl": {"text": "Ik heb de informatie hierboven gelezen en weet aan wie ik vragen kan stellen."},
            "zh-hans": {"text": "我已阅读以上信息，并知道有问题时可以向谁询问。"},
        },
    },
    {
        "key": "take_part",
        "text": "I take part voluntarily and agree that my anonymous answers are used for this research.",
        "required": True,
        "translations": {
            "nl": {
                "text": "Ik doe vrijwillig mee en ga ermee akkoord dat mijn anonieme antwoorden "
                "voor dit onderzoek worden gebruikt."
            },
            "zh-hans": {"text": "我自愿参与，并同意我的匿名回答用于本研究。"},
        },
    },
    {
        "key": "open_data",
        "text": "I agree that my anonymous answers are published as an open data set (optional).",
        "required": False,
        "translations": {
            "nl": {
                "text": "Ik ga ermee akkoord dat mijn anonieme antwoorden als open dataset worden "
                "gepubliceerd (optioneel)."
            },
            "zh-hans": {"text": "我同意将我的匿名回答作为开放数据集发布（可选）。"},
        },
    },
]
DEBRIEF_HTML = {
    "en": "<p>Thank you for taking part. This study asks whether the material people are given about a system, "
    "such as its diagrams, changes how well they judge which security threats apply to it. The groups in "
    "your lab were given different material, and the study compares how they judged the same "
    "threats.</p><p>Some threats in the list were fabricated on purpose: they sound plausible but do not "
    "apply to this system. They let the study measure how often a threat is wrongly accepted, not only "
    "how often a real one is found. We could not tell you beforehand, because knowing it would have "
    "changed how you judged.</p><p>Please do not tell students who have yet to take the lab which threats "
    "were real.</p>",
    "nl": "<p>Bedankt voor je deelname. Dit onderzoek vraagt of het materiaal dat mensen over een systeem "
    "krijgen, zoals de diagrammen ervan, verandert hoe goed ze beoordelen welke beveiligingsdreigingen "
    "erop van toepassing zijn. De groepen in jouw practicum kregen verschillend materiaal, en het "
    "onderzoek vergelijkt hoe zij dezelfde dreigingen beoordeelden.</p><p>Sommige dreigingen in de lijst "
    "waren met opzet verzonnen: ze klinken aannemelijk, maar zijn niet van toepassing op dit systeem. Zo "
    "meet het onderzoek hoe vaak een dreiging ten onrechte wordt aangenomen, niet alleen hoe vaak een "
    "echte wordt gevonden. We konden het je niet vooraf vertellen, omdat dat je oordeel zou hebben "
    "veranderd.</p><p>Vertel studenten die het practicum nog moeten doen alsjeblieft niet welke "
    "dreigingen echt waren.</p>",
    "zh-hans": "<p>感谢你的参与。本研究探讨人们获得的系统材料（例如系统的图）是否会改变他们判断哪些安全威胁适用于该系统的能力。你所在实验课的各组拿到了不同的材料，研究比较他们如何判断同样的威胁。</p><p>列表中有些威胁是有意编造的：它们听起来合理，但并不适用于这个系统。借此，研究不仅能衡量真实威胁被找出的频率，也能衡量威胁被错误接受的频率。我们无法事先告诉你，因为知道这一点会改变你的判断。</p><p>请不要告诉还没参加实验课的同学哪些威胁是真实的。</p>",
}
BUILT_IN_VERSION = "built-in"


def give_example_sheet(apps, schema_editor):
    Experiment = apps.get_model("experiment", "Experiment")
    InformationSheet = apps.get_model("experiment", "InformationSheet")
    ConsentStatement = apps.get_model("experiment", "ConsentStatement")
    Participant = apps.get_model("experiment", "Participant")
    for experiment in Experiment.objects.all():
        sheet = InformationSheet.objects.create(experiment=experiment, is_example=True, **SHEET)
        ConsentStatement.objects.bulk_create(
            ConsentStatement(sheet=sheet, position=position, **statement)
            for position, statement in enumerate(STATEMENTS, start=1)
        )
        experiment.debrief_html = DEBRIEF_HTML["en"]
        for language, html in DEBRIEF_HTML.items():
            if language != "en":
                experiment.translations.setdefault(language, {})["debrief_html"] = html
        experiment.content_key = uuid.uuid4()
        experiment.save(update_fields=["debrief_html", "translations", "content_key"])
    Participant.objects.update(sheet_version=BUILT_IN_VERSION, agreed_statements=["take_part"])


class Migration(migrations.Migration):
    dependencies = [
        ("experiment", "0014_participant_short_code_for_resuming"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="labsession",
            options={
                "permissions": [
                    ("run_session", "Can run lab sessions: open, close, join sheet, monitor, rehearse"),
                    ("delete_session_data", "Can delete all data a lab session collected"),
                    ("release_feedback", "Can release participants' feedback for a closed lab session"),
                ],
                "verbose_name": "lab session",
                "verbose_name_plural": "lab sessions",
            },
        ),
        migrations.AddField(
            model_name="experiment",
            name="debrief_html",
            field=models.TextField(
                default="",
                help_text="The study's real question, and that some threats were fabricated on purpose (HTML).",
                verbose_name="debrief",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="experiment",
            name="debrief_shown",
            field=models.CharField(
                choices=[
                    ("with_feedback", "With the feedback, once the instructor releases it"),
                    ("at_once", "On the thank-you page, at once"),
                ],
                default="with_feedback",
                max_length=20,
                verbose_name="debrief shown",
            ),
        ),
        migrations.AddField(
            model_name="labsession",
            name="feedback_released_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="When participants could first see their feedback; empty while it is not released.",
                null=True,
                verbose_name="feedback released at",
            ),
        ),
        migrations.AddField(
            model_name="participant",
            name="agreed_statements",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="The keys of the consent statements the participant agreed to.",
                verbose_name="agreed statements",
            ),
        ),
        migrations.AddField(
            model_name="participant",
            name="sheet_version",
            field=models.CharField(
                default="",
                help_text="The version of the information sheet the participant read.",
                max_length=40,
                verbose_name="sheet version",
            ),
            preserve_default=False,
        ),
        migrations.CreateModel(
            name="InformationSheet",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "translations",
                    models.JSONField(
                        blank=True,
                        default=dict,
                        help_text='Per language, the translated fields: {"nl": {"title": "..."}}.',
                    ),
                ),
                (
                    "version",
                    models.CharField(
                        help_text="Recorded with each participant's consent, e.g. 2025-09-01.",
                        max_length=40,
                        verbose_name="version",
                    ),
                ),
                (
                    "is_example",
                    models.BooleanField(
                        default=False,
                        help_text="The shipped example: replace it with your study's own.",
                        verbose_name="is example",
                    ),
                ),
                ("researchers", models.TextField(verbose_name="researchers")),
                ("institution", models.TextField(verbose_name="institution")),
                ("contact", models.TextField(verbose_name="contact")),
                (
                    "ethics_approval",
                    models.TextField(help_text="The ethics board and its reference.", verbose_name="ethics approval"),
                ),
                ("duration", models.TextField(verbose_name="duration")),
                ("voluntariness", models.TextField(verbose_name="voluntariness and withdrawal")),
                ("data_use", models.TextField(verbose_name="data use and retention")),
                (
                    "experiment",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="information_sheet",
                        to="experiment.experiment",
                        verbose_name="experiment",
                    ),
                ),
            ],
            options={
                "verbose_name": "information sheet",
                "verbose_name_plural": "information sheets",
            },
        ),
        migrations.CreateModel(
            name="ConsentStatement",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "translations",
                    models.JSONField(
                        blank=True,
                        default=dict,
                        help_text='Per language, the translated fields: {"nl": {"title": "..."}}.',
                    ),
                ),
                (
                    "key",
                    models.SlugField(
                        help_text="Recorded with each participant who agrees.", max_length=60, verbose_name="key"
                    ),
                ),
                ("position", models.PositiveSmallIntegerField(verbose_name="position")),
                ("text", models.TextField(verbose_name="text")),
                (
                    "required",
                    models.BooleanField(
                        default=True, help_text="Nobody takes part without agreeing.", verbose_name="required"
                    ),
                ),
                (
                    "sheet",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="statements",
                        to="experiment.informationsheet",
                        verbose_name="information sheet",
                    ),
                ),
            ],
            options={
                "verbose_name": "consent statement",
                "verbose_name_plural": "consent statements",
                "ordering": ["sheet", "position"],
                "constraints": [
                    models.UniqueConstraint(fields=("sheet", "key"), name="experiment_statement_unique_key")
                ],
            },
        ),
        migrations.RunPython(give_example_sheet, migrations.RunPython.noop),
    ]
