#!/usr/bin/python3
"""Disk-full trials: the coordinator's database and an agent's outbox each on a
tmpfs too small for the sweep, then given room again (docs/reliability.md).

  coordinator-db  `tailsweep serve --db` on a tmpfs sized to the database of a
                  registered fleet (measured in place) plus --headroom-kb; a
                  sweep of profile jobs (a tiny model, each point to a 0.3 s cap,
                  on CPU agents of this machine, lease TTL 3 s) needs more. The
                  disk stays full for --full-s seconds; the tmpfs is then grown
                  to 64 MiB with `mount -o remount`, nothing restarted.
  agent-outbox    one CPU agent whose --state-dir is on a 1 MiB tmpfs, filled by
                  a filler file to one page short of full, so no result fits in
                  its outbox; once --full-jobs results have met the full disk the
                  filler is removed.
Checked for each: nothing crashed (every process alive throughout and exiting 0
on SIGTERM), what the agents were answered (HTTP statuses, one log line quoted)
and what the logs say, jobs done / planned, lost (acknowledged in an agent log,
"job N: posted: accepted", but not stored, or done without a result),
duplicated (a job whose stored rows are not one result's: 3 curve points and 1
measurement run), PRAGMA integrity_check (also while the disk is full), torn
files left in the outbox, and whether, and how many seconds after space
returned, the sweep completed. Exits 1 on a loss, a duplicate, corruption, a
torn file, no recovery or a crash; 77 (skipped) where a tmpfs cannot be mounted
(not root, or no CAP_SYS_ADMIN); 2 without the binaries.

  bench/disk_full.py [--quick] [--agents 3] [--jobs 60] [--out FILE]
--quick (CI, under a minute): a smaller sweep and a shorter full state.
"""
import argparse
import datetime
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error

from trial_fleet import (TrialFleet, count_sweep, exit_on_sigterm, integrity, publish,
                         tiny_profile_sweep)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGE = 4096
RETRY_5XX = r"retrying in .* 5\d\d "
STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT[\d:.]+Z) tailsweep-agent: (.*)$")


def sh(*argv):
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        why = ((done.stderr or done.stdout).strip() or f"exit {done.returncode}").splitlines()[0]
        raise RuntimeError(f"{' '.join(argv)}: {why}")


def log_lines(path):
    """(unix time, message) of each timestamped agent log line."""
    return [(datetime.datetime.fromisoformat(m.group(1)).timestamp(), m.group(2))
            for line in open(path, errors="replace") for m in [STAMP.match(line.rstrip())] if m]


def trial_folder(work, name):
    folder = os.path.join(work, name)
    os.makedirs(folder)
    return folder


def quote(lines, pattern):
    """The first line matching, shortened: the log's own words."""
    for line in lines:
        if re.search(pattern, line):
            line = re.sub(r"/\S+/", ".../", line.strip())  # paths to their last part
            return line if len(line) <= 120 else line[:117] + "..."
    return None


def wait_for_sweep(fleet, sweep, timeout, step):
    """Polls until the sweep ends, a process dies or the timeout; step(done) runs each tick."""
    start, state, done = time.time(), "running", 0
    while time.time() - start < timeout:
        fleet.check_alive()
        state, now_done = fleet.progress(sweep)
        done = done if now_done is None else now_done
        step(done)
        if state in ("done", "failed", "cancelled") or fleet.crashed:
            break
        time.sleep(0.2)
    return state, time.time()


