"""A few plotting primitives that write SVG directly (matplotlib is not a dependency of the project): panels
with linear or log axes, polylines, markers, vertical rules, text and a legend."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape


def _fmt(x: float) -> str:
    return f"{x:.1f}"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10 * mag)
    start = math.ceil(lo / step) * step
    ticks = []
    t = start
    while t <= hi + 1e-9 * step:
        ticks.append(round(t, 12))
        t += step
    return ticks


def tick_label(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1e4 or abs(v) < 1e-3:
        return f"{v:.0e}"
    return f"{v:g}"


@dataclass
class Panel:
    x: float
    y: float
    w: float
    h: float
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    logy: bool = False
    title: str = ""
    xlabel: str = ""
    ylabel: str = ""
    parts: list[str] = field(default_factory=list)

    def px(self, v: float) -> float:
        a, b = self.xlim
        return self.x + (v - a) / (b - a) * self.w if b > a else self.x

    def py(self, v: float) -> float:
        a, b = self.ylim
        if self.logy:
            v, a, b = (math.log10(max(t, 1e-300)) for t in (v, a, b))
        frac = (v - a) / (b - a) if b > a else 0.5
        return self.y + self.h - min(max(frac, -0.02), 1.02) * self.h

    def line(self, xs: list[float], ys: list[float], color: str, width: float = 1.5, dash: str = "",
             opacity: float = 1.0) -> None:
        pts = " ".join(f"{_fmt(self.px(a))},{_fmt(self.py(b))}" for a, b in zip(xs, ys) if b == b)
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="{width}" '
                          f'stroke-opacity="{opacity}"{extra} points="{pts}"/>')

    def vline(self, v: float, color: str, label: str = "", dash: str = "", width: float = 1.5, row: int = 0) -> None:
        x = _fmt(self.px(v))
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(f'<line x1="{x}" x2="{x}" y1="{_fmt(self.y)}" y2="{_fmt(self.y + self.h)}" '
                          f'stroke="{color}" stroke-width="{width}"{extra}/>')
        if label:
            self.parts.append(f'<text x="{x}" y="{_fmt(self.y + 9 + 9 * row)}" font-size="8" fill="{color}" '
                              f'text-anchor="middle">{escape(label)}</text>')

    def hline(self, v: float, color: str, dash: str = "4 3") -> None:
        y = _fmt(self.py(v))
        self.parts.append(f'<line x1="{_fmt(self.x)}" x2="{_fmt(self.x + self.w)}" y1="{y}" y2="{y}" stroke="{color}" '
                          f'stroke-dasharray="{dash}"/>')

    def marker(self, xv: float, yv: float, color: str, shape: str = "circle", size: float = 3.5,
               title: str = "") -> None:
        x, y = self.px(xv), self.py(yv)
        tip = f"<title>{escape(title)}</title>" if title else ""
        if shape == "square":
            self.parts.append(f'<rect x="{_fmt(x - size)}" y="{_fmt(y - size)}" width="{_fmt(2 * size)}" '
                              f'height="{_fmt(2 * size)}" fill="{color}" fill-opacity="0.8">{tip}</rect>')
        elif shape == "triangle":
            pts = f"{_fmt(x)},{_fmt(y - size)} {_fmt(x - size)},{_fmt(y + size)} {_fmt(x + size)},{_fmt(y + size)}"
            self.parts.append(f'<polygon points="{pts}" fill="{color}" fill-opacity="0.8">{tip}</polygon>')
        elif shape == "diamond":
            pts = (f"{_fmt(x)},{_fmt(y - size)} {_fmt(x - size)},{_fmt(y)} {_fmt(x)},{_fmt(y + size)} "
                   f"{_fmt(x + size)},{_fmt(y)}")
            self.parts.append(f'<polygon points="{pts}" fill="{color}" fill-opacity="0.8">{tip}</polygon>')
        else:
            self.parts.append(f'<circle cx="{_fmt(x)}" cy="{_fmt(y)}" r="{_fmt(size)}" fill="{color}" '
                              f'fill-opacity="0.8">{tip}</circle>')

    def render(self) -> str:
        out = [f'<rect x="{_fmt(self.x)}" y="{_fmt(self.y)}" width="{_fmt(self.w)}" height="{_fmt(self.h)}" '
               f'fill="white" stroke="#888"/>']
        for t in nice_ticks(*self.xlim, count=4):
            x = _fmt(self.px(t))
            out.append(f'<text x="{x}" y="{_fmt(self.y + self.h + 10)}" font-size="8" text-anchor="middle">'
                       f'{tick_label(t)}</text>')
        if self.logy:
            lo, hi = (math.log10(v) for v in self.ylim)
            mults = (1,) if hi - lo > 2.5 else (1, 2, 5) if hi - lo > 0.8 else (1, 1.5, 2, 3, 5, 7)
            ticks = [m * 10 ** e for e in range(math.floor(lo), math.ceil(hi) + 1) for m in mults
                     if lo - 1e-9 <= math.log10(m * 10 ** e) <= hi + 1e-9]
        else:
            ticks = nice_ticks(*self.ylim, count=4)
        for t in ticks:
            y = _fmt(self.py(t))
            out.append(f'<line x1="{_fmt(self.x)}" x2="{_fmt(self.x + self.w)}" y1="{y}" y2="{y}" stroke="#eee"/>')
            out.append(f'<text x="{_fmt(self.x - 3)}" y="{y}" font-size="8" text-anchor="end" '
                       f'dominant-baseline="middle">{tick_label(float(f"{t:.3g}"))}</text>')
        out.extend(self.parts)
        if self.title:
            out.append(f'<text x="{_fmt(self.x + self.w / 2)}" y="{_fmt(self.y - 5)}" font-size="10" '
                       f'text-anchor="middle" font-weight="bold">{escape(self.title)}</text>')
        if self.xlabel:
            out.append(f'<text x="{_fmt(self.x + self.w / 2)}" y="{_fmt(self.y + self.h + 22)}" font-size="9" '
                       f'text-anchor="middle">{escape(self.xlabel)}</text>')
        if self.ylabel:
            cx, cy = self.x - 30, self.y + self.h / 2
            out.append(f'<text x="{_fmt(cx)}" y="{_fmt(cy)}" font-size="9" text-anchor="middle" '
                       f'transform="rotate(-90 {_fmt(cx)} {_fmt(cy)})">{escape(self.ylabel)}</text>')
        return "\n".join(out)


def document(width: float, height: float, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_fmt(width)}" height="{_fmt(height)}" '
            f'viewBox="0 0 {_fmt(width)} {_fmt(height)}" font-family="sans-serif">\n'
            f'<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(body) + "\n</svg>\n")


def legend(x: float, y: float, items: list[tuple[str, str, str]], columns: int = 4, col_w: float = 150) -> str:
    """items: (label, color, shape) with shape "line", "dash" or a marker shape."""
    out = []
    for i, (label, color, shape) in enumerate(items):
        cx = x + (i % columns) * col_w
        cy = y + (i // columns) * 13
        if shape in ("line", "dash"):
            dash = ' stroke-dasharray="4 3"' if shape == "dash" else ""
            out.append(f'<line x1="{_fmt(cx)}" x2="{_fmt(cx + 14)}" y1="{_fmt(cy)}" y2="{_fmt(cy)}" stroke="{color}" '
                       f'stroke-width="2"{dash}/>')
        else:
            p = Panel(0, 0, 1, 1, (0, 1), (0, 1))
            p.marker(0, 0, color, shape)
            out.append(f'<g transform="translate({_fmt(cx + 7)},{_fmt(cy - 1)})">{p.parts[0]}</g>')
        out.append(f'<text x="{_fmt(cx + 18)}" y="{_fmt(cy + 3)}" font-size="9">{escape(label)}</text>')
    return "\n".join(out)
