#!/usr/bin/env python3
"""`make bench`: measures infc (compiler, language server, local runtime) beside what users would
pick instead (CPython's parser, nginx, Flask on Werkzeug, moto's SQS), on this machine, in one run.

    python3 bench/run.py [--infc PATH] [--out DIR] [--quick]

Writes DIR/latest.json (every sample) and DIR/latest.md (the table). Benchmarks, not tests:
nothing here asserts; targets are reported as met or missed. Everything listens on 127.0.0.1 only
and every server started here is stopped at the end, also on failure or Ctrl-C.
"""
import argparse
import atexit
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZES = (20, 200, 2000)
PROCS = []  # every server we started, stopped by cleanup()
NOTES = []  # what was skipped or is worth knowing, printed into the results


def note(msg):
    NOTES.append(msg)
    print(f"  note: {msg}", flush=True)


def cleanup():
    for p in PROCS:
        if p.poll() is None:
            try:
                p.terminate()
                p.wait(5)
            except Exception:
                try:
                    p.kill()
                    p.wait(5)
                except Exception:
                    pass


atexit.register(cleanup)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))


def start(cmd, **kw):
    kw.setdefault("stdout", subprocess.DEVNULL)
    kw.setdefault("stderr", subprocess.DEVNULL)
    p = subprocess.Popen(cmd, **kw)
    PROCS.append(p)
    return p


def stop(p, timeout=15):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stats(xs):
    xs = sorted(xs)
    return {"median": statistics.median(xs), "min": xs[0], "max": xs[-1], "n": len(xs), "samples": xs}


def timed_process(cmd, **kw):
    """Wall seconds and peak RSS (MiB) of one whole process."""
    t = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {err[-500:]}")
    return wall, ru.ru_maxrss / 1024


def repeat(fn, runs, warmup=1):
    for _ in range(warmup):
        fn()
    return [fn() for _ in range(runs)]


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def http(method, url, body=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"null")


def wait_answer(port, path="/", deadline=30, proc=None):
    """Seconds until GET path on the port gets any HTTP answer (polled every 2 ms)."""
    t = time.monotonic()
    while time.monotonic() - t < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited {proc.returncode} before answering")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
                if s.recv(16).startswith(b"HTTP/1."):
                    return time.monotonic() - t
        except OSError:
            pass
        time.sleep(0.002)
    raise RuntimeError(f"nothing answered on port {port} within {deadline}s")


# ---------------------------------------------------------------------------------------------
# compiler

