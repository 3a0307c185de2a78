"""The example information sheet and debrief, in the definition's format: what a definition of an older schema
version gets (versions.py), marked as an example to replace. Plausible, so a demo reads like a study; generic, so
they name no diagram an arm may lack and not the hypothesis."""

EXAMPLE_SHEET_VERSION = "example-1"

EXAMPLE_SHEET = {
    "version": EXAMPLE_SHEET_VERSION,
    "example": True,
    "researchers": {
        "en": "Dr. A. Example (principal investigator) and B. Sample, MSc (PhD candidate).",
        "nl": "Dr. A. Example (hoofdonderzoeker) en B. Sample, MSc (promovendus).",
        "zh-hans": "A. Example 博士（项目负责人）和 B. Sample 硕士（博士研究生）。",
    },
    "institution": {
        "en": "Example University, Department of Computer Science, Software Security group.",
        "nl": "Example University, Faculteit Informatica, onderzoeksgroep Softwarebeveiliging.",
        "zh-hans": "Example 大学计算机科学系软件安全研究组。",
    },
    "contact": {
        "en": "Questions about the study: study-contact@example.edu. Complaints, to someone outside the research "
        "team: the ethics board's secretary, ethics-board@example.edu.",
        "nl": "Vragen over het onderzoek: study-contact@example.edu. Klachten, aan iemand buiten het "
        "onderzoeksteam: de secretaris van de ethische commissie, ethics-board@example.edu.",
        "zh-hans": "关于本研究的问题：study-contact@example.edu。投诉（由研究团队以外的人处理）：伦理委员会秘书，"
        "ethics-board@example.edu。",
    },
    "ethics_approval": {
        "en": "Approved by the Ethics Review Board of the Faculty of Science, Example University, reference "
        "ERB-2025-0000.",
        "nl": "Goedgekeurd door de Ethische Toetsingscommissie van de Faculteit Bètawetenschappen, Example "
        "University, kenmerk ERB-2025-0000.",
        "zh-hans": "已获 Example 大学理学院伦理审查委员会批准，编号 ERB-2025-0000。",
    },
    "duration": {
        "en": "About 30 to 45 minutes, in one sitting. You read training material about a system, then judge "
        "whether each of a list of security threats applies to it, and rate how useful the information was. You "
        "are assigned at random to one of the study's groups; the groups see slightly different material.",
        "nl": "Ongeveer 30 tot 45 minuten, in één keer. Je leest lesmateriaal over een systeem, beoordeelt daarna "
        "voor elke dreiging in een lijst of die op het systeem van toepassing is, en geeft aan hoe nuttig de "
        "informatie was. Je wordt willekeurig ingedeeld in een van de groepen van het onderzoek; de groepen zien "
        "iets ander materiaal.",
        "zh-hans": "大约 30 到 45 分钟，一次完成。你先阅读关于一个系统的培训材料，然后判断列表中的每个安全威胁是否"
        "适用于该系统，并评价这些信息有多大用处。你会被随机分到研究的某一组；各组看到的材料略有不同。",
    },
    "voluntariness": {
        "en": "Taking part is voluntary and has no effect on your grade. You may stop at any time by closing the "
        "page; nothing you have not submitted is kept. If you do not agree, nothing about you is kept. Once you "
        "submit, your answers cannot be linked back to you, so they cannot be withdrawn afterwards.",
        "nl": "Meedoen is vrijwillig en heeft geen invloed op je cijfer. Je kunt op elk moment stoppen door de "
        "pagina te sluiten; wat je niet hebt verstuurd, wordt niet bewaard. Als je niet akkoord gaat, wordt niets "
        "over jou bewaard. Na het versturen zijn je antwoorden niet meer tot jou te herleiden en kunnen ze dus "
        "niet meer worden ingetrokken.",
        "zh-hans": "参与完全自愿，不影响你的成绩。你可以随时关闭页面退出；未提交的内容不会被保存。如果你不同意，"
        "不会保存任何关于你的信息。提交后，你的回答无法再追溯到你本人，因此之后无法撤回。",
    },
    "data_use": {
        "en": "We do not ask for your name, student number or e-mail, and we do not store your IP address. Your "
        "answers are stored under a random participant code only, on the university's servers, and kept for ten "
        "years after publication. They are used for research; if you agree below, they may also be published as "
        "an open data set.",
        "nl": "We vragen niet naar je naam, studentnummer of e-mailadres en we slaan je IP-adres niet op. Je "
        "antwoorden worden alleen onder een willekeurige deelnemerscode opgeslagen, op de servers van de "
        "universiteit, en tien jaar na publicatie bewaard. Ze worden gebruikt voor onderzoek; als je hieronder "
        "akkoord gaat, kunnen ze ook als open dataset worden gepubliceerd.",
        "zh-hans": "我们不询问你的姓名、学号或电子邮箱，也不保存你的 IP 地址。你的回答只以一个随机参与者代码保存在"
        "大学的服务器上，并在发表后保留十年。这些数据用于研究；如果你在下面同意，也可能作为开放数据集发布。",
    },
    "statements": [
        {
            "key": "read_information",
            "text": {
                "en": "I have read the information above and know whom to ask if I have questions.",
                "nl": "Ik heb de informatie hierboven gelezen en weet aan wie ik vragen kan stellen.",
                "zh-hans": "我已阅读以上信息，并知道有问题时可以向谁询问。",
            },
            "required": True,
        },
        {
            "key": "take_part",
            "text": {
                "en": "I take part voluntarily and agree that my anonymous answers are used for this research.",
                "nl": "Ik doe vrijwillig mee en ga ermee akkoord dat mijn anonieme antwoorden voor dit onderzoek "
                "worden gebruikt.",
                "zh-hans": "我自愿参与，并同意我的匿名回答用于本研究。",
            },
            "required": True,
        },
        {
            "key": "open_data",
            "text": {
                "en": "I agree that my anonymous answers are published as an open data set (optional).",
                "nl": "Ik ga ermee akkoord dat mijn anonieme antwoorden als open dataset worden gepubliceerd "
                "(optioneel).",
                "zh-hans": "我同意将我的匿名回答作为开放数据集发布（可选）。",
            },
            "required": False,
        },
    ],
}

