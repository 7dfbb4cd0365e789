"""A coordinator and CPU agents on this machine for the reliability trials
(bench/soak.py, bench/disk_full.py), and the counts every trial reports: jobs
done, results stored and acknowledged, lost, duplicated, retries used up,
integrity. Everything listens on 127.0.0.1; only processes started here are
stopped, by pid."""
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

ADMIN = "trial-admin-token"
ENROLL = "trial-enroll-token"
# A model the CPU times in well under a millisecond: each job runs to its time
# cap, so it lasts long enough to be interrupted (a simulated device answers
# at once and would leave nothing to interrupt).
TINY_MODEL = "custom:dim=32,depth=2,heads=2,patch=8,image=32,classes=5"
# Every job of tiny_profile_sweep stores exactly this many rows.
CURVE_POINTS, MEASUREMENT_RUNS = 3, 1


def stop_process(process, timeout_s=20):
    """SIGTERM to a process this script started, SIGKILL if it does not exit
    in time; returns its exit status."""
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return None if process is None else process.returncode


def exit_on_sigterm():
    """SIGTERM (a cancelled CI job) unwinds like Ctrl-C, so the `finally`
    blocks stop what was started and unmount what was mounted; a second
    SIGTERM during that cleanup is ignored rather than cutting it short."""
    def handler(*_):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sys.exit(143)
    signal.signal(signal.SIGTERM, handler)


def publish(text, out_path):
    """Prints a trial's table, and writes it to --out too when given."""
    print(text)
    if out_path:
        with open(out_path, "w") as out:
            out.write(text)


def tiny_profile_sweep(name, jobs, max_attempts=None):
    """`jobs` profile jobs per selected device, each point to a 0.3 s cap."""
    spec = {"name": name, "workloads": [
        {"model": TINY_MODEL, "seed": i,
         "curves": {"batches": [1], "tokens": "2,9,17", "precision": 0.0001,
                    "time_cap_s": 0.3, "warmup_s": 0.0}} for i in range(jobs)]}
    if max_attempts is not None:
        spec["max_attempts"] = max_attempts
    return spec


