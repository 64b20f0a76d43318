"""Writes docs/bench.md and the README's benchmark tables from two bench runs.

Called by scripts/bench-report, which runs the bench twice into one folder: `before.*` with late
runs off, `after.*` with the model's defaults (late runs on). Each run left `NAME.md` (the bench's
stdout: the per-policy table, then the frontier's sections), `NAME.err` (its stderr: notes and the
timing), `NAME.json` (the per-policy rows) and `NAME-frontier.json` (the frontier report).

Usage: bench_report.py RUN_DIR DOCS_BENCH_MD README_MD

The README gets everything between its `<!-- bench-report:begin -->` and `<!-- bench-report:end -->`
lines replaced; nothing else in it is touched. Standard library only.
"""

import json
import re
import sys
from pathlib import Path

BEGIN = "<!-- bench-report:begin -->"
END = "<!-- bench-report:end -->"
SYNTHETIC = "synthetic:"


def sections(markdown):
    """The bench's stdout split by its `### ` headings: {"": main table, "Frontier: summary": ...}."""
    parts = ("\n" + markdown).split("\n### ")
    out = {"": parts[0].strip("\n")}
    for part in parts[1:]:
        title, _, body = part.partition("\n")
        out[title.strip()] = body.strip("\n")
    return out


def table(text):
    """The first Markdown table in `text` (its lines), and what follows it."""
    lines = text.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("|"))
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return lines[start:end], lines[end:]


def first_cell(line):
    return line.split("|")[1].strip()


def only(rows, keep):
    """Header, rule, and the rows whose first cell `keep` accepts."""
    return "\n".join(rows[:2] + [r for r in rows[2:] if keep(first_cell(r))])


def markdown(header, rows, left=1):
    """An aligned Markdown table, the first `left` columns left-aligned."""
    width = [max(len(str(c)) for c in col) for col in zip(header, *rows)]

    def line(cells):
        out = []
        for i, (c, w) in enumerate(zip(cells, width)):
            out.append(str(c).ljust(w) if i < left else str(c).rjust(w))
        return "| " + " | ".join(out) + " |"

    rule = "|" + "|".join(("-" * (w + 2)) if i < left else ("-" * (w + 1) + ":")
                          for i, w in enumerate(width)) + "|"
    return "\n".join([line(header), rule] + [line(r) for r in rows])


def seconds(err):
    m = re.search(r"in ([0-9.]+) s\s*$", err.strip())
    return m.group(1) if m else "?"


def notes(err):
    return [l[len("note: "):] for l in err.splitlines() if l.startswith("note: ")]


def before_after_rows(before, after, keep):
    """Ours and target tracking per trace: cost, throttling and decreases, before and after."""
    def index(rows):
        return {(r["trace"], r["policy"]): r for r in rows if "policy" in r}
    b, a = index(before), index(after)
    out = []
    for (trace, policy), ra in a.items():
        if not keep(trace) or policy not in ("ours", "aws-target-tracking"):
            continue
        rb = b.get((trace, policy))
        if rb is None:
            continue
        out.append([
            trace, policy,
            f"{rb['cost_unit_hours']:.0f}", f"{ra['cost_unit_hours']:.0f}",
            f"{rb['throttled_pct']:.3f}", f"{ra['throttled_pct']:.3f}",
            rb["decreases"], ra["decreases"],
        ])
    return markdown(
        ["trace", "policy", "unit-hours before", "after", "throttled % before", "after",
         "decreases before", "after"],
        out, left=2)


def ratio(x):
    return "-" if x is None else f"{x:.2f}x"


def frontier_before_after(before, after):
    """Advantage and cost vs TT70 per group and schedule, before and after."""
    def index(f):
        return {(g["group"], g["schedule"]): g for g in f["summary"]}
    b, a = index(before), index(after)
    rows = []
    for key, ga in a.items():
        gb = b.get(key)
        if gb is None:
            continue
        rows.append([
            key[0], key[1],
            ratio(gb["advantage_geomean"]), ratio(ga["advantage_geomean"]),
            ratio(gb["advantage_min"]), ratio(ga["advantage_min"]),
            ratio(gb["cost_vs_tt70_geomean"]), ratio(ga["cost_vs_tt70_geomean"]),
        ])
    return markdown(
        ["group", "schedule", "advantage before", "after", "lowest before", "after",
         "cost vs TT70 before", "after"],
        rows, left=2)


