"""Run every bench script (each variant in its own process, rounds in rotated order, see
bench/_rounds.py) and regenerate the figures section of docs/performance.md from that one run.

    python bench/run_all.py                      # 5 rounds, rewrites docs/performance.md
    python bench/run_all.py --rounds 7 --quick   # more rounds, a tenth of the calls per child
    python bench/run_all.py --json-dir DIR       # keep each script's JSON summary in DIR
    python bench/run_all.py --from-json DIR      # re-render the doc from a kept run
    python bench/run_all.py --threads 1          # every variant on one thread (its own doc section)

The same run by hand is one command per script, e.g. ``python bench/train_step.py --json
train_step.json``; the doc's section is written between the ``bench:begin`` and
``bench:end`` markers (one pair per thread setting) and says when, on how many cores and under what load it was measured.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = ["eager_overhead.py", "mlp_step.py", "train_step.py", "onnx_mlp.py", "lenet_step.py", "gpt_step.py"]


def markers(threads: int | None) -> tuple[str, str]:
    """The doc section's markers: one section per thread setting, so a ``--threads 1`` run
    sits beside the default one."""
    key = "default" if threads is None else f"threads={threads}"
    return f"<!-- bench:begin {key} -->", f"<!-- bench:end {key} -->"

#: Issue 17's figures: (label, script, case, variant, how the ratio reads, target).
HEADLINE = [
    ("small-op chain, eager, no grad", "eager_overhead.py", "small chain, no grad", "tracegrad eager", "time", "<= 1.5x"),
    ("small-op chain, eager, grad+backward", "eager_overhead.py", "small chain, grad+backward", "tracegrad eager",
     "time", "<= 1.5x"),
    ("MLP 784-32-16-10 b64 Adam step, eager", "mlp_step.py", "mlp b64 Adam step", "tracegrad eager", "time", "<= 1.3x"),
    ("XOR 2-4-4-1 b200 SGD step, compiled (onnxruntime)", "train_step.py", "xor 2-4-4-1 b200",
     "tracegrad compiled onnxruntime", "speedup", ">= 8x faster"),
    ("MNIST MLP 784-32-16-10 b64 SGD step, compiled (onnxruntime)", "train_step.py", "mnist 784-32-16-10 b64",
     "tracegrad compiled onnxruntime", "speedup", ">= 4x faster"),
    ("XOR step, compiled (onnxruntime), steps_per_call=10", "train_step.py", "xor 2-4-4-1 b200, 10 steps per call",
     "tracegrad compiled onnxruntime", "speedup", ">= 8x faster"),
    ("MNIST step, compiled (onnxruntime), steps_per_call=10", "train_step.py",
     "mnist 784-32-16-10 b64, 10 steps per call", "tracegrad compiled onnxruntime", "speedup", ">= 4x faster"),
    ("wide MLP 1024-4096-4096-10 b256 SGD step, compiled (onnxruntime)", "train_step.py",
     "wide 1024-4096-4096-10 b256", "tracegrad compiled onnxruntime", "speedup", ">= 0.95x faster"),
    ("MNIST step trace + grad + export + session", "train_step.py", "mnist trace+export+session", "tracegrad",
     None, "<= 15 ms"),
    ("10,000-node graph end to end", "onnx_mlp.py", "graph end to end, 10k ONNX nodes", "tracegrad", None, "<= 2000 ms"),
    ("LeNet-5 b64 SGD step, compiled (onnxruntime)", "lenet_step.py", "lenet-5 b64 SGD step",
     "tracegrad compiled onnxruntime", "speedup", ">= 1.5x faster"),
    ("char GPT b16x32 AdamW step, compiled (onnxruntime)", "gpt_step.py", "char GPT b16x32 AdamW step",
     "tracegrad compiled onnxruntime", "speedup", ">= 1.5x faster"),
    ("char GPT b16x32 AdamW step, eager", "gpt_step.py", "char GPT b16x32 AdamW step", "tracegrad eager", "time",
     "<= 1.5x"),
]


def run_scripts(json_dir: str, rounds: int, quick: bool, threads: int | None) -> None:
    for script in SCRIPTS:
        print(f"== {script}", flush=True)
        cmd = [sys.executable, os.path.join(HERE, script), "--rounds", str(rounds),
               "--json", os.path.join(json_dir, script.replace(".py", ".json"))] + (["--quick"] if quick else [])
        cmd += ["--threads", str(threads)] if threads is not None else []
        subprocess.run(cmd, check=True)


def load(json_dir: str) -> dict:
    return {s: json.load(open(os.path.join(json_dir, s.replace(".py", ".json")))) for s in SCRIPTS
            if os.path.exists(os.path.join(json_dir, s.replace(".py", ".json")))}


def _num(x: float) -> str:
    return f"{x:.0f}" if abs(x) >= 100 else f"{x:.1f}" if abs(x) >= 10 else f"{x:.2f}"


def _ratio(r) -> str:
    return "—" if r is None else f"{r:.3g}x"


def _rows(reports: dict, script: str, case: str):
    for c in reports.get(script, {}).get("cases", []):
        if c["case"] == case:
            return c["unit"], {r["variant"]: r for r in c["rows"]}
    return None, {}


def headline(reports: dict) -> list[str]:
    lines = ["| figure | tracegrad | torch eager | NumPy | tracegrad vs torch eager | issue 17 target |",
             "|---|---|---|---|---|---|"]
    for label, script, case, variant, kind, target in HEADLINE:
        unit, rows = _rows(reports, script, case)
        if variant not in rows:
            lines.append(f"| {label} | not measured | | | | {target} |")
            continue
        row = rows[variant]
        torch_row = rows.get("torch eager")
        numpy_row = next((r for v, r in rows.items() if v.startswith("numpy")), None)
        cell = lambda r: f"{_num(r['median'])} {unit}" if r else "—"  # noqa: E731
        if kind == "time":
            ratio = f"{row['vs_torch']:.2f}x torch's time"
        elif kind == "speedup":
            ratio = f"{1 / row['vs_torch']:.2f}x faster"
        else:
            ratio = "—"
        lines.append(f"| {label} | **{cell(row)}** | {cell(torch_row)} | {cell(numpy_row)} | {ratio} | {target} |")
    return lines


def tables(reports: dict) -> list[str]:
    lines = []
    for script, report in reports.items():
        lines += ["", f"### `python bench/{script}`", "",
                  "| case | variant | median | min – max | rounds | vs torch eager | vs NumPy |", "|---|---|---|---|---|---|---|"]
        for c in report["cases"]:
            for r in c["rows"]:
                lines.append(f"| {c['case']} | {r['variant']} | {_num(r['median'])} {c['unit']} | "
                             f"{_num(r['min'])} – {_num(r['max'])} | {len(r['values'])} | "
                             f"{_ratio(r['vs_torch'])} | {_ratio(r['vs_numpy'])} |")
    return lines


def conditions(reports: dict, command: str, label: str) -> list[str]:
    loads = [v for r in reports.values() for v in (r["loadavg_start"][0], r["loadavg_end"][0])]
    cores = max(r["cores"] for r in reports.values())
    threads = max(r.get("threads", cores) for r in reports.values())
    busy = max(loads) > 0.5 * cores
    quiet = (f"**The machine was not quiet**: other processes were running (1-minute load average "
             f"{min(loads):.1f}–{max(loads):.1f} on {cores} cores), so absolute times are inflated and noisy "
             f"and ratios between variants are the figures to read; re-run on a quiet machine." if busy else
             f"The machine was quiet (1-minute load average at most {max(loads):.1f} on {cores} cores).")
    return [f"Generated by `{command}` on {label}; {cores} cores, every variant at {threads} thread"
            f"{'s' if threads > 1 else ''} (OpenBLAS, PyTorch; onnxruntime sessions as tracegrad picks them). {quiet}"]


def render(reports: dict, command: str, label: str, threads: int | None = None) -> str:
    begin, end = markers(threads)
    rounds = {r["rounds"] for r in reports.values()}
    quick = any(r["quick"] for r in reports.values())
    lines = [begin, ""] + conditions(reports, command, label)
    lines += ["", f"Rounds per variant: {', '.join(map(str, sorted(rounds)))}{' (--quick)' if quick else ''}. "
              "\"vs torch eager\" and \"vs NumPy\" are the variant's median time over the reference's median "
              "time in the same case (below 1 is faster).", "", "### Issue 17's figures", ""]
    lines += headline(reports) + tables(reports) + ["", end]
    return "\n".join(lines)


def write_doc(doc: str, section: str, threads: int | None = None) -> None:
    """Replace the section between its markers, or append it."""
    begin, end = markers(threads)
    text = open(doc).read() if os.path.exists(doc) else "# Performance\n"
    if begin in text and end in text:
        text = text[:text.index(begin)] + section + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    with open(doc, "w") as f:
        f.write(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, help="threads for every variant (default: the core count)")
    parser.add_argument("--json-dir", help="keep the scripts' JSON summaries here")
    parser.add_argument("--from-json", help="render the doc from summaries kept by an earlier run")
    parser.add_argument("--doc", default=os.path.join(os.path.dirname(HERE), "docs", "performance.md"))
    parser.add_argument("--label", help="what was measured (default: the date and the git commit)")
    args = parser.parse_args(argv)
    json_dir = args.from_json or args.json_dir or tempfile.mkdtemp(prefix="tracegrad-bench-")
    if not args.from_json:
        os.makedirs(json_dir, exist_ok=True)
        run_scripts(json_dir, args.rounds, args.quick, args.threads)
    command = "python bench/run_all.py" + (f" --rounds {args.rounds}" if args.rounds != 5 else "") + \
        (" --quick" if args.quick else "") + (f" --threads {args.threads}" if args.threads is not None else "")
    label = args.label or f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, commit {_commit()}"
    write_doc(args.doc, render(load(json_dir), command, label, args.threads), args.threads)
    print(f"wrote {args.doc}")


def _commit() -> str:
    try:
        return subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


if __name__ == "__main__":
    main()
