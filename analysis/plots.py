"""Plots as SVG rendered on the server (matplotlib, Agg), embedded as data: images so the CSP needs no inline style.

Each function returns a Plot: the image, a text alternative, and the data the template shows as a table beside it.
"""

import base64
import io
import math
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

# Text stays text in the SVG (not outlined into paths): several times faster to write, smaller, and selectable.
matplotlib.rcParams["svg.fonttype"] = "none"
matplotlib.rcParams["font.family"] = "sans-serif"

# Colour-blind-safe (Okabe-Ito) colours; the Likert scale runs from red (useless) to blue (could not do without).
ARM_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00"]
LIKERT_COLOURS = ["#D55E00", "#E69F00", "#BBBBBB", "#56B4E9", "#0072B2"]
MAX_POINTS = 100


@dataclass(frozen=True)
class Plot:
    data_uri: str
    alt: str


def _encode(figure, tight: bool = True) -> str:
    """The figure as a data: URI. ``tight`` crops to the drawn content, at the cost of drawing it twice."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight" if tight else None, metadata={"Date": None})
    plt.close(figure)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def box_plots(labels: list[str], arms: list[str], values: list[list[list[float | None]]]) -> Plot:
    """One panel per metric: a box per arm with the participants drawn as points (jittered sideways,
    deterministically), all in one figure."""
    # One figure rather than one per metric: each costs tens of milliseconds to lay out and write.
    columns = min(3, len(labels))
    rows = math.ceil(len(labels) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False)
    sampled = False
    summaries = []
    for index, (label, groups) in enumerate(zip(labels, values, strict=True)):
        axis = axes[index // columns][index % columns]
        clean = [[v for v in group if v is not None] for group in groups]
        axis.boxplot([group if group else [float("nan")] for group in clean], showfliers=False)
        axis.set_xticks(range(1, len(arms) + 1), arms)
        for i, group in enumerate(clean, start=1):
            # The box uses every value; the points over it are every value up to MAX_POINTS per arm, past that an
            # evenly spaced sample (thousands of markers would cost seconds to draw and megabytes of page).
            step = math.ceil(len(group) / MAX_POINTS) if len(group) > MAX_POINTS else 1
            points = sorted(group)[::step]
            sampled = sampled or step > 1
            offsets = [((j * 7919) % 21 - 10) / 60 for j in range(len(points))]
            colour = ARM_COLOURS[(i - 1) % len(ARM_COLOURS)]
            axis.scatter([i + o for o in offsets], points, s=14, alpha=0.7, color=colour)
        axis.set_title(label)
        axis.grid(axis="y", alpha=0.3)
        medians = ", ".join(
            f"{arm} n = {len(g)}, median {sorted(g)[len(g) // 2] if g else 'n/a'}"
            for arm, g in zip(arms, clean, strict=True)
        )
        summaries.append(f"{label}: {medians}")
    for index in range(len(labels), rows * columns):
        axes[index // columns][index % columns].set_visible(False)
    # Fixed spacing: tight_layout measured every label again and cost a third of the figure.
    figure.subplots_adjust(left=0.06, right=0.98, top=0.93, bottom=0.08, hspace=0.45, wspace=0.3)
    points = f"an evenly spaced sample of at most {MAX_POINTS} participants per arm" if sampled else "each participant"
    alt = f"Box plots per arm with {points} as a point. " + "; ".join(summaries) + "."
    return Plot(_encode(figure, tight=False), alt)


def likert_bars(sources: list[str], arms: list[str], shares: list[list[list[float]]]) -> Plot:
    """Diverging stacked bars: for each source and arm, shares of 1..5, centred on the neutral 3."""
    rows = [
        (f"{source} ({arm})", shares[i][j])
        for i, source in enumerate(sources)
        for j, arm in enumerate(arms)
        if shares[i][j] is not None
    ]
    figure, axis = plt.subplots(figsize=(7, 0.45 * max(len(rows), 2) + 1))
    # One barh call per level over all rows (not one per bar): each call builds a container, and that dominated.
    lefts = [-(share[0] + share[1] + share[2] / 2) for _label, share in rows]
    for level in range(5):
        widths = [share[level] for _label, share in rows]
        axis.barh(
            range(len(rows)), widths, left=lefts, color=LIKERT_COLOURS[level], edgecolor="white", label=str(level + 1)
        )
        lefts = [left + width for left, width in zip(lefts, widths, strict=True)]
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
