#!/usr/bin/env python3
"""Active learning against uniform random sampling over EdgeTran's design
space (docs/design_space.md): for each seed and each selection rule, one
design_space sweep with the same first Latin-hypercube sample, budget and
surrogates; the figure is how many architectures each device measured
before its latency surrogate's held-out normalised MSE stayed under 0.005
(ProTran's criterion) for `patience` steps in a row; and, since that
criterion grades each loop on its own samples, each step's surrogate tested
on an independent uniform sample the same devices measured first
(`tailsweep design evaluate`), at equal numbers of samples. Prints tables
(and writes them with --out); the simulated Jetsons are labelled simulated.

  bench/design_space_al.py                      # 3 seeds, the three simulated Jetsons
  bench/design_space_al.py --cpu --seeds 0      # with this machine's CPU too (minutes)
  bench/design_space_al.py --quick              # what CI runs: one seed, a small budget

Everything listens on 127.0.0.1; only processes started here are stopped."""
import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from trial_fleet import TrialFleet, exit_on_sigterm, publish  # noqa: E402

SIMS = {"nano": "sim:jetson-nano", "orin-nano": "sim:jetson-orin-nano",
        "agx-orin": "sim:jetson-agx-orin"}


def sweep_spec(name, devices, seed, selection, args):
    return {"name": name, "devices": {"names": devices},
            "design_space": {
                "count": args.count, "seed": seed, "batches": [1],
                "precision": args.precision, "time_cap_s": args.time_cap, "warmup_s": 0.5,
                "active_learning": {"batch": args.batch, "budget": args.budget, "pool": 256,
                                    "targets": ["latency", "energy", "peak_power"],
                                    "patience": args.patience, "selection": selection}}}


def test_sweep_spec(devices, args):
    """An independent uniform sample, measured once, the test set of every loop."""
    return {"name": "al-test-set", "devices": {"names": devices},
            "design_space": {"count": args.test_count, "sampler": "uniform", "seed": 1000,
                             "batches": [1], "precision": args.precision,
                             "time_cap_s": args.time_cap, "warmup_s": 0.5}}


def wait_done(fleet, sweep):
    while True:
        state, done = fleet.progress(sweep)
        if state in ("done", "failed", "cancelled"):
            break
        fleet.check_alive()
        if fleet.crashed:
            raise RuntimeError(f"crashed: {fleet.crashed}")
        time.sleep(0.5)
    if state != "done":
        raise RuntimeError(f"sweep {sweep} ended {state}")
    return done


def test_errors(args, db, sweep, test_sweep):
    """(device, samples) -> (test nMSE, median relative error) of each step's surrogate."""
    out = subprocess.run(
        [os.path.join(args.bin, "tailsweep"), "design", "evaluate", "--db", db, "--sweep",
         str(sweep), "--test-sweep", str(test_sweep), "--json"],
        check=True, capture_output=True, text=True).stdout
    return {(row["device"], row["samples"]): (row["test_nmse"], row["median_relative_error"])
            for row in json.loads(out)}


