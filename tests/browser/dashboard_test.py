#!/usr/bin/python3
"""The dashboard in a real browser (CTest label `browser`; docs/dashboard.md).

Starts a coordinator and two agents on 127.0.0.1 (a real CPU agent and a
simulated Jetson Nano), runs a small POMT sweep, opens the dashboard in
headless Chromium through Selenium and Debian's chromedriver, logs in, and
checks what a person would: the devices with their states, the sweep reaching
done, a curve drawn with its steps and n* marked, the paper table's POMT row,
a SQL query answered and a write refused. Screenshots go to --out.

Exits 77 (CTest: skipped) only when the browser, its driver or Selenium is not
installed, saying which.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

SKIP = 77
ADMIN = "browser-admin-token"
ENROLL = "browser-enroll-token"


def find_browser():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def find_driver():
    for path in (shutil.which("chromedriver"), "/usr/bin/chromedriver"):
        if path and os.path.exists(path):
            return path
    return None


class Fleet:
    """The processes this test starts, ended by id when it ends."""

    def __init__(self, tailsweep, agent, work):
        self.tailsweep, self.agent, self.work = tailsweep, agent, work
        self.processes = []

    def start(self, argv, log_name):
        log = open(os.path.join(self.work, log_name), "w")
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def stop(self):
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def logs(self):
        text = ""
        for name in sorted(os.listdir(self.work)):
            if name.endswith(".log"):
                with open(os.path.join(self.work, name)) as log:
                    text += f"--- {name}\n" + log.read()[-4000:]
        return text


def admin(url, method, path, body=None):
    request = urllib.request.Request(
        url + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + ADMIN, "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def steady(read, stale, tries=10):
    """read() again when the page re-rendered under it: the polled pages (fleet,
    sweeps, a sweep) are drawn anew every 3 s, so an element found a moment
    ago may be gone."""
    for _ in range(tries - 1):
        try:
            return read()
        except stale:
            time.sleep(0.2)
    return read()


def open_browser(webdriver, Service, browser, driver):
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1280,900", "--disable-gpu"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(driver), options=options)


def log_in(web, url, By, wait):
    web.get(url + "/")
    wait.until(lambda w: w.find_element(By.ID, "token").is_displayed())
    web.find_element(By.ID, "token").send_keys(ADMIN)
    web.find_element(By.CSS_SELECTOR, "#login-form button").click()
    wait.until(lambda w: w.find_elements(By.CSS_SELECTOR, "#devices tbody tr"))


def screenshots_only(web, url, sweep, out, By, WebDriverWait, Stale):
    """One screenshot of each page of an existing database's sweep."""
    wait = WebDriverWait(web, 30, ignored_exceptions=(Stale,))
    log_in(web, url, By, wait)
    pages = [("fleet", "#fleet", "#devices tbody tr"), ("sweeps", "#sweeps", "#sweeps tbody tr"),
             ("sweep", f"#sweep/{sweep}", "#sweep-state"),
             ("curves", f"#curves/{sweep}", "#curves svg polyline"),
             ("tables", f"#tables/{sweep}", "table.report-table")]
    for name, fragment, ready in pages:
        web.get(url + "/" + fragment)
        wait.until(lambda w: w.find_elements(By.CSS_SELECTOR, ready))
        time.sleep(0.5)
        web.save_screenshot(os.path.join(out, f"dashboard-{name}.png"))
    web.get(url + "/#sql")
    wait.until(lambda w: w.find_elements(By.ID, "sql-text"))
    box = web.find_element(By.ID, "sql-text")
    box.clear()
    box.send_keys("SELECT device, simulated, model, batch, tokens_below, tokens_above, "
                  "round(height_percent, 1) AS rise_percent FROM step_view "
                  f"WHERE sweep_id = {sweep} ORDER BY height_percent DESC LIMIT 8")
    web.find_element(By.ID, "sql-run").click()
    wait.until(lambda w: w.find_elements(By.CSS_SELECTOR, "#sql-table tbody td"))
    web.save_screenshot(os.path.join(out, "dashboard-sql.png"))
    print(f"screenshots of sweep {sweep} in {out}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tailsweep", required=True)
    parser.add_argument("--agent", required=True)
    parser.add_argument("--out", required=True, help="folder for the screenshots")
    parser.add_argument("--timeout", type=float, default=420, help="seconds for the sweep")
    parser.add_argument("--screenshots-of", metavar="DB",
                        help="instead of the test: serve a copy of this results database "
                             "(e.g. the main job's) and save a screenshot of each page")
    parser.add_argument("--sweep", type=int, default=1, help="with --screenshots-of: the sweep")
    args = parser.parse_args()

    browser, driver = find_browser(), find_driver()
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait
        from selenium.common.exceptions import StaleElementReferenceException as Stale
    except ImportError:
        print("SKIPPED: Selenium is not installed (apt-get install python3-selenium)")
        return SKIP
    if not browser or not driver:
        print(f"SKIPPED: no {'Chromium' if not browser else 'chromedriver'} "
              "(apt-get install chromium chromium-driver)")
        return SKIP

    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="tailsweep-browser.")
    fleet = Fleet(args.tailsweep, args.agent, work)
    web = None
    try:
        port_file = os.path.join(work, "port")
        if args.screenshots_of:
            shutil.copy(args.screenshots_of, os.path.join(work, "fleet.db"))
        fleet.start([args.tailsweep, "serve", "--db", os.path.join(work, "fleet.db"),
                     "--listen", "127.0.0.1:0", "--port-file", port_file,
                     "--enroll-token", ENROLL, "--admin-token", ADMIN,
                     "--lease-ttl", "4", "--heartbeat-interval", "1"], "coordinator.log")
        for _ in range(100):
            if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
                break
            time.sleep(0.1)
        url = "http://127.0.0.1:" + open(port_file).read().strip()
        if args.screenshots_of:
            web = open_browser(webdriver, Service, browser, driver)
            return screenshots_only(web, url, args.sweep, args.out, By, WebDriverWait, Stale)
        for name, device in (("cpu", "cpu"), ("nano", "sim:jetson-nano")):
            fleet.start([args.agent, "run", "--coordinator", url, "--enroll-token", ENROLL,
                         "--device", device, "--name", name, "--threads", "1", "--wait-s", "2",
                         "--state-dir", os.path.join(work, "state-" + name)], f"agent-{name}.log")
        deadline = time.time() + 30
        while len(admin(url, "GET", "/v1/devices")["devices"]) < 2:
            if time.time() > deadline:
                raise AssertionError("the agents did not register\n" + fleet.logs())
            time.sleep(0.2)
        sweep = admin(url, "POST", "/v1/sweeps", {
            "name": "browser",
            "workloads": [{
                "model": "fmnist-vit",
                "curves": {"batches": [1], "tokens": "2:197:13", "precision": 0.05,
                           "time_cap_s": 0.5, "warmup_s": 0.2},
                "accuracy": {"dataset": "fashion-mnist", "tokens": "2:197:13", "limit": 100,
                             "batch": 100},
                "schedule": {"alpha": 0.5, "layer": 3},
                "evaluations": {"dataset": "fashion-mnist", "limit": 100, "batch": 100,
                                "methods": ["topk:8"], "pomt": True, "matched": False}}]})
        sweep_id = sweep["sweep_id"]

        web = open_browser(webdriver, Service, browser, driver)
        wait = WebDriverWait(web, 30, ignored_exceptions=(Stale,))

        def shot(name):
            web.save_screenshot(os.path.join(args.out, f"dashboard-{name}.png"))

        # Log in (a wrong token first); the token goes into the form, never the URL.
        web.get(url + "/")
        wait.until(lambda w: w.find_element(By.ID, "token").is_displayed())
        web.find_element(By.ID, "token").send_keys("not-the-token")
        web.find_element(By.CSS_SELECTOR, "#login-form button").click()
        wait.until(lambda w: "Not the admin token" in w.find_element(By.ID, "login-error").text)
        web.find_element(By.ID, "token").send_keys(ADMIN)
        web.find_element(By.CSS_SELECTOR, "#login-form button").click()
        wait.until(lambda w: w.find_elements(By.CSS_SELECTOR, "#devices tbody tr"))
        assert ADMIN not in web.current_url, web.current_url

        # Fleet: both devices, the simulated one labelled, each with its state.
        text = steady(lambda: {row.find_element(By.CSS_SELECTOR, "td").text: row.text
                               for row in web.find_elements(By.CSS_SELECTOR, "#devices tbody tr")},
                      Stale)
        assert set(text) == {"cpu", "nano"}, text
        assert "SIMULATED" in text["nano"] and "SIMULATED" not in text["cpu"], text
        assert any(state in text["cpu"] for state in ("online", "busy")), text
        shot("fleet")

        # Sweeps: progress until done.
        web.get(url + f"/#sweep/{sweep_id}")
        deadline = time.time() + args.timeout
        while True:
            state = steady(lambda: web.find_element(By.ID, "sweep-state").text
                           if web.find_elements(By.ID, "sweep-state") else "", Stale)
            if state == "done":
                break
            if state in ("failed", "cancelled") or time.time() > deadline:
                shot("sweep-stuck")
                raise AssertionError(f"sweep state {state!r}\n" + fleet.logs())
            time.sleep(1)
        assert "done" in steady(lambda: web.find_element(By.TAG_NAME, "main").text, Stale)
        shot("sweep")
        web.get(url + "/#sweeps")
        wait.until(lambda w: w.find_elements(By.CSS_SELECTOR, "#sweeps tbody tr"))
        assert "done" in steady(lambda: web.find_element(By.ID, "sweeps").text, Stale)
        shot("sweeps")

        # Curves: L(n) drawn, with the Nano's step and n* marked.
        web.get(url + f"/#curves/{sweep_id}")
        wait.until(lambda w: w.find_elements(By.CSS_SELECTOR, "#curves svg polyline"))
        assert web.find_elements(By.CSS_SELECTOR, "#curves svg line.step"), "no step marked"
        assert web.find_elements(By.CSS_SELECTOR, "#curves svg line.n-star"), "no n* marked"
        shot("curves")

        # Tables: the paper table's POMT row, with the same numbers as the report.
        web.get(url + f"/#tables/{sweep_id}")
        wait.until(lambda w: w.find_elements(By.CSS_SELECTOR, "table.report-table"))
        paper = web.find_element(By.ID, "table-paper-fmnist-vit-b1")
        pomt = [r.text for r in paper.find_elements(By.CSS_SELECTOR, "tbody tr")
                if r.text.startswith("POMT ")]
        assert pomt and "pomt:" in pomt[0], paper.text
        report = admin(url, "GET", f"/v1/sweeps/{sweep_id}/report")
        expected = next(t for t in report["tables"] if t["file_stem"] == "paper-fmnist-vit-b1")
        first = [r for r in expected["rows"] if r[0] == "POMT"][0]
        assert all(cell in pomt[0] for cell in first if cell), (first, pomt[0])
        shot("tables")

        # SQL: a query answered, a write refused.
        web.get(url + "/#sql")
        wait.until(lambda w: w.find_elements(By.ID, "sql-text"))
        box = web.find_element(By.ID, "sql-text")
        box.clear()
        box.send_keys("SELECT count(*) AS devices FROM devices")
        web.find_element(By.ID, "sql-run").click()
        wait.until(lambda w: w.find_elements(By.CSS_SELECTOR, "#sql-table tbody td"))
        assert web.find_element(By.CSS_SELECTOR, "#sql-table tbody td").text == "2"
        shot("sql")
        box = web.find_element(By.ID, "sql-text")
        box.clear()
        box.send_keys("DELETE FROM devices")
        web.find_element(By.ID, "sql-run").click()
        wait.until(lambda w: w.find_elements(By.ID, "sql-error"))
        assert web.find_element(By.ID, "sql-error").text, "no error shown"
        assert len(admin(url, "GET", "/v1/devices")["devices"]) == 2
        print(f"PASSED: dashboard checked in {os.path.basename(browser)}; screenshots in {args.out}")
        return 0
    except Exception:
        if web is not None:
            web.save_screenshot(os.path.join(args.out, "dashboard-failure.png"))
            print("page:", web.find_element(By.TAG_NAME, "body").text[:3000])
            for entry in web.get_log("browser"):
                print("console:", entry)
        print(fleet.logs())
        raise
    finally:
        if web is not None:
            web.quit()
        fleet.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