def quota_paced_before_after(before, after, keep):
    """Ours on the quota-paced schedules, before and after: where late runs cost decreases."""
    def index(f):
        return {(t["trace"], s["schedule"]): s
                for t in f["traces"] for s in t.get("schedules", [])}
    b, a = index(before), index(after)
    rows = []
    for (trace, schedule), sa in a.items():
        sb = b.get((trace, schedule))
        if sb is None or not keep(trace) or schedule not in ("hourly", "every-15-min"):
            continue
        rows.append([
            trace, schedule,
            sb["ours_decreases"], sa["ours_decreases"],
            f"{sb['ours']['cost_unit_hours']:.0f}", f"{sa['ours']['cost_unit_hours']:.0f}",
            f"{sb['ours']['throttled_pct']:.4f}", f"{sa['ours']['throttled_pct']:.4f}",
            "tie" if sb["advantage"] is None else ratio(sb["advantage"]),
            "tie" if sa["advantage"] is None else ratio(sa["advantage"]),
        ])
    return markdown(
        ["trace", "schedule", "ours decreases before", "after", "unit-hours before", "after",
         "throttled % before", "after", "advantage before", "after"],
        rows, left=2)


def chosen_times(frontier):
    """The times chosen per trace, with perfect foresight on them and on the default."""
    rows = []
    for t in frontier["traces"]:
        if "schedules" not in t:
            continue
        by_id = {s["schedule"]: s for s in t["schedules"]}
        chosen, default = by_id.get("chosen-4"), by_id.get("default")
        if chosen is None:
            reason = next((s["reason"] for s in t.get("skipped", [])), "")
            rows.append([t["trace"], "-", "-", "-", reason, "-", "-"])
            continue
        rows.append([
            t["trace"], chosen["runs_utc"], str(chosen["chosen_on_days"]), chosen["scored_from"],
            "", ratio(chosen["bound_cost_vs_clairvoyant"]),
            ratio(default["bound_cost_vs_clairvoyant"]) if default else "-",
        ])
    return markdown(
        ["trace", "chosen times", "chosen on days", "scored from", "note",
         "perfect foresight on them vs clairvoyant (scored days)",
         "on the default schedule (whole trace)"],
        rows, left=5)


def model_line(frontier):
    m = frontier["model"]
    return (f"late runs 0-{m['late_runs_max_secs']} s (seed {m['late_runs_seed']}), CloudWatch "
            f"datapoints visible {m['publish_delay']} min after their minute, `UpdateTable` in "
            f"force after {m['update_delay']} min, a {m['burst_secs']:.0f} s burst bucket, "
            f"throttle events by cause {'on' if m['throttle_causes'] else 'off'}, hot keys "
            f"{'on' if m['hot_keys'] else 'off'} (synthetic traces only), max capacity "
            f"{m['max_capacity']}")


