"""Template helpers for the command centre: the hourly chart, drawn as SVG on the
server (no chart library, nothing to load on a slow link)."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from doorstep.command.dashboard import Chart

register = template.Library()

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 720, 220, 52, 28, 12
# Colour-blind-safe palette (Okabe-Ito) for the community lines.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


@register.simple_tag
def hour_chart(chart: Chart) -> SafeString:
    """Bars for everyone per hour, a line per community, hour labels in local time, and the
    same figures as a table for screen readers and printing."""
    n = len(chart.hours)
    if not n:
        return format_html("<p class='muted'>{}</p>", _("Nothing sampled yet."))
    peak = chart.peak
    inner_w, inner_h = WIDTH - LEFT - 4, HEIGHT - BOTTOM - TOP
    step = inner_w / n

    def y(v: int) -> float:
        return TOP + inner_h - inner_h * v / peak

    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" class="bar-total"><title>{}: {}</title></rect>',
        (
            (
                f"{LEFT + i * step + 1:.1f}",
                f"{y(v):.1f}",
                f"{max(step - 2, 1):.1f}",
                f"{TOP + inner_h - y(v):.1f}",
                timezone.localtime(h).strftime("%H:00"),
                v,
            )
            for i, (h, v) in enumerate(zip(chart.hours, chart.total.points, strict=True))
        ),
    )
    lines = format_html_join(
        "",
        '<polyline fill="none" stroke="{}" stroke-width="2" points="{}"><title>{}</title></polyline>',
        (
            (
                PALETTE[k % len(PALETTE)],
                " ".join(
                    f"{LEFT + (i + 0.5) * step:.1f},{y(v):.1f}" for i, v in enumerate(series.points)
                ),
                series.name,
            )
            for k, series in enumerate(chart.communities)
        ),
    )
    every = max(1, n // 8)
    labels = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="middle" class="axis">{}</text>',
        (
            (f"{LEFT + (i + 0.5) * step:.1f}", HEIGHT - 6, timezone.localtime(h).strftime("%H"))
            for i, h in enumerate(chart.hours)
            if i % every == 0
        ),
    )
    scale = format_html(
        '<text x="{}" y="{}" text-anchor="end" class="axis">{}</text>'
        '<text x="{}" y="{}" text-anchor="end" class="axis">0</text>',
        LEFT - 4,
        TOP + 10,
        peak,
        LEFT - 4,
        TOP + inner_h,
    )
    legend = format_html_join(
        "",
        '<li><span class="swatch" style="background:{}"></span>{} ({})</li>',
        ((PALETTE[k % len(PALETTE)], s.name, s.total) for k, s in enumerate(chart.communities)),
    )
    head = format_html_join(
        "", "<th>{}</th>", ((timezone.localtime(h).strftime("%H"),) for h in chart.hours)
    )
    body = format_html_join(
        "",
        "<tr><th>{}</th>{}</tr>",
        (
            (s.name, format_html_join("", "<td>{}</td>", ((v,) for v in s.points)))
            for s in [chart.total, *chart.communities]
        ),
    )
    svg = format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}">{}{}{}{}</svg>',
        WIDTH,
        HEIGHT,
        _("People sampled per hour: %(total)d in the last %(hours)d hours")
        % {"total": chart.total.total, "hours": n},
        scale,
        bars,
        lines,
        labels,
    )
    table = format_html(
        '<details class="small"><summary>{}</summary><div class="table-wrap"><table>'
        "<thead><tr><th></th>{}</tr></thead><tbody>{}</tbody></table></div></details>",
        _("The figures"),
        head,
        body,
    )
    return mark_safe(svg + format_html('<ul class="legend small">{}</ul>', legend) + table)
