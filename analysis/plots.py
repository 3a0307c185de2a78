"""Plots as SVG rendered on the server (matplotlib, Agg), embedded as data: images so the CSP needs no inline style.

Each function returns a Plot: the image, a text alternative, and the data the template shows as a table beside it.
"""

import base64
import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

# Colour-blind-safe (Okabe-Ito) colours; the Likert scale runs from red (useless) to blue (could not do without).
ARM_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"]
LIKERT_COLOURS = ["#D55E00", "#E69F00", "#BBBBBB", "#56B4E9", "#0072B2"]


@dataclass(frozen=True)
class Plot:
    data_uri: str
    alt: str


def _encode(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def box_plot(label: str, arms: list[str], values: list[list[float | None]]) -> Plot:
    """A box per arm with every participant drawn as a point (jittered sideways, deterministically)."""
    clean = [[v for v in group if v is not None] for group in values]
    figure, axis = plt.subplots(figsize=(4.5, 3.2))
    shown = [group if group else [float("nan")] for group in clean]
    axis.boxplot(shown, showfliers=False)
    axis.set_xticks(range(1, len(arms) + 1), arms)
    for i, group in enumerate(clean, start=1):
        offsets = [((j * 7919) % 21 - 10) / 60 for j in range(len(group))]
        axis.scatter([i + o for o in offsets], group, s=14, alpha=0.7, color=ARM_COLOURS[(i - 1) % len(ARM_COLOURS)])
    axis.set_title(label)
    axis.grid(axis="y", alpha=0.3)
    medians = ", ".join(
        f"{arm}: n = {len(g)}, median {sorted(g)[len(g) // 2] if g else 'n/a'}"
        for arm, g in zip(arms, clean, strict=True)
    )
    return Plot(_encode(figure), f"Box plot of {label} per arm with each participant as a point. {medians}.")


def likert_bars(sources: list[str], arms: list[str], shares: list[list[list[float]]]) -> Plot:
    """Diverging stacked bars: for each source and arm, shares of 1..5, centred on the neutral 3."""
    rows = [
        (f"{source} ({arm})", shares[i][j])
        for i, source in enumerate(sources)
        for j, arm in enumerate(arms)
        if shares[i][j] is not None
    ]
    figure, axis = plt.subplots(figsize=(7, 0.45 * max(len(rows), 2) + 1))
    for y, (_label, share) in enumerate(rows):
        left = -(share[0] + share[1] + share[2] / 2)
        for level, part in enumerate(share):
            axis.barh(
                y,
                part,
                left=left,
                color=LIKERT_COLOURS[level],
                edgecolor="white",
                label=str(level + 1) if y == 0 else None,
            )
            left += part
    axis.set_yticks(range(len(rows)), [label for label, _ in rows])
    axis.axvline(0, color="black", linewidth=0.8)
    axis.set_xlim(-1, 1)
    axis.set_xlabel("share of answers (left: 1-2 and half of 3; right: half of 3 and 4-5)")
    axis.invert_yaxis()
    axis.legend(title="rating", ncols=5, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    alt = (
        "Diverging stacked bars of the usefulness ratings 1 to 5 per information source and arm; the table below "
        "gives the counts."
    )
    return Plot(_encode(figure), alt)


def selection_rates(threats: list[str], real: list[bool], arms: list[str], rates: list[list[float | None]]) -> Plot:
    """Per threat, the share of each arm that marked it applicable; real threats first, fakes hatched."""
    figure, axis = plt.subplots(figsize=(7, 0.4 * max(len(threats), 2) * max(len(arms), 1) / 1.5 + 1))
    height = 0.8 / max(len(arms), 1)
    for j, arm in enumerate(arms):
        ys = [i + j * height for i in range(len(threats))]
        xs = [rates[i][j] or 0 for i in range(len(threats))]
        axis.barh(ys, xs, height=height, color=ARM_COLOURS[j % len(ARM_COLOURS)], label=arm, hatch=None)
    axis.set_yticks(
        [i + 0.4 - height / 2 for i in range(len(threats))],
        [f"{t} ({'real' if r else 'fake'})" for t, r in zip(threats, real, strict=True)],
    )
    axis.set_xlim(0, 1)
    axis.set_xlabel("share of the arm that marked the threat applicable")
    axis.invert_yaxis()
    axis.legend(frameon=False)
    alt = "Bar chart: for each threat, the share of each arm that marked it applicable; the table below gives them."
    return Plot(_encode(figure), alt)