class TrialFleet:
    """One coordinator (restartable on its port) and its CPU agents."""

    def __init__(self, bin_dir, work, db, lease_ttl=3):
        self.bin, self.work, self.db, self.ttl = bin_dir, work, db, lease_ttl
        self.coordinator, self.agents, self.port, self.starts = None, {}, 0, 0
        self.crashed = {}  # who exited on their own, or not with 0 on SIGTERM
        self.coordinator_log = None

    def start_coordinator(self):
        """On the port it had before, if any: agents reconnect to the same address."""
        port_file = os.path.join(self.work, "port")
        if os.path.exists(port_file):
            os.remove(port_file)
        self.coordinator_log = os.path.join(self.work, f"coordinator-{self.starts}.log")
        self.starts += 1
        with open(self.coordinator_log, "w") as log:
            self.coordinator = subprocess.Popen(
                [os.path.join(self.bin, "tailsweep"), "serve", "--db", self.db,
                 "--listen", f"127.0.0.1:{self.port}", "--port-file", port_file,
                 "--enroll-token", ENROLL, "--admin-token", ADMIN,
                 "--lease-ttl", str(self.ttl), "--heartbeat-interval", "0.5"],
                stdout=log, stderr=subprocess.STDOUT)
        for _ in range(200):
            if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
                self.port = int(open(port_file).read())
                return
            time.sleep(0.05)
        raise RuntimeError("the coordinator did not start")

    def start_agent(self, name, state_dir, port=None, device="cpu", threads=1):
        """An agent, on the CPU unless `device` says otherwise (again, after a
        kill: its log goes on); `port`: another way to the coordinator, such
        as a proxy."""
        with open(self.agent_log(name), "a") as log:
            self.agents[name] = subprocess.Popen(
                [os.path.join(self.bin, "tailsweep-agent"), "run",
                 "--coordinator", f"http://127.0.0.1:{port or self.port}",
                 "--enroll-token", ENROLL, "--device", device, "--name", name,
                 "--threads", str(threads), "--wait-s", "1", "--state-dir", state_dir],
                stdout=log, stderr=subprocess.STDOUT)

    def wait_registered(self, count, timeout_s=30):
        deadline = time.time() + timeout_s
        while len(self.admin("GET", "/v1/devices")["devices"]) < count:
            if time.time() > deadline:
                raise RuntimeError("the agents did not register")
            time.sleep(0.1)

    def agent_log(self, name):
        return os.path.join(self.work, f"agent-{name}.log")

    def admin(self, method, path, body=None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": "Bearer " + ADMIN, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def progress(self, sweep):
        """(state, jobs done); ("unreachable", None) while the coordinator does not answer."""
        try:
            status = self.admin("GET", f"/v1/sweeps/{sweep}")
            return status["state"], status["jobs"].get("done", 0)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return "unreachable", None

    def check_alive(self):
        for name, process in [("coordinator", self.coordinator)] + list(self.agents.items()):
            if process is not None and process.poll() is not None:
                self.crashed.setdefault(name, f"{name} exited {process.returncode}")

    def stop(self):
        """SIGTERM, agents first; one that does not exit 0 counts as crashed."""
        for name, process in list(self.agents.items()) + [("coordinator", self.coordinator)]:
            if process is None or process.poll() is not None:
                continue
            if stop_process(process) != 0:
                self.crashed[name] = f"{name}: exit {process.returncode} on SIGTERM"

    def acknowledged(self):
        """Job ids the coordinator told an agent it had stored, and how many of
        those answers were "duplicate": the answer to a result posted again
        because the first answer never arrived."""
        jobs, duplicates = set(), 0
        for name in self.agents:
            for line in open(self.agent_log(name), errors="replace"):
                match = re.search(r"job (\d+): posted: (accepted|duplicate)", line)
                if match:
                    jobs.add(int(match.group(1)))
                    duplicates += match.group(2) == "duplicate"
        return jobs, duplicates


def integrity(db_path):
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return "; ".join(row[0] for row in db.execute("PRAGMA integrity_check"))
    finally:
        db.close()


def count_sweep(db_path, sweep, acknowledged):
    """What a trial reports of a tiny_profile_sweep, from its stored rows.
    lost: acknowledged but not stored, or done without a result; duplicated: a
    job whose rows are not exactly one result's (results.job_id is unique, so
    a second copy would show as extra curve points or measurement runs);
    retries_used_up: failed jobs whose every failure was an expired lease and
    that have no result (the retry limit, the fault's designed outcome);
    reruns: leases given beyond each job's first (work measured again)."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    one = lambda sql: db.execute(sql, (sweep,)).fetchone()  # noqa: E731
    planned, done, max_attempts, reruns = one(
        "SELECT count(*), sum(state = 'done'), max(max_attempts), sum(max(attempts - 1, 0)) "
        "FROM jobs WHERE sweep_id = ?")
    stored = {row[0] for row in db.execute(
        "SELECT r.job_id FROM results r JOIN jobs j ON j.id = r.job_id WHERE j.sweep_id = ?",
        (sweep,))}
    duplicated = one(
        "SELECT count(*) FROM jobs j WHERE j.sweep_id = ? AND j.state = 'done' AND "
        f"((SELECT count(*) FROM curve_points c WHERE c.job_id = j.id) <> {CURVE_POINTS} OR "
        f" (SELECT count(*) FROM measurement_runs m WHERE m.job_id = j.id) <> {MEASUREMENT_RUNS})")[0]
    done_without = one(
        "SELECT count(*) FROM jobs j WHERE j.sweep_id = ? AND j.state = 'done' AND "
        "NOT EXISTS (SELECT 1 FROM results r WHERE r.job_id = j.id)")[0]
    retries_used_up = one(
        "SELECT count(*) FROM jobs j WHERE j.sweep_id = ? AND j.state = 'failed' AND "
        "NOT EXISTS (SELECT 1 FROM failures f WHERE f.job_id = j.id AND "
        "            f.error NOT LIKE 'lease expired%') AND "
        "NOT EXISTS (SELECT 1 FROM results r WHERE r.job_id = j.id)")[0]
    failures = [row[0] for row in db.execute(
        "SELECT f.error FROM failures f JOIN jobs j ON j.id = f.job_id WHERE j.sweep_id = ?",
        (sweep,))]
    db.close()
    return {"planned": planned, "done": done or 0, "stored": len(stored),
            "lost": len(acknowledged - stored) + done_without, "duplicated": duplicated,
            "retries_used_up": retries_used_up, "failures": failures,
            "max_attempts": max_attempts, "reruns": reruns or 0,
            "integrity": integrity(db_path)}