def convergence(db, sweep):
    """Per device: (samples when latency converged or None, last nMSE, steps, measured)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT device, step, samples, nmse, converged FROM surrogate_fit_view "
            "WHERE sweep_id = ? AND target = 'latency' ORDER BY device, step", (sweep,)).fetchall()
        measured = dict(conn.execute(
            "SELECT device, count(DISTINCT model) FROM architecture_view WHERE sweep_id = ? "
            "GROUP BY device", (sweep,)).fetchall())
        energy = dict(conn.execute(
            "SELECT device, max(power_null_reason) FROM architecture_view WHERE sweep_id = ? "
            "GROUP BY device", (sweep,)).fetchall())
    out = {}
    for device, step, samples, nmse, converged in rows:
        entry = out.setdefault(device, {"converged_at": None, "nmse": None, "steps": 0})
        entry["steps"] = step
        entry["nmse"] = nmse
        if converged and entry["converged_at"] is None:
            entry["converged_at"] = samples
    for device, entry in out.items():
        entry["measured"] = measured.get(device, 0)
        entry["energy"] = energy.get(device)
    return out


def main():
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default="build/bin")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--count", type=int, default=16, help="the first sample (ProTran: 16)")
    parser.add_argument("--batch", type=int, default=8, help="architectures queued per step")
    parser.add_argument("--budget", type=int, default=96)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--precision", type=float, default=0.05)
    parser.add_argument("--time-cap", type=float, default=3.0)
    parser.add_argument("--test-count", type=int, default=200,
                        help="architectures in the independent uniform test sample")
    parser.add_argument("--cpu", action="store_true", help="this machine's CPU too (slow)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.budget, args.count, args.batch, args.test_count = "0", 24, 8, 4, 16
    seeds = [int(s) for s in args.seeds.split(",")]
    devices = dict(SIMS)
    if args.cpu:
        devices["cpu"] = "cpu"
    work = tempfile.mkdtemp(prefix="tailsweep-design-al-")
    fleet = TrialFleet(args.bin, work, os.path.join(work, "design.db"))
    results = []  # (seed, selection, device, entry, wall_s)
    tested = {}  # (selection, device, samples) -> [(test nMSE, median relative error)] over seeds
    try:
        fleet.start_coordinator()
        for name, device in devices.items():
            fleet.start_agent(name, os.path.join(work, "state-" + name), device=device,
                              threads=0 if device == "cpu" else 1)
        fleet.wait_registered(len(devices))
        began = time.time()
        test_sweep = fleet.admin("POST", "/v1/sweeps",
                                 test_sweep_spec(list(devices), args))["sweep_id"]
        wait_done(fleet, test_sweep)
        print(f"test set: {args.test_count} architectures per device in "
              f"{time.time() - began:.0f} s", file=sys.stderr)
        for seed in seeds:
            for selection in ("uncertainty", "random"):
                began = time.time()
                sweep = fleet.admin("POST", "/v1/sweeps", sweep_spec(
                    f"al-{selection}-{seed}", list(devices), seed, selection, args))["sweep_id"]
                done = wait_done(fleet, sweep)
                wall = time.time() - began
                print(f"seed {seed} {selection}: {done} jobs in {wall:.0f} s", file=sys.stderr)
                for device, entry in convergence(fleet.db, sweep).items():
                    results.append((seed, selection, device, entry, wall))
                for (device, samples), error in test_errors(args, fleet.db, sweep,
                                                            test_sweep).items():
                    tested.setdefault((selection, device, samples), []).append(error)
    finally:
        fleet.stop()
    lines = ["| device | selection | seed | measured | latency converged at | last nMSE | steps |",
             "|---|---|---|---|---|---|---|"]
    for seed, selection, device, e, _ in sorted(results, key=lambda r: (r[2], r[1], r[0])):
        label = device + (" (simulated)" if devices[device].startswith("sim:") else "")
        at = e["converged_at"] if e["converged_at"] is not None else f"not in {args.budget}"
        lines.append(f"| {label} | {selection} | {seed} | {e['measured']} | {at} | "
                     f"{e['nmse']:.5f} | {e['steps']} |")
    lines += ["", "| device | uncertainty: mean samples | random: mean samples | ratio |",
              "|---|---|---|---|"]
    for device in devices:
        means = {}
        for selection in ("uncertainty", "random"):
            # A run that never converged counts as its budget: a lower bound on its need.
            values = [e["converged_at"] if e["converged_at"] is not None else args.budget
                      for _, sel, dev, e, _ in results if dev == device and sel == selection]
            means[selection] = statistics.mean(values) if values else float("nan")
        ratio = means["uncertainty"] / means["random"] if means["random"] else float("nan")
        lines.append(f"| {device} | {means['uncertainty']:.1f} | {means['random']:.1f} | "
                     f"{ratio:.2f} |")
    lines += ["", f"Each step's latency surrogate on the independent uniform sample of "
              f"{args.test_count} architectures, mean over the seeds that reached that many "
              f"samples (nMSE normalised by twice the sample's largest latency; median relative "
              f"error):", "",
              "| device | samples | uncertainty: nMSE | random: nMSE | uncertainty: median rel. "
              "error | random: median rel. error |", "|---|---|---|---|---|---|"]
    for device in devices:
        counts = sorted({n for (_, dev, n) in tested if dev == device})
        for n in counts:
            cells = []
            for index in (0, 1):
                for selection in ("uncertainty", "random"):
                    values = [e[index] for e in tested.get((selection, device, n), [])]
                    cells.append(f"{statistics.mean(values):.5f} ({len(values)})" if index == 0
                                 and values else f"{100 * statistics.mean(values):.1f}%"
                                 if values else "")
            lines.append(f"| {device} | {n} | " + " | ".join(cells) + " |")
    energy = {dev: e["energy"] for _, _, dev, e, _ in results}
    lines += ["", "Energy: " + "; ".join(f"{dev}: {reason or 'measured'}"
                                         for dev, reason in energy.items())]
    publish("\n".join(lines) + "\n", args.out)
    if args.quick and not results:
        sys.exit("no results")


if __name__ == "__main__":
    main()
