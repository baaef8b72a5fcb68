#!/usr/bin/env python3
"""Hostile-input costs of one broker build (issue 10): CPU time of one request with a 40,000-entry methods list,
p50/p99 of a small request alone and while three clients post 0.7 MB bodies, and of a small request when a tenant
offers the capability with very large limitations.

    python3 scripts/bench-input.py [path/to/finales.dll] [corpus dir]

Starts its own broker on a fresh SQLite file in a temp directory, deleted at the end (CPU time read from
/proc/<pid>/stat). The corpus defaults to the repository's vendored data/finales2-schemas."""
import json, multiprocessing, os, shutil, subprocess, sys, tempfile, time, urllib.error, urllib.parse, urllib.request, socket, glob

here = os.path.dirname(os.path.abspath(__file__))
dll = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "artifacts", "bin", "Finales.Cli", "release", "finales.dll")
corpus = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "data", "finales2-schemas")

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

port = free_port()
url = f"http://127.0.0.1:{port}"
tmp = tempfile.mkdtemp(prefix="bench-input-")
env = dict(os.environ, FINALES_ADMIN_PASSWORD="bench-admin")
broker = subprocess.Popen(["dotnet", dll, "serve", "--db", os.path.join(tmp, "b.db"), "--urls", url, "--quiet"],
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def call(method, path, body=None, token=None, form=None, timeout=120):
    data = None
    headers = {}
    if form is not None:
        data = urllib.parse.urlencode(form).encode(); headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = body if isinstance(body, bytes) else body.encode(); headers["Content-Type"] = "application/json"
    if token: headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(url + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r: return r.status, r.read()
    except urllib.error.HTTPError as e: return e.code, e.read()

def cpu_seconds():
    with open(f"/proc/{broker.pid}/stat") as f: fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def pct(xs, p):
    xs = sorted(xs); return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]

try:
    for _ in range(600):
        try:
            if call("GET", "/healthz")[0] == 200: break
        except Exception: time.sleep(0.1)
    admin = json.loads(call("POST", "/user_management/authenticate", form={"username": "admin", "password": "bench-admin"})[1])["access_token"]
    for f in sorted(glob.glob(os.path.join(corpus, "serialized_quantities", "**", "*.json"), recursive=True)):
        call("POST", "/admin/capabilities", open(f).read(), admin)
    lim = open(os.path.join(corpus, "examples", "limitations", "conductivity", "polynomial_interpolation.json")).read()
    # Registered first, so its limitations are looked at before tenant a's.
    big_tenant = json.loads(call("POST", "/admin/tenants", json.dumps({"name": "big", "contact_person": "x", "limitations": []}), admin)[1])
    tenant = json.loads(call("POST", "/admin/tenants", json.dumps({"name": "a", "contact_person": "x", "limitations": json.loads(lim)}), admin)[1])
    call("POST", "/admin/users", json.dumps({"username": "alice", "password": "alice-pw", "roles": ["tenant"], "tenants": [tenant, big_tenant]}), admin)
    token = json.loads(call("POST", "/user_management/authenticate", form={"username": "alice", "password": "alice-pw"})[1])["access_token"]
    request = json.load(open(os.path.join(corpus, "examples", "requests", "conductivity", "polynomial_interpolation.json")))
    request["tenant_uuid"] = tenant
    small = json.dumps(request)

    def latencies(n):
        out = []
        for _ in range(n):
            t = time.perf_counter(); s, b = call("POST", "/requests/", small, token); out.append((time.perf_counter() - t) * 1000)
            assert s == 200, (s, b[:300])
        return out

    latencies(50)  # warm up
    alone = latencies(300)
    print(f"small request alone:               p50 {pct(alone, 50):7.1f} ms  p99 {pct(alone, 99):7.1f} ms")

    def methods_body(n):
        r = dict(request); r["methods"] = [f"method_number_{i:05d}" for i in range(n)]; return json.dumps(r).encode()

    body40k = methods_body(40000)
    c0 = cpu_seconds(); t0 = time.perf_counter()
    status, answer = call("POST", "/requests/", body40k, token, timeout=600)
    print(f"40,000 methods ({len(body40k) / 1e6:.2f} MB): HTTP {status}, {time.perf_counter() - t0:6.2f} s wall, "
          f"{cpu_seconds() - c0:6.2f} s broker CPU  {answer[:120]!r}")

    big = methods_body(30000)
    # Three other clients, each a process of its own (threads would share this interpreter's lock with the timing).
    stop = multiprocessing.Event()
    def hammer():
        while not stop.is_set(): call("POST", "/requests/", big, token, timeout=600)
    clients = [multiprocessing.Process(target=hammer, daemon=True) for _ in range(3)]
    for c in clients: c.start()
    time.sleep(0.5)
    loaded = latencies(300)
    stop.set()
    for c in clients: c.join(timeout=120)
    print(f"small request, 3 x {len(big) / 1e6:.2f} MB posts:  p50 {pct(loaded, 50):7.1f} ms  p99 {pct(loaded, 99):7.1f} ms")

    # A tenant offering the same capability with very large limitations (temperature alternatives that never admit
    # the request's 250, so every request walks all of them before tenant a admits it).
    for n in (4000, 40000):
        alternatives = [{"temperature": [{"min": 1000 + 2 * i, "max": 1001 + 2 * i}]} for i in range(n)]
        doc = json.dumps([{"quantity": "conductivity", "method": "polynomial_interpolation", "limitations": alternatives}])
        status, answer = call("PUT", f"/tenants/{big_tenant}/limitations", doc, token)
        if status != 200:
            print(f"limitations of {len(doc) / 1e3:.0f} KB ({n} alternatives): HTTP {status} {answer[:160]!r}")
            continue
        time.sleep(0.6)  # the catalog reloads within 250 ms
        with_big = latencies(200)
        print(f"small request, {len(doc) / 1e3:5.0f} KB limitations:  p50 {pct(with_big, 50):7.1f} ms  p99 {pct(with_big, 99):7.1f} ms")

    # Formulation matching: limitations listing many components, a request with many formulation rows of them.
    listed, rows = 1500, 700
    components = [{"chemical": {"SMILES": f"C{'C' * (i % 50)}O{i}", "InChIKey": f"KEY-{i:06d}"},
                   "fraction": [{"min": 0, "max": 1}], "fraction_type": "molPerMol"} for i in range(listed)]
    doc = json.dumps([{"quantity": "conductivity", "method": "polynomial_interpolation",
                       "limitations": {"formulation": [components], "temperature": [{"min": 243, "max": 333}]}}])
    status, answer = call("PUT", f"/tenants/{big_tenant}/limitations", doc, token)
    print(f"limitations listing {listed} components ({len(doc) / 1e3:.0f} KB): HTTP {status}")
    time.sleep(0.6)
    many = dict(request)
    many["parameters"] = {"polynomial_interpolation": {"temperature": 250, "formulation": [
        {"chemical": {"SMILES": f"C{'C' * (i % 50)}O{i}", "InChIKey": f"KEY-{i:06d}"}, "fraction": 1 / rows,
         "fraction_type": "molPerMol"} for i in range(0, 2 * rows, 2)]}}
    body = json.dumps(many)
    c0 = cpu_seconds(); t0 = time.perf_counter()
    status, answer = call("POST", "/requests/", body, token, timeout=600)
    print(f"request with {rows} formulation rows ({len(body) / 1e3:.0f} KB): HTTP {status}, "
          f"{time.perf_counter() - t0:6.2f} s wall, {cpu_seconds() - c0:6.2f} s broker CPU  {answer[:100]!r}")
finally:
    broker.kill(); broker.wait()
    shutil.rmtree(tmp, ignore_errors=True)
