"""Positions in the feedback page's box plot (templates/includes/box_plot.html): a score from 0 to 1 across the
drawing's 300 units, inside a margin of 10."""

from django import template

register = template.Library()

LEFT, WIDTH = 10, 300


@register.filter
def plot_x(value) -> str:
    return f"{LEFT + WIDTH * float(value):.1f}"


@register.filter
def plot_width(upper, lower) -> str:
    return f"{WIDTH * (float(upper) - float(lower)):.1f}"


@register.simple_tag
def plot_ticks() -> list[str]:
    return ["0", "0.25", "0.5", "0.75", "1"]
