"""The analysis as plain text (``manage.py analyze --format text``): every number the page shows, in its order."""


def _mean_sd(d: dict) -> str:
    if d["mean"] is None:
        return "n/a"
    sd = "n/a" if d["sd"] is None else f"{d['sd']:.2f}"
    return f"{d['mean']:.2f} ({sd})"


def render(title: str, results: dict) -> str:
    arms = ", ".join(f"{a['name']} n = {a['n']}" for a in results["arms"])
    lines = [
        f"{title}: {results['n']} participants ({arms}); hypothesis {results['hypothesis']}",
        f"Left out: {results['excluded']['simulated']} simulated, {results['excluded']['incomplete']} incomplete, "
        f"{results['excluded']['implausibly_fast']} implausibly fast.",
        "",
        "Summary",
    ]
    for metric in results["metrics"]:
        means = "; ".join(f"{d['arm']} M (SD) = {_mean_sd(d)}" for d in metric["per_arm"])
        if "test" in metric:
            test = metric["test"]
            holm = f", Holm-adjusted p {test['p_holm_text']}" if test.get("p_holm_text") else ""
            same = " (TP's test)" if test.get("same_test_as") else ""
            lines.append(
                f"{metric['label']}: {means}; U = {test['u_text']}, p {_op(test['p_text'])}{holm}{same}; "
                f"{metric['direction']}; r_rb = {_num(test['rank_biserial'])}, HL shift = {_num(test['hl_shift'])}, "
                f"{test['ci']}; smaller U (slides) = {metric['slides']['u_text']}, direction-free p (the smaller "
                f"tail) without / with continuity correction {metric['slides_uncorrected']['p_text']} / "
                f"{metric['slides']['p_text']}; within strata: van Elteren p {_op(metric['van_elteren']['p_text'])}, "
                f"{metric['adjusted']['apa']}"
            )
        elif "kruskal" in metric:
            kruskal = metric["kruskal"]
            holm = f", Holm-adjusted p {kruskal['p_holm_text']}" if kruskal.get("p_holm_text") else ""
            lines.append(f"{metric['label']}: {means}; {kruskal['apa']}{holm}")
        else:
            lines.append(f"{metric['label']}: {means}")
    lines.append(f"Holm family: {', '.join(results['holm_family_labels']) or 'none'}.")
    lines += ["", "Details"]
    for metric in results["metrics"]:
        for key, label in (
            ("test", metric.get("direction", "")),
            ("slides_uncorrected", "Direction-free (the smaller tail), without continuity correction"),
            ("slides", "Direction-free (the smaller tail), with continuity correction"),
            ("tost", "Equivalence"),
            ("van_elteren", "Within strata"),
            ("adjusted", "Adjusted for strata"),
            ("kruskal", ""),
            ("dunn", ""),
        ):
            if key in metric:
                result = metric[key]
                lines.append(
                    f"{metric['label']}: {label + ': ' if label else ''}{result['apa']} [{result['method_number']}]"
                )
        if metric["key"] in results["margins"]:
            margin = results["margins"][metric["key"]]
            lines.append(f"{metric['label']}: equivalence margin {margin['margin']:g} ({margin['rationale']})")
    for rating in results["ratings"]:
        for d in rating["per_arm"]:
            lines.append(f"Usefulness of {rating['label']}, {d['arm']}: {d['apa']}; {d['distribution']['apa']}")
        if "test" in rating:
            test = rating["test"]
            lines.append(f"Usefulness of {rating['label']}, between arms: {test['apa']} [{test['method_number']}]")
    for within in results["within_arm"]:
        wilcoxon, paired_t = within["wilcoxon"], within["paired_t"]
        lines.append(
            f"Within {within['arm']}, {within['a_label']} against {within['b_label']}: {wilcoxon['apa']} "
            f"[{wilcoxon['method_number']}]; {paired_t['apa']} [{paired_t['method_number']}]"
        )
    for threat in results["threats"]:
        shares = "; ".join(f"{a['arm']} {a['marked']}/{a['n']}" for a in threat["per_arm"])
        fisher = f"; {threat['fisher']['apa']} [{threat['fisher']['method_number']}]" if "fisher" in threat else ""
        lines.append(f"Threat {threat['ref']} ({'real' if threat['is_real'] else 'fake'}): {shares}{fisher}")
    lines += ["", "Methods"]
    lines += [f"[{number}] {method}" for number, method in enumerate(results["methods"], start=1)]
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _op(p_text: str) -> str:
    return p_text if p_text[:1] in "<>" or p_text == "n/a" else f"= {p_text}"
