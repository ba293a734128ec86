"""Draws rows/s per method against table size from the "distinct_scoring" records of
results/sql_bench.json (bench/distinct_scoring.sh): gnsm's default ("auto"), fast and exact
scorers, the plain-SQL IndepNLL query and count(*), on the generated tables of distinct rows.
Log-log axes; a plain SVG so that no plotting package is needed.

usage: python3 bench/python/plot_distinct.py results/sql_bench.json results/distinct_scoring.svg
"""
import json
import math
import sys

src, out = sys.argv[1], sys.argv[2]
records = [r for r in json.load(open(src)).get("distinct_scoring", []) if r["table"].startswith("gen")]
if not records:
    sys.exit(f"{src}: no distinct_scoring records of generated tables")

# one series per method: (label, colour, dash, {rows: rows/s})
series = []
for scorer, label, colour, dash in [
    ("auto", 'gnsm default ("auto")', "#d62728", ""),
    ("fast", 'gnsm "fast"', "#ff9896", "6,3"),
    ("exact", 'gnsm "exact"', "#1f77b4", ""),
]:
    pts = {r["rows"]: r["rows_per_s"] for r in records if r["scorer"] == scorer}
    if pts:
        series.append((label, colour, dash, pts))
by_rows = {r["rows"]: r for r in records}
series.append(("IndepNLL in plain SQL", "#2ca02c", "", {n: r["indep_sql_rows_per_s"] for n, r in by_rows.items()}))
series.append(("count(*)", "#7f7f7f", "2,3", {n: r["count_rows_per_s"] for n, r in by_rows.items()}))

W, H, L, R, T, B = 720, 440, 80, 200, 40, 60
xs = sorted(by_rows)
ys = [v for _, _, _, p in series for v in p.values() if v > 0]
x_lo, x_hi = math.log10(min(xs)) - 0.15, math.log10(max(xs)) + 0.15
y_lo, y_hi = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))


def px(n):
    return L + (math.log10(n) - x_lo) / (x_hi - x_lo) * (W - L - R)


def py(v):
    return H - B - (math.log10(v) - y_lo) / (y_hi - y_lo) * (H - T - B)


svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{L}" y="22" font-size="14">Distinct-row scoring, one backend, memo off (bench/distinct_scoring.sh)</text>']
for e in range(y_lo, y_hi + 1):
    y = py(10 ** e)
    svg.append(f'<line x1="{L}" y1="{y:.1f}" x2="{W - R}" y2="{y:.1f}" stroke="#ddd"/>')
    svg.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">1e{e}</text>')
for n in xs:
    x = px(n)
    svg.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{H - B}" stroke="#eee"/>')
    svg.append(f'<text x="{x:.1f}" y="{H - B + 16}" text-anchor="middle">{n:,}</text>')
svg.append(f'<text x="{(L + W - R) / 2}" y="{H - 14}" text-anchor="middle">rows in the table (all distinct)</text>')
svg.append(f'<text transform="translate(18,{(T + H - B) / 2}) rotate(-90)" text-anchor="middle">rows/s</text>')
for i, (label, colour, dash, pts) in enumerate(series):
    coords = [(px(n), py(v)) for n, v in sorted(pts.items()) if v > 0]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    svg.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash_attr}/>')
    for x, y in coords:
        svg.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
    ly = T + 20 + 20 * i
    svg.append(f'<line x1="{W - R + 12}" y1="{ly}" x2="{W - R + 36}" y2="{ly}" stroke="{colour}" stroke-width="2"{dash_attr}/>')
    svg.append(f'<text x="{W - R + 42}" y="{ly + 4}">{label}</text>')
svg.append("</svg>")
open(out, "w").write("\n".join(svg) + "\n")
