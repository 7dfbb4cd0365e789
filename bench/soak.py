#!/usr/bin/python3
"""Kill trials, repeated: agents and the coordinator SIGKILLed at random moments
during sweeps, with counts of what was lost or duplicated (docs/reliability.md).

Four runs of the same sweep (profile jobs of a tiny model, each run to its
time cap, on CPU agents of this machine; a fresh database each):
  baseline     no faults, for the time the sweep takes;
  agent-kill   every 0.5-1.5 s a random agent is SIGKILLed and started again at
               once on its state folder (its outbox), --agent-kills times;
  coord-kill   the coordinator is SIGKILLed at random moments and started
               again on the same database and port, --coordinator-kills times;
  proxy        the agents talk to the coordinator through a fault-injecting
               proxy (bench/faultproxy.py) that drops, resets, delays or
               truncates --fault-share of the requests, and partitions
               everything for --partition-s once the sweep is under way.
For each: jobs planned and done, results stored, results the agents were
told were stored (their log: "job N: posted: accepted", or "posted:
duplicate": the answer to a result posted again because the first answer was
lost), lost (acknowledged but not stored, or a job done without its result),
duplicated (a job whose stored rows are not exactly one result's: 3 curve
points and one measurement run), jobs that failed because every one of their
attempts was killed (the retry limit, --max-attempts in the sweep: no result,
every failure an expired lease), and the time against the baseline. The
target is 0 lost and 0 duplicated, every other job done. Exits 1
when a run misses it, or ended before all its kills (or its partition) were
done.

  bench/soak.py [--quick] [--agent-kills 20] [--coordinator-kills 10]
                [--fault-share 0.1] [--partition-s 30] [--max-attempts 3] [--out FILE]
--quick (CI): 5 agent kills, 3 coordinator kills and a 5 s partition on a
smaller sweep.
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from faultproxy import FaultProxy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADMIN = "soak-admin-token"
ENROLL = "soak-enroll-token"
# A model the CPU times in well under a millisecond: each job runs to its time
# cap, so it is long enough to be killed in the middle of (a simulated
# device answers at once and would leave nothing to interrupt).
TINY_MODEL = "custom:dim=32,depth=2,heads=2,patch=8,image=32,classes=5"


class Run:
    """One sweep on its own coordinator and agents; ends what it started, by pid."""

    def __init__(self, name, bin_dir, work):
        self.name, self.bin, self.work = name, bin_dir, os.path.join(work, name)
        os.makedirs(self.work)
        self.db = os.path.join(self.work, "soak.db")
        self.port = 0
        self.coordinator = None
        self.agents = {}
        self.starts = 0
        self.proxy = None  # a FaultProxy the agents go through, when set

    def start_coordinator(self):
        port_file = os.path.join(self.work, "port")
        if os.path.exists(port_file):
            os.remove(port_file)
        log = open(os.path.join(self.work, f"coordinator-{self.starts}.log"), "w")
        self.starts += 1
        self.coordinator = subprocess.Popen(
            [os.path.join(self.bin, "tailsweep"), "serve", "--db", self.db,
             "--listen", f"127.0.0.1:{self.port}", "--port-file", port_file,
             "--enroll-token", ENROLL, "--admin-token", ADMIN,
             "--lease-ttl", "3", "--heartbeat-interval", "0.5"],
            stdout=log, stderr=subprocess.STDOUT)
        for _ in range(200):
            if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
                self.port = int(open(port_file).read())
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name}: the coordinator did not start")

    def start_agent(self, index):
        name = f"soak-{index}"
        log = open(os.path.join(self.work, f"agent-{name}.log"), "a")
        self.agents[index] = subprocess.Popen(
            [os.path.join(self.bin, "tailsweep-agent"), "run",
             "--coordinator", f"http://127.0.0.1:{self.agent_port()}", "--enroll-token", ENROLL,
             "--device", "cpu", "--name", name, "--threads", "1",
             "--wait-s", "1", "--state-dir", os.path.join(self.work, "state-" + name)],
            stdout=log, stderr=subprocess.STDOUT)

    def agent_port(self):
        return self.proxy.listen_port if self.proxy else self.port

    def admin(self, method, path, body=None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": "Bearer " + ADMIN, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.load(response)

    def sweep_state(self, sweep_id):
        try:
            return self.admin("GET", f"/v1/sweeps/{sweep_id}")["state"]
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return "unreachable"  # the coordinator is being restarted

    def stop(self):
        for process in list(self.agents.values()) + [self.coordinator]:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in list(self.agents.values()) + [self.coordinator]:
            if process is not None:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None

    def acknowledged(self):
        """Job ids the coordinator told an agent it had stored, and how many
        of those answers were "duplicate": the answer to a result posted
        again because the first answer never arrived."""
        jobs, duplicates = set(), 0
        for name in os.listdir(self.work):
            if name.startswith("agent-"):
                for line in open(os.path.join(self.work, name), errors="replace"):
                    match = re.search(r"job (\d+): posted: (accepted|duplicate)", line)
                    if match:
                        jobs.add(int(match.group(1)))
                        duplicates += match.group(2) == "duplicate"
        return jobs, duplicates


def sweep_spec(workloads, max_attempts):
    return {"name": "soak", "max_attempts": max_attempts, "workloads": [
        {"model": TINY_MODEL, "seed": i,
         "curves": {"batches": [1], "tokens": "2,9,17", "precision": 0.0001,
                    "time_cap_s": 0.3, "warmup_s": 0.0}} for i in range(workloads)]}


def run_once(name, args, work, agent_kills=0, coordinator_kills=0, faulty_network=False):
    run = Run(name, args.bin, work)
    rng = random.Random(args.seed + len(name))
    try:
        run.start_coordinator()
        if faulty_network:
            run.proxy = FaultProxy(run.port, args.fault_share, args.seed)
            run.proxy.start()
        for index in range(args.agents):
            run.start_agent(index)
        deadline = time.time() + 30
        while len(run.admin("GET", "/v1/devices")["devices"]) < args.agents:
            if time.time() > deadline:
                raise RuntimeError(f"{name}: the agents did not register")
            time.sleep(0.1)
        started = time.time()
        sweep = run.admin("POST", "/v1/sweeps",
                          sweep_spec(args.workloads, args.max_attempts))["sweep_id"]
        kills = {"agent": 0, "coordinator": 0}
        # The partition begins once every agent is busy with a job.
        partition_at = time.time() + rng.uniform(3, 6) if faulty_network else None
        partition_ends = None
        next_fault = time.time() + rng.uniform(0.5, 1.5)
        deadline = time.time() + args.timeout
        while True:
            state = run.sweep_state(sweep)
            if state in ("done", "failed", "cancelled"):
                break
            if time.time() > deadline:
                raise RuntimeError(f"{name}: the sweep did not end in {args.timeout} s")
            if partition_at is not None and time.time() >= partition_at:
                run.proxy.partition(args.partition_s)
                partition_at, partition_ends = None, time.time() + args.partition_s
            if time.time() >= next_fault:
                if kills["agent"] < agent_kills:
                    index = rng.randrange(args.agents)
                    run.agents[index].send_signal(signal.SIGKILL)
                    run.agents[index].wait()
                    run.start_agent(index)
                    kills["agent"] += 1
                elif kills["coordinator"] < coordinator_kills:
                    run.coordinator.send_signal(signal.SIGKILL)
                    run.coordinator.wait()
                    time.sleep(rng.uniform(0.1, 1.0))
                    run.start_coordinator()
                    kills["coordinator"] += 1
                next_fault = time.time() + rng.uniform(0.5, 1.5)
            time.sleep(0.1)
        elapsed = time.time() - started
        acknowledged, duplicate_answers = run.acknowledged()
        faults = dict(run.proxy.counts) if run.proxy else {}
        run.stop()
        db = sqlite3.connect(f"file:{run.db}?mode=ro", uri=True)
        planned, done = db.execute(
            "SELECT count(*), sum(state = 'done') FROM jobs WHERE sweep_id = ?", (sweep,)).fetchone()
        stored = {row[0] for row in db.execute(
            "SELECT r.job_id FROM results r JOIN jobs j ON j.id = r.job_id WHERE j.sweep_id = ?",
            (sweep,))}
        # results.job_id is unique, so a result stored twice would show in its
        # rows: every job's curve has exactly 3 points (tokens 2, 9, 17) and one
        # measurement run.
        duplicated = db.execute(
            "SELECT count(*) FROM jobs j WHERE j.sweep_id = ? AND j.state = 'done' AND "
            "((SELECT count(*) FROM curve_points c WHERE c.job_id = j.id) <> 3 OR "
            " (SELECT count(*) FROM measurement_runs m WHERE m.job_id = j.id) <> 1)",
            (sweep,)).fetchone()[0]
        done_without = db.execute(
            "SELECT count(*) FROM jobs j WHERE j.sweep_id = ? AND j.state = 'done' AND "
            "NOT EXISTS (SELECT 1 FROM results r WHERE r.job_id = j.id)", (sweep,)).fetchone()[0]
        # A job whose every attempt was killed fails at the retry limit (3
        # attempts): the fault's designed outcome, not a loss, but counted.
        retries_used_up = db.execute(
            "SELECT count(*) FROM jobs j WHERE j.sweep_id = ? AND j.state = 'failed' AND "
            "NOT EXISTS (SELECT 1 FROM failures f WHERE f.job_id = j.id AND "
            "            f.error NOT LIKE 'lease expired%') AND "
            "NOT EXISTS (SELECT 1 FROM results r WHERE r.job_id = j.id)", (sweep,)).fetchone()[0]
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        db.close()
        return {"run": name, "state": state, "agent_kills": kills["agent"],
                "coordinator_kills": kills["coordinator"], "planned": planned, "done": done or 0,
                "stored": len(stored), "acknowledged": len(acknowledged),
                "duplicate_answers": duplicate_answers,
                "lost": len(acknowledged - stored) + done_without, "duplicated": duplicated,
                "kills_asked": agent_kills + coordinator_kills,
                # a partition that had not ended when the sweep did proves less
                "partition_short": faulty_network and (
                    partition_ends is None or partition_ends > time.time()),
                "retries_used_up": retries_used_up, "network_faults": faults,
                "integrity": integrity, "seconds": elapsed}
    finally:
        run.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="CI: fewer kills, a smaller sweep")
    parser.add_argument("--agent-kills", type=int, default=20)
    parser.add_argument("--coordinator-kills", type=int, default=10)
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--workloads", type=int, default=30, help="profile jobs per agent")
    parser.add_argument("--fault-share", type=float, default=0.1,
                        help="share of the requests the proxy gives a fault")
    parser.add_argument("--partition-s", type=float, default=30,
                        help="how long the proxy stalls all traffic once")
    parser.add_argument("--max-attempts", type=int, default=3,
                        help="the sweep's retry limit (attempts per job)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600, help="seconds per sweep at most")
    parser.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"))
    parser.add_argument("--out", help="also write the table (Markdown) here")
    args = parser.parse_args()
    if args.quick:
        args.agent_kills, args.coordinator_kills, args.workloads = 5, 3, 6
        args.partition_s = 5
    for tool in ("tailsweep", "tailsweep-agent"):
        if not os.access(os.path.join(args.bin, tool), os.X_OK):
            print(f"soak: no {tool} in {args.bin} (scripts/build.sh builds it)", file=sys.stderr)
            return 2
    work = tempfile.mkdtemp(prefix="tailsweep-soak.")
    try:
        rows = [run_once("baseline", args, work),
                run_once("agent-kill", args, work, agent_kills=args.agent_kills),
                run_once("coord-kill", args, work, coordinator_kills=args.coordinator_kills),
                run_once("proxy", args, work, faulty_network=True)]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = rows[0]["seconds"]
    lines = ["| fault | trials | jobs done / planned | failed: every attempt killed | "
             "results stored | acknowledged (of them: answered duplicate) | lost | duplicated | "
             "integrity | sweep time | extra time |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        faults = row["network_faults"]
        trials = {"baseline": "none", "agent-kill": f"{row['agent_kills']} agent SIGKILLs",
                  "coord-kill": f"{row['coordinator_kills']} coordinator SIGKILLs",
                  "proxy": (f"{sum(faults.get(f, 0) for f in ('drop', 'reset', 'delay', 'truncate'))}"
                            f" of {faults.get('requests', 0)} requests faulted "
                            f"({faults.get('drop', 0)} dropped, {faults.get('reset', 0)} reset, "
                            f"{faults.get('delay', 0)} delayed, {faults.get('truncate', 0)} "
                            f"truncated), a {args.partition_s:g} s partition")}[row["run"]]
        lines.append(
            f"| {row['run']} | {trials} | {row['done']} / {row['planned']} | "
            f"{row['retries_used_up']} | {row['stored']} | "
            f"{row['acknowledged']} ({row['duplicate_answers']}) | {row['lost']} | "
            f"{row['duplicated']} | {row['integrity']} | "
            f"{row['seconds']:.1f} s | {row['seconds'] - base:+.1f} s |")
    machine = f"{os.cpu_count()} cores, {os.uname().sysname} {os.uname().release}"
    text = "\n".join(lines) + (
        f"\n\n{args.agents} CPU agents, {args.workloads * args.agents} profile jobs a sweep (a tiny "
        f"model, each point to a 0.3 s cap), "
        f"lease TTL 3 s, {args.max_attempts} attempts a job; {machine}; {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}.\n")
    print(text)
    if args.out:
        with open(args.out, "w") as out:
            out.write(text)
    # A sweep that ended before its kills were done proves less than it says.
    failed = [r for r in rows if r["lost"] or r["duplicated"]
              or r["done"] + r["retries_used_up"] != r["planned"] or r["integrity"] != "ok"
              or r["agent_kills"] + r["coordinator_kills"] < r["kills_asked"]
              or r["partition_short"]]
    if failed:
        print("soak: FAILED: " + ", ".join(r["run"] for r in failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
