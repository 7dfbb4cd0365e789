#!/usr/bin/python3
"""Curve measurement: tailsweep's adaptive protocol against POMT's fixed time per point.

tailsweep measures each point until the median's 95% CI is within the precision,
in random order. POMT's offline_computation.py gives every point a fixed 2 s
(torch.utils.benchmark's blocked_autorange(min_run_time=2)), from 196 tokens
down: at least 392 s a curve. Both run here on the same engine, in the same
session, alternating (ours, POMT's, ours, POMT's), each twice, so that each
protocol's run-to-run agreement can be measured:
    agreement = median over n of |L1(n) - L2(n)| / L2(n).
POMT's protocol runs on a subset of the grid (its full curve would take 13+
minutes); its full-curve time is projected from its measured time per point.

  bench/profile_vs_pomt.py [--build build] [--model deit-tiny] [--precision 0.01]
                           [--pomt-seconds 2] [--pomt-step 13] [--json FILE]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def profile(args, tokens, extra):
    cmd = [os.path.join(args.build, "bin", "tailsweep-agent"), "profile", "--model", args.model,
           "--tokens", tokens, "--precision", str(args.precision)] + extra
    started = time.monotonic()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    wall = time.monotonic() - started
    report = json.loads(out)
    curve = {p["tokens"]: p["median_ms"] for p in report["points"]}
    return {"wall_s": wall, "measuring_s": report["elapsed_s"], "curve": curve,
            "capped": report["method"]["points_at_time_cap"], "report": report}


def agreement(a, b, points):
    return statistics.median(abs(a[n] - b[n]) / b[n] for n in points)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--model", default="deit-tiny")
    parser.add_argument("--precision", type=float, default=0.01)
    parser.add_argument("--pomt-seconds", type=float, default=2.0)
    parser.add_argument("--pomt-step", type=int, default=13,
                        help="POMT's protocol runs on every STEP-th token count")
    parser.add_argument("--json", help="write both protocols' curves here")
    args = parser.parse_args()

    full = "2:197"
    subset = f"2:197:{args.pomt_step}"
    runs = {}
    for label, tokens, extra in [
        ("tailsweep 1", full, ["--seed", "1"]),
        ("POMT 1", subset, ["--fixed-time", str(args.pomt_seconds)]),
        ("tailsweep 2", full, ["--seed", "2"]),
        ("POMT 2", subset, ["--fixed-time", str(args.pomt_seconds)]),
    ]:
        print(f"{label}: --tokens {tokens} ...", file=sys.stderr, flush=True)
        runs[label] = profile(args, tokens, extra)

    ours1, ours2 = runs["tailsweep 1"], runs["tailsweep 2"]
    pomt1, pomt2 = runs["POMT 1"], runs["POMT 2"]
    full_points = sorted(ours1["curve"])
    subset_points = sorted(pomt1["curve"])
    pomt_per_point = statistics.mean([pomt1["measuring_s"], pomt2["measuring_s"]]) / len(
        subset_points)
    ours_full = statistics.mean([ours1["measuring_s"], ours2["measuring_s"]])
    pomt_full = pomt_per_point * len(full_points)
    device = ours1["report"]["device"]

    print(f"\n### Curve measurement, {args.model}, batch 1, {device['name']} "
          f"({device['runtime']['intra_op_threads']} threads)\n")
    print("| protocol | points measured | measuring time (run 1, run 2) | time per point "
          "| full curve (196 points) | agreement, median abs rel diff |")
    print("|---|---|---|---|---|---|")
    print(f"| tailsweep, to {100 * args.precision:g}% CI, random order | {len(full_points)} "
          f"| {ours1['measuring_s']:.0f} s, {ours2['measuring_s']:.0f} s "
          f"| {ours_full / len(full_points):.2f} s | {ours_full:.0f} s (measured) "
          f"| {100 * agreement(ours1['curve'], ours2['curve'], full_points):.2f}% "
          f"(on POMT's subset: "
          f"{100 * agreement(ours1['curve'], ours2['curve'], subset_points):.2f}%) |")
    print(f"| POMT, fixed {args.pomt_seconds:g} s a point, descending | {len(subset_points)} "
          f"| {pomt1['measuring_s']:.0f} s, {pomt2['measuring_s']:.0f} s "
          f"| {pomt_per_point:.2f} s | {pomt_full:.0f} s (projected) "
          f"| {100 * agreement(pomt1['curve'], pomt2['curve'], subset_points):.2f}% |")
    print(f"\nSpeed-up on a full curve: {pomt_full / ours_full:.1f}x "
          f"(target >= 5x). Points at the time cap: {ours1['capped']}, {ours2['capped']}.")
    print("The two tailsweep runs use different order seeds; both protocols share the engine.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({label: run["curve"] for label, run in runs.items()}, f)


if __name__ == "__main__":
    main()