def bench_compiler(infc, gen, quick):
    out = {}
    tmp = tempfile.mkdtemp(prefix="infc-bench-build-")
    try:
        for n in SIZES:
            path = os.path.join(gen, f"app_{n}.inf")
            with open(path, "rb") as f:
                data = f.read()
            lines, size = data.count(b"\n"), len(data)
            runs = 3 if (quick or n == 2000) else 7
            check = repeat(lambda: timed_process([infc, "check", path]), runs)
            build = repeat(lambda: timed_process([infc, "build", path, "-o", os.path.join(tmp, f"b{n}")]),
                           3 if n == 2000 or quick else 5)
            py = os.path.join(gen, f"py_{n}.py")
            py_proc = repeat(lambda: timed_process([sys.executable, "-c",
                                                    "import ast,sys; ast.parse(open(sys.argv[1]).read())", py]), runs)
            # ast.parse alone, in process (no interpreter start-up): the parser's own speed
            code = ("import ast,sys,time\nsrc=open(sys.argv[1]).read()\nts=[]\n"
                    "for _ in range(int(sys.argv[2])+1):\n t=time.perf_counter(); ast.parse(src); ts.append(time.perf_counter()-t)\n"
                    "print(*ts[1:])")
            py_inproc = [float(x) for x in subprocess.check_output([sys.executable, "-c", code, py, str(runs)]).split()]
            with open(py, "rb") as f:
                pydata = f.read()
            c = stats([w for w, _ in check])
            out[n] = {
                "lines": lines, "bytes": size,
                "check_s": c, "check_rss_mib": stats([m for _, m in check]),
                "build_s": stats([w for w, _ in build]), "build_rss_mib": stats([m for _, m in build]),
                "check_lines_per_s": lines / c["median"], "check_mb_per_s": size / 1e6 / c["median"],
                "python_lines": pydata.count(b"\n"), "python_bytes": len(pydata),
                "python_process_s": stats([w for w, _ in py_proc]),
                "python_process_rss_mib": stats([m for _, m in py_proc]),
                "python_ast_parse_s": stats(py_inproc),
            }
            print(f"  {n:>5} handlers {lines:>7} lines: check {c['median']*1000:.1f} ms "
                  f"({out[n]['check_rss_mib']['median']:.0f} MiB), build {out[n]['build_s']['median']*1000:.1f} ms, "
                  f"python3 ast.parse process {out[n]['python_process_s']['median']*1000:.1f} ms "
                  f"(parse alone {out[n]['python_ast_parse_s']['median']*1000:.1f} ms)", flush=True)
        # growth: time per line at 200k lines over time per line at 2k (1.0 = linear)
        per_line = {n: out[n]["check_s"]["median"] / out[n]["lines"] for n in SIZES}
        out["growth_2k_to_200k"] = per_line[2000] / per_line[20]
        out["growth_20k_to_200k"] = per_line[2000] / per_line[200]
        print(f"  growth (time/line, 200k vs 2k): {out['growth_2k_to_200k']:.2f}x; 200k vs 20k: "
              f"{out['growth_20k_to_200k']:.2f}x", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


# ---------------------------------------------------------------------------------------------
# language server

def bench_lsp(infc):
    """scripts/bench_lsp.py's JSON (its docstring gives the schema), or None when it failed."""
    script = os.path.join(ROOT, "scripts", "bench_lsp.py")
    fd, out = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        subprocess.run([sys.executable, script, "--infc", infc, "--out", out], check=True, timeout=240,
                       stdout=subprocess.DEVNULL)
        with open(out) as f:
            res = json.load(f)
        med, p95, mem = lsp_numbers(res)
        print(f"  didChange → diagnostics, 2,000 lines: median {med} ms, p95 {p95} ms; {mem} MB after 1,000 edits")
        return res
    except Exception as e:  # noqa: BLE001 - a benchmark failing is reported, not fatal
        note(f"scripts/bench_lsp.py failed: {e}")
        return None
    finally:
        os.unlink(out)


def lsp_numbers(lsp):
    """(median ms, p95 ms, RSS after 1,000 edits in MB) with the debounce off, or None."""
    if not lsp:
        return None
    lat = lsp["didchange_to_diagnostics_ms"]
    return lat["median"], lat["p95"], lsp["memory_after_1000_edits_mb"]


# ---------------------------------------------------------------------------------------------
# runtime

class Infc:
    def __init__(self, infc, build, state, time_scale=None):
        self.port = free_port()
        cmd = [infc, "run", build, "--port", str(self.port), "--state", state]
        if time_scale:
            cmd += ["--time-scale", str(time_scale)]
        self.t0 = time.monotonic()
        self.p = start(cmd)
        self.startup_s = wait_answer(self.port, "/_infc/status", proc=self.p)
        self.url = f"http://127.0.0.1:{self.port}"

    def status(self):
        return http("GET", self.url + "/_infc/status")

    def invocations(self, fn):
        return self.status()["invocations"].get(fn, {}).get("invocations", 0)

    def stop(self):
        stop(self.p, 60)


WRK_RE = re.compile(r"Requests/sec:\s+([\d.]+)")


def to_ms(v, unit):
    return float(v) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(url, seconds, pid=None):
    """One wrk run: requests/s, p50 and p99 in ms, non-2xx count; RSS of pid sampled meanwhile."""
    peak = [0.0]
    done = threading.Event()

    def sample():
        while not done.wait(0.2):
            r = rss_mib(pid)
            if r:
                peak[0] = max(peak[0], r)
    if pid:
        threading.Thread(target=sample, daemon=True).start()
    out = subprocess.run(["wrk", "-t2", "-c64", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True, timeout=seconds + 30).stdout
    done.set()
    lat = dict((p, to_ms(v, u)) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors: (.*)", out)
    return {"rps": float(WRK_RE.search(out).group(1)), "p50_ms": lat.get("50"), "p99_ms": lat.get("99"),
            "non2xx": int(m.group(1)) if m else 0, "socket_errors": errs.group(1) if errs else None,
            "rss_peak_mib": peak[0] or None}


def wrk_series(url, runs, seconds, pid=None):
    wrk(url, 2, pid)  # warm-up
    rs = [wrk(url, seconds, pid) for _ in range(runs)]
    out = {k: stats([r[k] for r in rs]) for k in ("rps", "p50_ms", "p99_ms")}
    out["non2xx"] = sum(r["non2xx"] for r in rs)
    out["socket_errors"] = [r["socket_errors"] for r in rs if r["socket_errors"]]
    peaks = [r["rss_peak_mib"] for r in rs if r["rss_peak_mib"]]
    if peaks:
        out["rss_peak_mib"] = max(peaks)
    return out


NGINX_CONF = """worker_processes auto;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fcgi;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{ default_type application/json; return 200 '{{"ok":true}}'; }}
  }}
}}
"""

FLASK_APP = r'''
import json, logging, sqlite3, sys, threading
from flask import Flask, jsonify
logging.getLogger("werkzeug").setLevel(logging.ERROR)
db_path, port = sys.argv[1], int(sys.argv[2])
db = sqlite3.connect(db_path)
db.execute("create table if not exists items (id text primary key, doc text)")
db.execute("insert or replace into items values ('1', ?)", (json.dumps({"id": "1", "name": "item 1", "price": 42}),))
db.commit(); db.close()
local = threading.local()
app = Flask(__name__)

@app.get("/hello")
def hello():
    return jsonify(ok=True)

@app.get("/items/<id>")
def item(id):
    if not hasattr(local, "db"):
        local.db = sqlite3.connect(db_path)
    row = local.db.execute("select doc from items where id = ?", (id,)).fetchone()
    if row is None:
        return jsonify(error="no such item"), 404
    return app.response_class(row[0], mimetype="application/json")

app.run(host="127.0.0.1", port=port, threaded=True)
'''


def bench_http(infc, build, tmp, runs, seconds):
    out = {}
    srv = Infc(infc, build, os.path.join(tmp, "http-state"))
    try:
        http("PUT", srv.url + "/items/1")
        time.sleep(1)
        out["infc_idle_rss_mib"] = rss_mib(srv.p.pid)
        if shutil.which("wrk"):
            out["infc_trivial"] = wrk_series(srv.url + "/hello", runs, seconds, srv.p.pid)
            report("infc GET /hello", out["infc_trivial"])
            out["infc_table"] = wrk_series(srv.url + "/items/1", runs, seconds, srv.p.pid)
            report("infc GET /items/1 (table read)", out["infc_table"])
            out["infc_rss_after_load_mib"] = rss_mib(srv.p.pid)
    finally:
        srv.stop()
    if not shutil.which("wrk"):
        note("wrk is not installed: HTTP throughput not measured")
        return out
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx:
        d = tempfile.mkdtemp(prefix="infc-bench-nginx-", dir=tmp)
        port = free_port()
        with open(os.path.join(d, "nginx.conf"), "w") as f:
            f.write(NGINX_CONF.format(tmp=d, port=port))
        p = start([nginx, "-p", d, "-c", os.path.join(d, "nginx.conf")])
        try:
            wait_answer(port, "/", proc=p)
            out["nginx_static"] = wrk_series(f"http://127.0.0.1:{port}/", runs, seconds)
            report("nginx static JSON", out["nginx_static"])
        except Exception as e:  # noqa: BLE001
            note(f"nginx failed: {e}")
        finally:
            stop(p)
    else:
        note("nginx is not installed: the machine's HTTP ceiling not measured")
    if subprocess.run([sys.executable, "-c", "import flask"], capture_output=True).returncode == 0:
        port = free_port()
        app = os.path.join(tmp, "flask_app.py")
        with open(app, "w") as f:
            f.write(FLASK_APP)
        p = start([sys.executable, app, os.path.join(tmp, "flask.db"), str(port)])
        try:
            wait_answer(port, "/hello", proc=p)
            out["flask_trivial"] = wrk_series(f"http://127.0.0.1:{port}/hello", runs, seconds)
            report("Flask GET /hello", out["flask_trivial"])
            out["flask_table"] = wrk_series(f"http://127.0.0.1:{port}/items/1", runs, seconds)
            report("Flask GET /items/1 (sqlite read)", out["flask_table"])
        except Exception as e:  # noqa: BLE001
            note(f"Flask failed: {e}")
        finally:
            stop(p)
    else:
        note("Flask is not installed: the Python comparison not measured")
    return out


def report(name, r):
    print(f"  {name}: {r['rps']['median']:.0f} req/s (min {r['rps']['min']:.0f}, max {r['rps']['max']:.0f}), "
          f"p50 {r['p50_ms']['median']:.2f} ms, p99 {r['p99_ms']['median']:.2f} ms"
          + (f", non-2xx {r['non2xx']}" if r["non2xx"] else ""), flush=True)


def wait_until(pred, deadline, what):
    t = time.monotonic()
    while not pred():
        if time.monotonic() - t > deadline:
            raise RuntimeError(f"timed out after {deadline}s waiting for {what}")
        time.sleep(0.02)


def bench_queues(infc, build, tmp, runs, n):
    out = {}
    srv = Infc(infc, build, os.path.join(tmp, "queue-state"))
    try:
        for fn, wide in (("consume1", False), ("consume8", True)):
            samples, enq = [], []

            def once(count, run):
                # done when the queue is empty (acked messages leave it at once; the invocation
                # counters in the status are flushed only every 250 ms, too coarse for this)
                def depth():
                    q = next(q for q in srv.status()["queues"] if q["name"] == f"{fn}-queue")
                    return q["visible"] + q["inFlight"] + q["delayed"]
                t = time.monotonic()
                http("POST", srv.url + "/enqueue", {"n": count, "run": run, "wide": wide})
                te = time.monotonic() - t
                wait_until(lambda: depth() == 0, 120, f"{fn} to consume {count}")
                return count / (time.monotonic() - t), count / te
            once(max(50, n // 10), f"warm-{fn}")
            for i in range(runs):
                s, e = once(n, f"{fn}-{i}")
                samples.append(s)
                enq.append(e)
            key = "consumers_1" if fn == "consume1" else "consumers_8"
            out[key] = {"msgs_per_s": stats(samples), "enqueue_per_s": stats(enq), "messages": n}
            print(f"  infc queue, {key.split('_')[1]} consumer(s): {out[key]['msgs_per_s']['median']:.0f} msg/s end to end "
                  f"(enqueue alone {out[key]['enqueue_per_s']['median']:.0f}/s)", flush=True)
        dead = sum(q.get("deadLetters", 0) for q in srv.status()["queues"])
        out["dead_letters"] = dead
    finally:
        srv.stop()
    # moto's SQS on loopback
    if subprocess.run([sys.executable, "-c", "import moto.server, boto3"], capture_output=True).returncode != 0:
        note("moto[server]/boto3 not installed: the SQS comparison not measured")
        return out
    port = free_port()
    p = start([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)])
    try:
        wait_answer(port, "/", proc=p)
        code = r'''
import sys, time, boto3
port, n, runs = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
sqs = boto3.client("sqs", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                   aws_access_key_id="bench", aws_secret_access_key="bench")
q = sqs.create_queue(QueueName="bench")["QueueUrl"]
def loop(k):
    t = time.monotonic()
    for i in range(k):
        sqs.send_message(QueueUrl=q, MessageBody=str(i))
        m = sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=1)["Messages"][0]
        sqs.delete_message(QueueUrl=q, ReceiptHandle=m["ReceiptHandle"])
    return k / (time.monotonic() - t)
loop(max(20, n // 10))
print(*[loop(n) for _ in range(runs)])
'''
        env = dict(os.environ, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
        res = subprocess.run([sys.executable, "-c", code, str(port), str(max(100, n // 5)), str(runs)],
                             capture_output=True, text=True, timeout=240, env=env)
        if res.returncode != 0:
            raise RuntimeError(res.stderr[-500:])
        out["moto_sqs"] = {"msgs_per_s": stats([float(x) for x in res.stdout.split()]), "messages": max(100, n // 5)}
        print(f"  moto SQS send/receive/delete loop: {out['moto_sqs']['msgs_per_s']['median']:.0f} msg/s", flush=True)
    except Exception as e:  # noqa: BLE001
        note(f"moto SQS failed: {e}")
    finally:
        stop(p)
    return out


def bench_workflows(infc, build, tmp, runs, n, sleepers):
    out = {}
    srv = Infc(infc, build, os.path.join(tmp, "wf-state"), time_scale=100000)
    try:
        def completed():
            return srv.status()["workflows"]["counts"].get("completed", 0)

        def once(count, run):
            base = completed()
            t = time.monotonic()
            http("POST", srv.url + "/flows", {"n": count, "run": run})
            wait_until(lambda: completed() >= base + count, 120, f"{count} workflows to complete")
            return count / (time.monotonic() - t)
        once(max(20, n // 10), "warm")
        out["five_step_per_s"] = stats([once(n, f"f{i}") for i in range(runs)])
        out["five_step_count"] = n
        print(f"  5-step workflows started and completed: {out['five_step_per_s']['median']:.0f}/s", flush=True)
    finally:
        srv.stop()
    # resume after a restart: start `sleepers` workflows that sleep 1h (5 s at --time-scale 720),
    # stop the runtime while they sleep, restart once they are due, time until all completed
    state = os.path.join(tmp, "sleep-state")
    srv = Infc(infc, build, state, time_scale=720)
    try:
        http("POST", srv.url + "/flows", {"n": sleepers, "run": "s", "sleepy": True})
        started = time.monotonic()
        wait_until(lambda: srv.status()["workflows"]["counts"].get("sleeping", 0)
                   + srv.status()["workflows"]["counts"].get("completed", 0) >= sleepers, 60,
                   "workflows to go to sleep")
        before = srv.status()["workflows"]["counts"]
    finally:
        srv.stop()
    time.sleep(max(0.0, started + 5.5 - time.monotonic()))
    srv = Infc(infc, build, state, time_scale=720)
    try:
        wait_until(lambda: srv.status()["workflows"]["counts"].get("completed", 0) >= sleepers, 120,
                   "sleeping workflows to resume")
        out["resume"] = {"workflows": sleepers, "sleeping_at_stop": before.get("sleeping", 0),
                         "seconds_from_start": time.monotonic() - srv.t0, "startup_s": srv.startup_s}
        print(f"  resume {before.get('sleeping', 0)} sleeping workflows after restart: "
              f"{out['resume']['seconds_from_start']*1000:.0f} ms from process start", flush=True)
    finally:
        srv.stop()
    return out


def bench_startup(infc, gen, tmp, runs):
    app = os.path.join(gen, "app_200.inf")
    build = os.path.join(tmp, "build200")
    subprocess.run([infc, "build", app, "-o", build], check=True, stdout=subprocess.DEVNULL)
    times, idle = [], []
    for i in range(runs + 1):
        t = time.monotonic()
        port = free_port()
        p = start([infc, "run", build, "--port", str(port), "--state", os.path.join(tmp, f"s200-{i}")])
        try:
            dt = wait_answer(port, "/u0/orders/none", proc=p)
            if i:
                times.append(time.monotonic() - t)
            if i == runs:
                time.sleep(2)
                idle.append(rss_mib(p.pid))
        finally:
            stop(p)
    out = {"first_answer_s": stats(times), "idle_rss_mib_200_handlers": idle[0]}
    print(f"  start to first answer, 200 handlers: {out['first_answer_s']['median']*1000:.0f} ms; "
          f"idle RSS {idle[0]:.1f} MiB", flush=True)
    return out


# ---------------------------------------------------------------------------------------------

def machine():
    info = {"nproc": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
        with open("/proc/meminfo") as f:
            info["mem_gib"] = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    except Exception:  # noqa: BLE001
        pass
    info["loadavg_start"] = os.getloadavg()
    busy = subprocess.run(["pgrep", "-c", "swift-frontend|swift-build|swiftc"], capture_output=True, text=True).stdout.strip()
    info["compilers_running_at_start"] = int(busy or 0)
    return info


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--infc", default=os.path.join(ROOT, ".build", "release", "infc"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    ap.add_argument("--quick", action="store_true", help="fewer and shorter runs (a smoke test)")
    ap.add_argument("--only", default="compiler,lsp,http,queues,workflows,startup,aws,lambda")
    a = ap.parse_args()
    infc = os.path.abspath(a.infc)
    only = set(a.only.split(","))
    runs = 1 if a.quick else 3
    seconds = 2 if a.quick else 10
    os.makedirs(a.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="infc-bench-")
    gen = os.path.join(tmp, "generated")
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "generate.py"), gen], check=True)
    version = subprocess.run([infc, "version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    res = {"when": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "infc": version, "commit": commit, "machine": machine(),
           "quick": a.quick}
    if res["machine"]["compilers_running_at_start"]:
        note(f"{res['machine']['compilers_running_at_start']} compiler processes were running at the start "
             f"(load {res['machine']['loadavg_start'][0]:.2f}): numbers are noisy")
    t_all = time.monotonic()
    rt_build = os.path.join(tmp, "rtbuild")
    subprocess.run([infc, "build", os.path.join(gen, "runtime.inf"), "-o", rt_build], check=True, stdout=subprocess.DEVNULL)
    sections = [
        ("compiler", lambda: bench_compiler(infc, gen, a.quick)),
        ("lsp", lambda: bench_lsp(infc)),
        ("http", lambda: bench_http(infc, rt_build, tmp, runs, seconds)),
        ("queues", lambda: bench_queues(infc, rt_build, tmp, runs, 200 if a.quick else 2000)),
        ("workflows", lambda: bench_workflows(infc, rt_build, tmp, runs, 100 if a.quick else 1000, 1000)),
        ("startup", lambda: bench_startup(infc, gen, tmp, 2 if a.quick else 5)),
        ("aws", lambda: bench_aws(infc, tmp, 1 if a.quick else 3)),
        ("lambda", lambda: bench_lambda(infc, tmp, 1 if a.quick else 3)),
    ]
    try:
        for name, fn in sections:
            if name not in only:
                continue
            print(f"== {name}", flush=True)
            t = time.monotonic()
            try:
                res[name] = fn()
            except Exception as e:  # noqa: BLE001 - one failing section must not lose the others
                note(f"{name} failed: {e}")
                res[name] = None
            print(f"   ({time.monotonic() - t:.0f} s)", flush=True)
    finally:
        cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    res["machine"]["loadavg_end"] = os.getloadavg()
    res["total_s"] = time.monotonic() - t_all
    res["notes"] = NOTES
    res["targets"] = targets(res)
    with open(os.path.join(a.out, "latest.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    with open(os.path.join(a.out, "latest.md"), "w") as f:
        f.write(markdown(res))
    print(f"wrote {a.out}/latest.md and latest.json in {res['total_s']:.0f} s")

def aws_unit(k):
    """One unit of the AWS benchmark's app: every construct the budget counts (the same unit as
    CloudFormationTests.generatedUnit)."""
    return f"""table items_{k}
bucket files_{k}
topic events_{k}
secret key_{k}
service api_{k} "https://api{k}.example.com" limit 4 rate 5/s
route GET "/items_{k}/:id" (req) {{ return items_{k}.get(req.params.id) }}
route POST "/items_{k}" (req) {{
  items_{k}.put(req.body.id, req.body)
  async work_{k}(req.body.id)
  return {{ status: 202 }}
}}
fn work_{k}(id) retry 3 timeout 1m {{
  let r = api_{k}.post("/x", {{ id: id, key: key_{k}.value() }})
  events_{k}.publish({{ id: id, r: r }})
}}
on events_{k} (e) {{ files_{k}.put("{{e.id}}.txt", "done") }}
on events_{k} (e) limit 2 {{ items_{k}.delete(e.id) }}
every 5m {{ for i in items_{k}.scan() {{ log(i.id) }} }}
every "0 9 * * 1-5" {{ log(files_{k}.list()) }}
every 1h {{
  sleep 10m
  items_{k}.put("tick", {{ id: "tick" }})
}}
fn flow_{k}(id) {{
  sleep 1d
  let i = items_{k}.get(id)
  if i != null {{ step_{k}(i) }}
}}
fn step_{k}(i) {{ files_{k}.put("{{i.id}}", "late") }}
on events_{k} (e) {{ async flow_{k}(e.id) }}
"""


def bench_aws(infc, tmp, runs):
    """`infc build --target aws` of the largest generated app under the default cap of 200, beside
    cfn-lint on the same template."""
    app, units = None, 0
    for n in range(1, 30):
        path = os.path.join(tmp, f"aws_{n}.inf")
        with open(path, "w") as f:
            f.write(f"app aws{n}\n" + "".join(aws_unit(k) for k in range(1, n + 1)))
        if subprocess.run([infc, "check", path], capture_output=True).returncode != 0:
            break
        app, units = path, n
    out_dir = os.path.join(tmp, "aws_build")
    cmd = [infc, "build", app, "--target", "aws", "-o", out_dir, "-q"]
    build = repeat(lambda: timed_process(cmd)[0], max(runs, 1) * 10)
    template = os.path.join(out_dir, "template.json")
    with open(template) as f:
        resources = len(json.load(f)["Resources"])
    if subprocess.run([sys.executable, "-c", "import cfnlint"], capture_output=True).returncode != 0:
        note("cfn-lint is not installed (scripts/install-test-deps.sh installs it): the AWS row has no comparison")
        return {"units": units, "resources": resources, "build_s": stats(build), "cfn_lint_s": None}
    lint_cmd = [sys.executable, "-c", "import sys; from cfnlint.runner import main; sys.exit(main())", template]
    lint = repeat(lambda: timed_process(lint_cmd)[0], max(runs, 1), warmup=0)
    out = {"units": units, "resources": resources, "build_s": stats(build), "cfn_lint_s": stats(lint)}
    print(f"  {units} units, {resources} resources: build --target aws {out['build_s']['median']*1000:.1f} ms, "
          f"cfn-lint {out['cfn_lint_s']['median']*1000:.0f} ms", flush=True)
    return out

def bench_lambda(infc, tmp, runs):
    """The Lambda bootstrap (`infc-lambda` beside infc): cold start (process start to its first
    `next` request) for the shop app, a warm trivial route through the Runtime API on loopback
    beside the same route on `infc run`, and the binary's size (and the shop's package, zipped)."""
    import threading
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
    import loopback   # the test servers' handler base and loopback start
    bootstrap = os.path.join(os.path.dirname(infc), "infc-lambda")
    if not os.path.exists(bootstrap):
        note("no infc-lambda beside infc (scripts/build-lambda.sh builds it): no Lambda rows")
        return None

    class API:
        """A Runtime API on 127.0.0.1: hands out `events`, records when each `next` came."""
        def __init__(self, events):
            self.events, self.i, self.next_times, self.done = events, 0, [], threading.Event()
            self.responses = []
            api = self

            class H(loopback.QuietHandler):
                def do_GET(self):
                    api.next_times.append(time.monotonic())
                    if api.i >= len(api.events):
                        api.done.set()
                        return self.reply(410)
                    i, api.i = api.i, api.i + 1
                    self.reply(200, api.events[i], [("Lambda-Runtime-Aws-Request-Id", f"r{i}"),
                                                     ("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))])

                def do_POST(self):
                    api.responses.append(self.body())
                    self.reply(202)
            self.server = loopback.start(H)
            self.port = self.server.server_address[1]

        def close(self):
            self.server.shutdown()
            self.server.server_close()

    def run(package, function, handlers, events):
        api = API(events)
        env = {"PATH": "/usr/bin:/bin", "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.port}", "LAMBDA_TASK_ROOT": package,
               "INFC_FUNCTION": function, "INFC_HANDLERS": json.dumps(handlers), "AWS_REGION": "us-east-1",
               "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "INFC_LOG_FORMAT": "json"}
        t = time.monotonic()
        p = subprocess.Popen([bootstrap], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            api.done.wait(120)
        finally:
            p.wait(30)
            api.close()
        return t, api

    shop = os.path.join(tmp, "lambda_shop")
    subprocess.run([infc, "build", os.path.join(ROOT, "examples", "shop.inf"), "-o", shop], check=True, stdout=subprocess.DEVNULL)
    cold = []
    for _ in range(runs * 5 + 1):
        t, api = run(shop, "post_orders", ["route POST /orders"], [])
        cold.append(api.next_times[0] - t)
    cold = cold[1:]

    tiny = os.path.join(tmp, "lambda_tiny")
    src = os.path.join(tmp, "lambda_tiny.inf")
    with open(src, "w") as f:
        f.write('app tiny\nroute GET "/hello" (req) {\n  return { ok: true }\n}\n')
    subprocess.run([infc, "build", src, "-o", tiny], check=True, stdout=subprocess.DEVNULL)
    n = 300 if runs > 1 else 60
    event = json.dumps({"version": "2.0", "routeKey": "GET /hello", "rawPath": "/hello", "rawQueryString": "",
                        "headers": {"accept": "*/*"}, "requestContext": {"http": {"method": "GET", "path": "/hello"}},
                        "isBase64Encoded": False}).encode()
    warm = []
    for _ in range(runs):
        _, api = run(tiny, "get_hello", ["route GET /hello"], [event] * n)
        # From the second `next` to the last: n-1 round trips (event out, handler, response in).
        warm.append((api.next_times[-1] - api.next_times[1]) / (n - 1))
    port = free_port()
    p = start([infc, "run", tiny, "--port", str(port), "--state", os.path.join(tmp, "lambda_tiny_state")])
    local = []
    try:
        wait_answer(port, "/hello", proc=p)
        import http.client
        for _ in range(runs):
            c = http.client.HTTPConnection("127.0.0.1", port)
            c.request("GET", "/hello")
            c.getresponse().read()
            t = time.monotonic()
            for _ in range(n - 1):
                c.request("GET", "/hello")
                c.getresponse().read()
            local.append((time.monotonic() - t) / (n - 1))
            c.close()
    finally:
        stop(p)
    # The package `infc deploy` uploads: `infc package` of the shop (bootstrap, code, manifest).
    subprocess.run([infc, "package", os.path.join(ROOT, "examples", "shop.inf"), "-o", os.path.join(tmp, "lambda_package"),
                    "--bootstrap", bootstrap, "-q"], check=True, stdout=subprocess.DEVNULL)
    zpath = os.path.join(tmp, "lambda_package", "package.zip")
    out = {"cold_start_s": stats(cold), "warm_route_s": stats(warm), "local_route_s": stats(local), "requests": n,
           "binary_bytes": os.path.getsize(bootstrap), "zipped_bytes": os.path.getsize(zpath)}
    print(f"  cold start (shop) {out['cold_start_s']['median']*1000:.1f} ms; warm route {out['warm_route_s']['median']*1e6:.0f} µs "
          f"(infc run {out['local_route_s']['median']*1e6:.0f} µs); {out['binary_bytes']/1e6:.1f} MB, zipped {out['zipped_bytes']/1e6:.1f} MB",
          flush=True)
    return out


# ---------------------------------------------------------------------------------------------
# report

def g(d, *path):
    for p in path:
        if d is None:
            return None
        d = d.get(p) if isinstance(d, dict) else None
    return d


def targets(r):
    T = []

    def add(name, value, goal, met, unit=""):
        T.append({"target": name, "value": value, "goal": goal, "met": met, "unit": unit})
    c20k = g(r, "compiler", 200, "check_s", "median")
    py20k = g(r, "compiler", 200, "python_process_s", "median")
    if c20k is not None:
        add("check 20k lines < 50 ms", c20k * 1000, 50, c20k * 1000 < 50, "ms")
        add("check 20k faster than python3 ast.parse (whole process)", c20k / py20k, 1, c20k < py20k, "x of python")
        add("linear growth 2k→200k (time/line ratio ≤ 1.5)", g(r, "compiler", "growth_2k_to_200k"), 1.5,
            g(r, "compiler", "growth_2k_to_200k") <= 1.5, "x")
    lsp = lsp_numbers(r.get("lsp"))
    if lsp and lsp[0] is not None:
        add("LSP diagnostics median ≤ 10 ms (2k lines)", lsp[0], 10, lsp[0] <= 10, "ms")
        keystroke = g(r, "lsp", "didchange_to_diagnostics_default_debounce_ms", "median")
        if keystroke is not None:
            add("LSP keystroke → diagnostics median < 20 ms (2k lines, debounce included)", keystroke, 20, keystroke < 20, "ms")
        add("LSP edit inside a handler re-analysed < 2 ms (2k lines, didChange → publish)", lsp[0], 2, lsp[0] < 2, "ms")
    t = g(r, "http", "infc_trivial")
    if t:
        rps, p99 = t["rps"]["median"], t["p99_ms"]["median"]
        add("trivial route ≥ 10,000 req/s", rps, 10000, rps >= 10000, "req/s")
        add("trivial route p99 < 10 ms", p99, 10, p99 < 10, "ms")
        f = g(r, "http", "flask_trivial", "rps", "median")
        if f:
            add("trivial route ≥ 5× Flask", rps / f, 5, rps / f >= 5, "x")
        n = g(r, "http", "nginx_static", "rps", "median")
        if n:
            add("trivial route ≥ 1/3 of nginx", rps / n, 1 / 3, rps / n >= 1 / 3, "x of nginx")
    q = g(r, "queues", "consumers_8", "msgs_per_s", "median")
    if q:
        add("durable queue ≥ 2,000 msg/s (8 consumers)", q, 2000, q >= 2000, "msg/s")
        q1 = g(r, "queues", "consumers_1", "msgs_per_s", "median")
        add("durable queue ≥ 2,000 msg/s (1 consumer)", q1, 2000, q1 >= 2000, "msg/s")
        m = g(r, "queues", "moto_sqs", "msgs_per_s", "median")
        if m:
            add("durable queue ≥ 5× moto SQS loop (8 consumers)", q / m, 5, q / m >= 5, "x")
    s = g(r, "startup", "first_answer_s", "median")
    if s is not None:
        add("start to first answer < 200 ms (200 handlers)", s * 1000, 200, s * 1000 < 200, "ms")
        idle = g(r, "startup", "idle_rss_mib_200_handlers")
        add("idle memory < 50 MB (200 handlers)", idle * 1.048576, 50, idle * 1.048576 < 50, "MB")
    aws = g(r, "aws", "build_s", "median")
    lint = g(r, "aws", "cfn_lint_s", "median")
    if aws is not None and lint:
        add("build --target aws < 50 ms (largest app under the cap)", aws * 1000, 50, aws * 1000 < 50, "ms")
        add("build --target aws < 1/20 of cfn-lint on its template", aws / lint, 1 / 20, aws / lint < 1 / 20, "x of cfn-lint")
    cold = g(r, "lambda", "cold_start_s", "median")
    if cold is not None:
        add("Lambda cold start < 30 ms (shop: process start to first `next`)", cold * 1000, 30, cold * 1000 < 30, "ms")
        z = g(r, "lambda", "zipped_bytes") / 1e6
        add("bootstrap < 10 MB zipped", z, 10, z < 10, "MB")
    return T


def fmt(x, nd=1):
    if x is None:
        return "—"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{nd}f}"


def spread(s, scale=1.0, nd=1):
    if not s:
        return "—", "—"
    return fmt(s["median"] * scale, nd), f"{fmt(s['min'] * scale, nd)}–{fmt(s['max'] * scale, nd)}"


def markdown(r):
    m = r["machine"]
    L = [f"# infc benchmarks — {r['when']}", "",
         f"infc `{r['infc']}` (commit {r['commit']}); {m.get('nproc')} cores, {m.get('cpu', '?')}, "
         f"{m.get('mem_gib', '?')} GiB; {m.get('platform')}; Python {m.get('python')}. "
         f"Load average {m['loadavg_start'][0]:.2f} at the start, {m['loadavg_end'][0]:.2f} at the end; "
         f"{m['compilers_running_at_start']} compiler processes running at the start. Total {r['total_s']:.0f} s."
         + (" **Quick mode: single short runs, not representative.**" if r.get("quick") else ""), "",
         "Median of the runs after a warm-up; spread is min–max.", ""]
    c = r.get("compiler")
    if c:
        L += ["## Compiler (whole process)", "",
              "| app | lines | KB | check ms | spread | check MiB | build ms | spread | build MiB | check lines/s | check MB/s | python3 ast.parse process ms | ast.parse alone ms |",
              "|---|---:|---:|---:|---|---:|---:|---|---:|---:|---:|---:|---:|"]
        for n in SIZES:
            x = c.get(n) or c.get(str(n))
            if not x:
                continue
            cm, cs = spread(x["check_s"], 1000)
            bm, bs = spread(x["build_s"], 1000)
            L.append(f"| {n} handlers | {x['lines']:,} | {x['bytes'] // 1024:,} | {cm} | {cs} | {fmt(x['check_rss_mib']['median'])} | "
                     f"{bm} | {bs} | {fmt(x['build_rss_mib']['median'])} | {fmt(x['check_lines_per_s'])} | "
                     f"{fmt(x['check_mb_per_s'])} | {fmt(x['python_process_s']['median'] * 1000)} | "
                     f"{fmt(x['python_ast_parse_s']['median'] * 1000)} |")
        L += ["", f"Growth of check time per line: 200k vs 2k lines {c['growth_2k_to_200k']:.2f}×, "
              f"200k vs 20k {c['growth_20k_to_200k']:.2f}× (1.00 = linear; the 2k figure includes process start-up).",
              "The Python files have the same size in bytes as the .inf files (fewer, longer lines).", ""]
    lsp = lsp_numbers(r.get("lsp"))
    if lsp:
        d = r["lsp"].get("didchange_to_diagnostics_default_debounce_ms") or {}
        full = r["lsp"].get("didchange_to_diagnostics_full_compile_ms") or {}
        L += ["## Language server", "",
              f"didChange → publishDiagnostics on a {r['lsp'].get('file_lines', 2000):,}-line file over "
              f"{r['lsp']['didchange_to_diagnostics_ms'].get('samples', '?')} edits inside handler bodies (patched), "
              f"debounce off: median {fmt(lsp[0], 2)} ms, p95 {fmt(lsp[1], 2)} ms; with the default debounce (what an editor "
              f"sees): median {fmt(d.get('median'), 2)} ms, p95 {fmt(d.get('p95'), 2)} ms. Edits in route headers (compiled in "
              f"full), debounce off: median {fmt(full.get('median'), 2)} ms, p95 {fmt(full.get('p95'), 2)} ms. "
              f"Server RSS after open {fmt(r['lsp'].get('memory_after_open_mb'))} MB, after 1,000 edits {fmt(lsp[2])} MB.", ""]
    h = r.get("http")
    if h:
        L += ["## Runtime HTTP (wrk -t2 -c64, keep-alive, loopback)", "",
              "| server | route | req/s | spread | p50 ms | p99 ms | non-2xx |", "|---|---|---:|---|---:|---:|---:|"]
        for key, srv, route in (("infc_trivial", "infc run", "GET /hello → {ok:true}"),
                                ("infc_table", "infc run", "GET /items/1 (table get)"),
                                ("nginx_static", "nginx", "static JSON body"),
                                ("flask_trivial", "Flask (Werkzeug, threaded)", "GET /hello"),
                                ("flask_table", "Flask (Werkzeug, threaded)", "GET /items/1 (sqlite get)")):
            x = h.get(key)
            if x:
                rm, rs = spread(x["rps"], 1, 0)
                L.append(f"| {srv} | {route} | {rm} | {rs} | {fmt(x['p50_ms']['median'], 2)} | "
                         f"{fmt(x['p99_ms']['median'], 2)} | {x['non2xx']} |")
        L += ["", f"infc RSS: idle {fmt(h.get('infc_idle_rss_mib'))} MiB, peak under load "
              f"{fmt(g(h, 'infc_trivial', 'rss_peak_mib'))} MiB (trivial) / {fmt(g(h, 'infc_table', 'rss_peak_mib'))} MiB (table).", ""]
    q = r.get("queues")
    if q:
        L += ["## Queues (durable async → consumer, end to end)", "", "| system | msgs/s | spread | note |", "|---|---:|---|---|"]
        for key, name in (("consumers_1", "infc, 1 consumer (limit 1)"), ("consumers_8", "infc, 8 consumers (limit 8)")):
            x = q.get(key)
            if x:
                mm, ms = spread(x["msgs_per_s"], 1, 0)
                L.append(f"| {name} | {mm} | {ms} | {x['messages']:,} messages from one request; enqueue alone "
                         f"{fmt(x['enqueue_per_s']['median'])}/s |")
        x = q.get("moto_sqs")
        if x:
            mm, ms = spread(x["msgs_per_s"], 1, 0)
            L.append(f"| moto SQS (boto3 send/receive/delete loop) | {mm} | {ms} | {x['messages']} messages |")
        L.append("")
    w = r.get("workflows")
    if w:
        L += ["## Workflows", ""]
        if w.get("five_step_per_s"):
            mm, ms = spread(w["five_step_per_s"], 1, 0)
            L.append(f"- 5-step workflow (5 task steps and a 1 ms sleep), started and completed: **{mm}/s** ({ms}), "
                     f"{w['five_step_count']} per run.")
        if w.get("resume"):
            x = w["resume"]
            L.append(f"- Resume after a restart: {x['sleeping_at_stop']} of {x['workflows']} workflows were sleeping at the stop; "
                     f"all {x['workflows']} completed **{x['seconds_from_start'] * 1000:,.0f} ms** after `infc run` started "
                     f"(first answer after {x['startup_s'] * 1000:.0f} ms).")
        L.append("")
    s = r.get("startup")
    if s:
        mm, ms = spread(s["first_answer_s"], 1000, 0)
        L += ["## Startup", "", f"`infc run` of the 200-handler build (fresh state) to the first answered request: "
              f"**{mm} ms** ({ms}); idle RSS {fmt(s['idle_rss_mib_200_handlers'])} MiB.", ""]
    aws = r.get("aws")
    if aws and aws.get("cfn_lint_s"):
        bm, bs = spread(aws["build_s"], 1000)
        lm, ls = spread(aws["cfn_lint_s"], 1000, 0)
        L += ["## AWS target (whole process)", "",
              "| app | resources | `infc build --target aws` ms | spread | cfn-lint on the same template ms | spread | ratio |",
              "|---|---:|---:|---|---:|---|---:|",
              f"| {aws['units']} generated units (largest under the cap) | {aws['resources']} | {bm} | {bs} | {lm} | {ls} | "
              f"1/{aws['cfn_lint_s']['median'] / aws['build_s']['median']:.0f} |", ""]
    lam = r.get("lambda")
    if lam:
        cm, cs = spread(lam["cold_start_s"], 1000)
        wm, ws = spread(lam["warm_route_s"], 1e6, 0)
        lm, ls = spread(lam["local_route_s"], 1e6, 0)
        L += ["## Lambda bootstrap (`infc-lambda`, static)", "",
              "| measure | median | spread |", "|---|---:|---|",
              f"| cold start, shop: process start → first `next` | {cm} ms | {cs} |",
              f"| warm trivial route through the Runtime API on loopback (per request, {lam['requests']} in a row) | {wm} µs | {ws} |",
              f"| the same route on `infc run` (keep-alive HTTP, per request) | {lm} µs | {ls} |",
              f"| binary | {lam['binary_bytes'] / 1e6:.1f} MB | the shop's package (`infc package`) {lam['zipped_bytes'] / 1e6:.1f} MB |", ""]
    L += ["## Targets (issue 7)", "", "| target | measured | met |", "|---|---:|---|"]
    for t in r["targets"]:
        L.append(f"| {t['target']} | {fmt(t['value'], 2)} {t['unit']} | {'yes' if t['met'] else '**no**'} |")
    if r["notes"]:
        L += ["", "## Notes", ""] + [f"- {n}" for n in r["notes"]]
    return "\n".join(L) + "\n"


if __name__ == "__main__":
    main()
