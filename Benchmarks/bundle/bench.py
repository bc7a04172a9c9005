#!/usr/bin/env python3
"""Times `amanat seal` / `amanat open` against the stock `age -r` / `age -d` on the same files, in the same run.

Usage: bench.py AMANAT_BINARY WORKDIR [--sizes-gib 1,4]

Everything lives in WORKDIR (use /dev/shm so the disk does not dominate). Key protection is the default
(scrypt N=2^17): unlocking the keys is a fixed cost per command, measured with a 1-byte file and reported
separately; the ratios compare what remains.
"""
import os
import re
import resource
import shutil
import subprocess
import sys
import time

PASS = "benchmark passphrase, synthetic only"


def run(cmd, env=None, cwd=None):
    """Runs cmd; returns (seconds, peak RSS in MiB of that child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    # A fresh python wrapper per run so ru_maxrss is that child's own peak, not a running maximum.
    wrapper = [sys.executable, "-c",
               "import resource,subprocess,sys; r=subprocess.run(sys.argv[1:]);"
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(r.returncode)"]
    p = subprocess.run(wrapper + cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    peak_kib = int(p.stderr.strip().splitlines()[-1])
    del before
    return seconds, peak_kib / 1024


def best(n, cmd, env=None, cwd=None, cleanup=None):
    times, peaks = [], []
    for _ in range(n):
        if cleanup:
            cleanup()
        s, m = run(cmd, env, cwd)
        times.append(s)
        peaks.append(m)
    return min(times), max(peaks)


def make_file(path, size):
    chunk = os.urandom(1 << 20)
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(left, len(chunk))
            f.write(chunk[:n])
            left -= n


def openssl_speed(alg_args):
    out = subprocess.run(["openssl", "speed", "-seconds", "2", "-bytes", "65536"] + alg_args,
                         capture_output=True, text=True).stdout
    line = [l for l in out.splitlines() if l.strip() and l.split()[0] in ("ChaCha20-Poly1305", "sha256")]
    if not line:
        return None
    value = line[-1].split()[-1]
    return float(value.rstrip("k")) * 1000 / 1e6  # MB/s


def main():
    amanat, work = sys.argv[1], sys.argv[2]
    sizes = [1, 4]
    if "--sizes-gib" in sys.argv:
        sizes = [int(x) for x in sys.argv[sys.argv.index("--sizes-gib") + 1].split(",")]
    os.makedirs(work, exist_ok=True)
    env = dict(os.environ, AMANAT_PASSPHRASE=PASS)
    a, b = os.path.join(work, "a"), os.path.join(work, "b")
    for d in (a, b):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    subprocess.run([amanat, "init", "--org", "Bench Sender (synthetic)"], cwd=a, env=env, check=True, capture_output=True)
    subprocess.run([amanat, "init", "--org", "Bench Receiver (synthetic)"], cwd=b, env=env, check=True, capture_output=True)
    subprocess.run([amanat, "identity", "export", "-o", "../b.json"], cwd=b, env=env, check=True, capture_output=True)
    subprocess.run([amanat, "identity", "export", "-o", "../a.json"], cwd=a, env=env, check=True, capture_output=True)
    subprocess.run([amanat, "trust", "add", "../b.json", "--name", "b"], cwd=a, env=env, check=True, capture_output=True)
    subprocess.run([amanat, "trust", "add", "../a.json", "--name", "a"], cwd=b, env=env, check=True, capture_output=True)
    subprocess.run([amanat, "identity", "export", "--age", "-o", "../b.agekey"], cwd=b, env=env, check=True, capture_output=True)
    recipient = re.search(r"age1[0-9a-z]+", open(os.path.join(work, "b.json")).read()).group(0)
    agekey = os.path.join(work, "b.agekey")

    tiny = os.path.join(work, "tiny.bin")
    make_file(tiny, 1)
    bundle_tiny = os.path.join(work, "tiny.amanat")

    def rm(*paths):
        def f():
            for p in paths:
                if os.path.isdir(p):
                    shutil.rmtree(p)
                elif os.path.exists(p):
                    os.unlink(p)
        return f

    seal_tiny, seal_tiny_mem = best(3, [amanat, "seal", "-r", "b", "-o", bundle_tiny, tiny], env, a, rm(bundle_tiny))
    out_tiny = os.path.join(work, "out-tiny")
    open_tiny, open_tiny_mem = best(3, [amanat, "open", bundle_tiny, "-o", out_tiny], env, b, rm(out_tiny))

    chacha = openssl_speed(["-evp", "chacha20-poly1305"])
    sha = openssl_speed(["-evp", "sha256"])
    print(f"machine: {os.cpu_count()} cores; OpenSSL limits (one core): ChaCha20-Poly1305 {chacha:.0f} MB/s, SHA-256 {sha:.0f} MB/s")
    print(f"fixed cost (1-byte file, includes scrypt N=2^17 unlock): seal {seal_tiny:.3f} s ({seal_tiny_mem:.0f} MiB peak), "
          f"open {open_tiny:.3f} s ({open_tiny_mem:.0f} MiB peak)")

    for gib in sizes:
        size = gib << 30
        data = os.path.join(work, f"data-{gib}g.bin")
        make_file(data, size)
        bundle = os.path.join(work, f"data-{gib}g.amanat")
        aged = os.path.join(work, f"data-{gib}g.age")
        out = os.path.join(work, f"out-{gib}g")
        plain = os.path.join(work, f"plain-{gib}g.bin")
        reps = 3 if gib == 1 else 2
        # Interleave the tools (each round: amanat seal+open, then age -r/-d) so neither always runs first on a
        # cold /dev/shm, and keep at most the data and two outputs in RAM at once.
        results = {"seal": [], "open": [], "age_r": [], "age_d": []}
        for _ in range(reps):
            rm(bundle, out)()
            results["seal"].append(run([amanat, "seal", "-r", "b", "-o", bundle, data], env, a))
            results["open"].append(run([amanat, "open", bundle, "-o", out], env, b))
            rm(bundle, out)()
            rm(aged, plain)()
            results["age_r"].append(run(["age", "-r", recipient, "-o", aged, data]))
            results["age_d"].append(run(["age", "-d", "-i", agekey, "-o", plain, aged]))
            rm(aged, plain)()
        seal_t, seal_m = min(t for t, _ in results["seal"]), max(m for _, m in results["seal"])
        open_t, open_m = min(t for t, _ in results["open"]), max(m for _, m in results["open"])
        age_r_t, age_r_m = min(t for t, _ in results["age_r"]), max(m for _, m in results["age_r"])
        age_d_t, age_d_m = min(t for t, _ in results["age_d"]), max(m for _, m in results["age_d"])
        mb = size / 1e6
        seal_net = seal_t - seal_tiny
        open_net = open_t - open_tiny
        print(f"\n{gib} GiB attachment (best of {reps}):")
        print(f"  amanat seal   {seal_t:7.2f} s  ({mb / seal_t:6.0f} MB/s)  net of unlock {seal_net:6.2f} s  peak {seal_m:5.0f} MiB "
              f"(+{seal_m - seal_tiny_mem:.0f} over 1-byte run)")
        print(f"  age -r        {age_r_t:7.2f} s  ({mb / age_r_t:6.0f} MB/s)  peak {age_r_m:5.0f} MiB")
        print(f"  amanat open   {open_t:7.2f} s  ({mb / open_t:6.0f} MB/s)  net of unlock {open_net:6.2f} s  peak {open_m:5.0f} MiB "
              f"(+{open_m - open_tiny_mem:.0f} over 1-byte run)")
        print(f"  age -d        {age_d_t:7.2f} s  ({mb / age_d_t:6.0f} MB/s)  peak {age_d_m:5.0f} MiB")
        print(f"  ratio seal/age-r (net) {seal_net / age_r_t:.2f}  (target <= 1.0)")
        print(f"  ratio open/age-d (net) {open_net / age_d_t:.2f}  (target <= 0.7)")
        rm(data, bundle, aged, out, plain)()


if __name__ == "__main__":
    main()