def trial_coordinator(args, work, box):
    fs = os.path.join(work, "db-fs")
    os.makedirs(fs)
    sh("mount", "-t", "tmpfs", "-o", "size=64m,mode=0700", "tmpfs", fs)
    box.append(fs)
    fleet = TrialFleet(args.bin, trial_folder(work, "db-trial"), os.path.join(fs, "tailsweep.db"))
    box.append(fleet)
    fleet.start_coordinator()
    for i in range(args.agents):
        fleet.start_agent(f"df-{i}", os.path.join(work, f"state-df-{i}"))
    fleet.wait_registered(args.agents)
    st = os.statvfs(fs)  # the registered fleet's database, measured in place
    empty_kb = (st.f_blocks - st.f_bfree) * st.f_frsize // 1024
    sh("mount", "-o", f"remount,size={empty_kb + args.headroom_kb}k", fs)
    sweep = fleet.admin("POST", "/v1/sweeps",
                        tiny_profile_sweep("disk-full", args.jobs // args.agents))["sweep_id"]
    t = {"start": time.time()}
    seen = {}

    def step(done):
        now = time.time()
        if "full" not in t and "disk is full" in open(fleet.coordinator_log).read():
            t["full"], seen["before_full"] = now, done
        if "full" in t and "grown" not in t and now - t["full"] >= args.full_s:
            seen["integrity"] = integrity(fleet.db)  # read while the disk is still full
            seen["held"] = sum(f.startswith("job-") for n in fleet.agents
                               for f in os.listdir(os.path.join(work, f"state-{n}", "outbox")))
            seen["at_grow"] = done
            sh("mount", "-o", "remount,size=64m", fs)
            t["grown"] = time.time()
        if "grown" in t and "first" not in t and done > seen["at_grow"]:
            t["first"] = now

    state, t["end"] = wait_for_sweep(fleet, sweep, args.timeout, step)
    acknowledged, _ = fleet.acknowledged()
    fleet.stop()
    row = count_sweep(fleet.db, sweep, acknowledged)
    agent_lines = [m for n in fleet.agents for _, m in log_lines(fleet.agent_log(n))]
    coord_lines = open(fleet.coordinator_log, errors="replace").read().splitlines()
    statuses = sorted({m.group(1) for line in agent_lines
                       for m in [re.search(r"retrying in \d+ ms: [\w ]+: (\d{3} \w+)", line)] if m})
    recovered = "grown" in t and "first" in t and state == "done"
    stale = sum("result refused (stale)" in m for m in agent_lines)
    attempts = max([int(a) for a in re.findall(r"leased job \d+ \(\w+, attempt (\d+)\)",
                                                 "\n".join(agent_lines))] or [0])
    row.update({
        "trial": "coordinator-db", "state": state, "crashed": list(fleet.crashed.values()),
        "torn": [], "full_integrity": seen.get("integrity"),
        "filled": f"the database's tmpfs: {empty_kb} KiB (a registered fleet) + "
                  f"{args.headroom_kb} KiB; {args.jobs} jobs need more",
        "answers": f"agents: {', '.join(statuses) or 'no error'}, "
                   f"`{quote(agent_lines, RETRY_5XX)}`<br>"
                   f"coordinator: `{quote(coord_lines, 'disk is full')}`",
        "recovered": (f"yes: first result stored {t['first'] - t['grown']:.1f} s after space "
                      f"returned, sweep done {t['end'] - t['grown']:.1f} s after"
                      if recovered else "no"),
        # the coordinator must say when its writes work again
        "ok": recovered and quote(coord_lines, "commits again") is not None,
        "numbers": (f"{seen['before_full']} jobs done before the disk filled "
                    f"({t['full'] - t['start']:.1f} s in)" if "full" in t
                    else "the disk never filled (lower --headroom-kb)")
        + (f"; full for {t['grown'] - t['full']:.1f} s, {seen['held']} results waiting in the "
           f"agents' outboxes then; {stale} results refused as stale (their lease expired while "
           f"they waited) and their jobs run again, the most attempts a job took {attempts} of "
           f"the {row['max_attempts']} allowed; once space returned the coordinator logged "
           f"`{quote(coord_lines, 'commits again')}`" if "grown" in t else "")})
    return row


def trial_outbox(args, work, box):
    fs = os.path.join(work, "state-fs")
    os.makedirs(fs)
    sh("mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", fs)
    box.append(fs)
    folder = trial_folder(work, "outbox-trial")
    fleet = TrialFleet(args.bin, folder, os.path.join(folder, "outbox-trial.db"))
    box.append(fleet)
    fleet.start_coordinator()
    fleet.start_agent("ob-0", os.path.join(fs, "state"))
    fleet.wait_registered(1)
    filler = os.path.join(fs, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:  # to the last byte, then one page back: no result fits, part of one does
        while os.write(fd, b"\0" * PAGE) > 0:
            pass
    except OSError:
        pass
    os.close(fd)
    os.truncate(filler, max(0, os.path.getsize(filler) - PAGE))
    log = fleet.agent_log("ob-0")
    sweep = fleet.admin("POST", "/v1/sweeps",
                        tiny_profile_sweep("disk-full", args.outbox_jobs))["sweep_id"]
    freed = []

    def step(_):
        if not freed and sum("cannot keep the result" in m
                             for _, m in log_lines(log)) >= args.full_jobs:
            os.remove(filler)
            freed.append(time.time())

    state, _ = wait_for_sweep(fleet, sweep, args.timeout, step)
    outbox = os.path.join(fs, "state", "outbox")
    torn = [f"{os.path.relpath(path, outbox)} ({os.path.getsize(path)} B)" for path in
            (os.path.join(d, f) for d, _, files in os.walk(outbox) for f in files)]
    lines = log_lines(log)
    unkept = {int(m.group(1)) for _, line in lines
              for m in [re.search(r"job (\d+): cannot keep the result", line)] if m}
    # Results accepted after the filler went that did go through the outbox.
    kept = [t for t, line in lines for m in [re.search(r"job (\d+): posted: accepted", line)]
            if m and freed and t >= freed[0] and int(m.group(1)) not in unkept]
    acknowledged, _ = fleet.acknowledged()
    fleet.stop()
    row = count_sweep(fleet.db, sweep, acknowledged)
    messages = [m for _, m in lines]
    recovered = bool(freed and kept) and state == "done"
    refused = sum(bool(re.search(r"result (rejected|refused)", m)) for m in messages)
    row.update({
        "trial": "agent-outbox", "state": state, "crashed": list(fleet.crashed.values()),
        "torn": torn, "full_integrity": None,
        "filled": "the agent's --state-dir: a 1 MiB tmpfs, a filler file to one page short",
        "answers": f"agent: `{quote(messages, 'cannot keep the result')}`, then "
                   f"`{quote(messages, 'posted: accepted')}`<br>coordinator: {refused} refused",
        "recovered": (f"yes: results kept in the outbox again, the first accepted "
                      f"{kept[0] - freed[0]:.1f} s after space returned" if recovered else "no"),

        "ok": recovered,
        "numbers": f"{len(unkept)} results could not be written to the outbox and were posted "
                   f"from memory, accepted; left in the outbox: "
                   + (", ".join(torn) if torn else "nothing")})
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="CI: a smaller sweep, shorter full")
    parser.add_argument("--agents", type=int, default=3, help="CPU agents in the database trial")
    parser.add_argument("--jobs", type=int, default=60, help="profile jobs, database trial")
    parser.add_argument("--headroom-kb", type=int, default=1024,
                        help="room left on the database's tmpfs past the registered fleet's")
    parser.add_argument("--full-s", type=float, default=20, help="seconds the database stays full")
    parser.add_argument("--outbox-jobs", type=int, default=10, help="profile jobs, outbox trial")
    parser.add_argument("--full-jobs", type=int, default=3,
                        help="results that meet the full outbox before the filler goes")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per trial at most")
    parser.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"))
    parser.add_argument("--out", help="also write the table (Markdown) here")
    parser.add_argument("--keep", action="store_true", help="keep the logs (the path is printed)")
    args = parser.parse_args()
    exit_on_sigterm()
    if args.quick:
        args.jobs, args.full_s, args.outbox_jobs, args.full_jobs = 24, 4, 5, 2
    for tool in ("tailsweep", "tailsweep-agent"):
        if not os.access(os.path.join(args.bin, tool), os.X_OK):
            print(f"disk_full: no {tool} in {args.bin} (scripts/build.sh builds it)",
                  file=sys.stderr)
            return 2
    work = tempfile.mkdtemp(prefix="tailsweep-disk-full.")
    try:
        sh("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", work)
    except (RuntimeError, OSError) as error:
        os.rmdir(work)
        print(f"disk_full: skipped: cannot mount a tmpfs here ({error})", file=sys.stderr)
        return 77
    sh("umount", work)  # one that mounts but cannot be undone is a failure, not a skip
    rows = []
    try:
        for trial in (trial_coordinator, trial_outbox):
            box = []
            try:
                rows.append(trial(args, work, box))
            finally:  # stop what it started, then unmount
                for item in reversed(box):
                    if isinstance(item, TrialFleet):
                        item.stop()
                    elif subprocess.run(["umount", item], capture_output=True).returncode:
                        subprocess.run(["umount", "-l", item], capture_output=True)
    except (RuntimeError, OSError, urllib.error.URLError) as error:
        print(f"disk_full: FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"disk_full: logs kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    lines = ["| trial | what filled | how it was answered | jobs done / planned | lost | "
             "duplicated | integrity | recovered |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        integ = r["integrity"] + (f" (while full: {r['full_integrity']})"
                                  if r["full_integrity"] else "")
        lines.append(f"| {r['trial']} | {r['filled']} | {r['answers']} | {r['done']} / "
                     f"{r['planned']} | {r['lost']} | {r['duplicated']} | {integ} | "
                     f"{r['recovered']} |")
    notes = [f"- {r['trial']}: {r['numbers']}; sweep {r['state']}, "
             + (f"crashed: {', '.join(r['crashed'])}" if r["crashed"] else "no crash")
             + (f"; failure rows: {len(r['failures'])} ("
                + ", ".join(sorted({re.sub(r" at [\d.]+ .*| \(attempt.*", "", f)
                                    for f in r["failures"]})) + ")" if r["failures"] else "")
             + "." for r in rows]
    machine = f"{os.cpu_count()} cores, {os.uname().sysname} {os.uname().release}"
    text = "\n".join(lines) + "\n\n" + "\n".join(notes) + (
        f"\n\nCPU agents, profile jobs of a tiny model (3 points, each to a 0.3 s cap), lease "
        f"TTL 3 s; {machine}; {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}.\n")
    publish(text, args.out)
    failed = [f"{r['trial']} ({why})" for r in rows for why, bad in [
        ("lost", r["lost"]), ("duplicated", r["duplicated"]), ("crashed", r["crashed"]),
        ("corrupt", r["integrity"] != "ok" or r["full_integrity"] not in (None, "ok")),
        ("torn files in the outbox", r["torn"]), ("no recovery", not r["ok"]),
        ("jobs not done", r["done"] != r["planned"])] if bad]
    if failed:
        print("disk_full: FAILED: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