EXAMPLE_DEBRIEF_HTML = {
    "en": "<p>Thank you for taking part. This study asks whether the material people are given about a system, "
    "such as its diagrams, changes how well they judge which security threats apply to it. The groups in your lab "
    "were given different material, and the study compares how they judged the same threats.</p>"
    "<p>Some threats in the list were fabricated on purpose: they sound plausible but do not apply to this "
    "system. They let the study measure how often a threat is wrongly accepted, not only how often a real one is "
    "found. We could not tell you beforehand, because knowing it would have changed how you judged.</p>"
    "<p>Please do not tell students who have yet to take the lab which threats were real.</p>",
    "nl": "<p>Bedankt voor je deelname. Dit onderzoek vraagt of het materiaal dat mensen over een systeem "
    "krijgen, zoals de diagrammen ervan, verandert hoe goed ze beoordelen welke beveiligingsdreigingen erop van "
    "toepassing zijn. De groepen in jouw practicum kregen verschillend materiaal, en het onderzoek vergelijkt hoe "
    "zij dezelfde dreigingen beoordeelden.</p>"
    "<p>Sommige dreigingen in de lijst waren met opzet verzonnen: ze klinken aannemelijk, maar zijn niet van "
    "toepassing op dit systeem. Zo meet het onderzoek hoe vaak een dreiging ten onrechte wordt aangenomen, niet "
    "alleen hoe vaak een echte wordt gevonden. We konden het je niet vooraf vertellen, omdat dat je oordeel zou "
    "hebben veranderd.</p>"
    "<p>Vertel studenten die het practicum nog moeten doen alsjeblieft niet welke dreigingen echt waren.</p>",
    "zh-hans": "<p>感谢你的参与。本研究探讨人们获得的系统材料（例如系统的图）是否会改变他们判断哪些安全威胁适用"
    "于该系统的能力。你所在实验课的各组拿到了不同的材料，研究比较他们如何判断同样的威胁。</p>"
    "<p>列表中有些威胁是有意编造的：它们听起来合理，但并不适用于这个系统。借此，研究不仅能衡量真实威胁被找出"
    "的频率，也能衡量威胁被错误接受的频率。我们无法事先告诉你，因为知道这一点会改变你的判断。</p>"
    "<p>请不要告诉还没参加实验课的同学哪些威胁是真实的。</p>",
}