def main(run_dir, bench_md, readme):
    run = Path(run_dir)
    read = lambda name: (run / name).read_text()
    after, before = sections(read("after.md")), sections(read("before.md"))
    after_err, before_err = read("after.err"), read("before.err")
    rows_after, rows_before = json.loads(read("after.json")), json.loads(read("before.json"))
    fr_after = json.loads(read("after-frontier.json"))
    fr_before = json.loads(read("before-frontier.json"))
    real = lambda name: not name.startswith(SYNTHETIC)
    main_after, _ = table(after[""])
    main_before, _ = table(before[""])
    per_trace, per_trace_rest = table(after["Frontier: per trace"])
    summary_after, _ = table(after["Frontier: summary"])
    summary_before, _ = table(before["Frontier: summary"])
    sweep, _ = table(after["Frontier: target tracking's sweep"])
    skipped = "\n".join(l for l in per_trace_rest if l.strip())
    note_lines = "\n".join(f"- {n}" for n in notes(after_err)) or "- (none)"
    lines = "\n".join

    doc = f"""# Benchmark report

Generated by `scripts/bench-report`: do not edit by hand, run it again. It builds the CLI in
release and runs `ddb-autoscaler bench --traces ../shared/traces/raw --synthetic` twice: with the
model's defaults ("after": {model_line(fr_after)}), and with `--late-runs-max-secs 0` ("before":
every run exactly on its minute, as the simulator assumed until late runs were modelled). The
bench took {seconds(after_err)} s ("after") and {seconds(before_err)} s ("before") here. What the
columns mean: `ddb-autoscaler bench --help` and `crates/cli/src/bench.rs`; the frontier's rules:
`crates/capacity-sim/src/frontier.rs`.

Groups: `traces` are the real request-rate series under `../shared/traces/raw` (the claims rest
on these); `synthetic` are the traces made in code (`crates/capacity-sim/src/synthetic.rs`),
including `hot-key`, issue 8's hot-partition example, and `flash-crowd`, whose crowd hits one key.

## The frontier: ours against target tracking at equal cost

For each trace and scale-down schedule of ours: target tracking's throttled % at ours' cost
(interpolated on its sweep of targets 20-90%), the advantage (that divided by ours' throttled %;
a tie when both are under 0.001%), ours' cost against target tracking at 70%, on-demand and the
clairvoyant, and the cost of perfect foresight on that schedule against the clairvoyant ("bound":
what limits any policy that lowers capacity only at those runs). `chosen-4` picks four UTC hours
per trace on its first 7 days (half of a shorter trace) and scores every policy on the rest only.

### Summary (late runs on)

{lines(summary_after)}

### Summary with late runs off (before)

{lines(summary_before)}

### Late runs: the frontier before and after

{frontier_before_after(fr_before, fr_after)}

### Late runs: ours on the quota-paced schedules before and after

A run that starts earlier in its minute than the last decrease's stamp finds `last + 3600 s`
still ahead and cannot decrease, unless the policy waits for it (`Decision::not_before`).

{quota_paced_before_after(fr_before, fr_after, lambda t: True)}

### Per trace (late runs on)

{lines(per_trace)}

{skipped}

### Chosen times

{chosen_times(fr_after)}

### Target tracking's sweep (late runs on)

Unit-hours / throttled % at each target.

{lines(sweep)}

## Every policy

### Late runs on (after), default schedule (00/06/12/18 UTC)

{lines(main_after)}

### Late runs off (before)

{lines(main_before)}

### Ours and target tracking, before and after

{before_after_rows(rows_before, rows_after, lambda t: True)}

## Notes from the bench (late runs on)

{note_lines}
"""
    Path(bench_md).write_text(doc)

    block = f"""{BEGIN}
<!-- Generated by scripts/bench-report from the bench; edit the script, not this block. -->

The bench took {seconds(after_err)} s here for the shared and synthetic traces ({model_line(fr_after)}).
Full report, with the synthetic traces' rows, the chosen times and target tracking's sweep:
[docs/bench.md](docs/bench.md).

**The frontier** (geometric means per group of traces and scale-down schedule; "advantage" is
target tracking's throttled % at ours' cost divided by ours'):

{lines(summary_after)}

Per shared trace:

{only(per_trace, real)}

**Late runs** (every run 0-30 s after its minute, changes stamped when made) against the
simulator's former punctual runs, ours and target tracking on the shared traces:

{before_after_rows(rows_before, rows_after, real)}

{frontier_before_after(fr_before, fr_after)}

{quota_paced_before_after(fr_before, fr_after, real)}

**Every policy** on the shared traces (late runs on, scale-down at 00/06/12/18 UTC):

{only(main_after, real)}
{END}"""
    text = Path(readme).read_text()
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        sys.exit(f"{readme} must hold exactly one {BEGIN} and one {END} line")
    head, rest = text.split(BEGIN)
    _, tail = rest.split(END)
    Path(readme).write_text(head + block + tail)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
