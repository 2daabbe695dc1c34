"""(temporary) run one perf row against a HackOps server for long, report CPU split."""
import sys, time, threading, os
from contextlib import ExitStack
sys.argv = ["perf.py", "--rows", os.environ.get("ROW", "register"), "--rounds", "1", "--duration", os.environ.get("DUR", "30"), "--database", "hackops_bench_hold"]
sys.path.insert(0, "bench"); sys.path.insert(0, "/work/tools")
import perf, perf_seed, psutil
from common import admin_url, fresh_database, drop_database, hackops_env
opts = perf.options()
def snap(pid):
    out = {"server": 0.0, "postgres": 0.0}
    p = psutil.Process(pid)
    procs = [p] + p.children(recursive=True)
    for q in procs:
        t = q.cpu_times(); out["server"] += t.user + t.system
    for q in psutil.process_iter(["username"]):
        if q.info["username"] == "postgres":
            try:
                t = q.cpu_times(); out["postgres"] += t.user + t.system
            except Exception: pass
    return out
with ExitStack() as stack:
    admin = admin_url(stack)
    url = fresh_database(admin, opts.database)
    stack.callback(drop_database, admin, opts.database)
    seeded = perf_seed.seed(url, opts.scale)
    import psycopg
    if os.environ.get('PRESQL'):
        with psycopg.connect(url, autocommit=True) as c: c.execute(os.environ['PRESQL'])
    env = hackops_env(url, RUN_WORKER_IN_PROCESS="false", **dict(kv.split("=",1) for kv in os.environ.get("EXTRA","").split()))
    ours = stack.enter_context(perf.server("hackops", [*perf.HACKOPS_ARGS, "--backlog", "4096"], env, perf.free_port()))
    bare = stack.enter_context(perf.server("bare", [*perf.BARE_ARGS, "--backlog", "4096"], {"BENCH_DATABASE_URL": url}, perf.free_port()))
    plan = [r for r in perf.rows(ours, bare, seeded, opts) if r.key == opts.rows]
    row = plan[0]
    perf.probe(ours, row)
    pid = [c.pid for c in psutil.process_iter(["cmdline"]) if c.info["cmdline"] and f"--port" in c.info["cmdline"] and str(ours) in c.info["cmdline"]][0]
    perf.measure({row.key: ours}, row, opts, 2, keep=False)
    res = {}
    def sampler():
        time.sleep(opts.duration * 0.2); a = snap(pid); t0 = time.time()
        time.sleep(opts.duration * 0.6); b = snap(pid); dt = time.time() - t0
        res.update({k: round((b[k]-a[k])/dt*100, 1) for k in a})
    th = threading.Thread(target=sampler); th.start()
    perf.measure({row.key: ours}, row, opts, opts.duration, keep=True)
    th.join()
    r = row.results[0]
    print(f"{row.key}: {r.rps:.0f} rps p50 {r.p50:.1f} p99 {r.p99:.1f} errors {r.errors}; CPU% {res}")
    if os.environ.get('POSTSQL'):
        time.sleep(1)
        with psycopg.connect(url, autocommit=True) as c:
            for rec in c.execute(os.environ['POSTSQL']).fetchall(): print(rec)
    print(f"per request: server {res['server']*10/r.rps:.2f} ms, postgres {res['postgres']*10/r.rps:.2f} ms")
