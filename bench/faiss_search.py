#!/usr/bin/env python3
"""faiss_search.py VECS QUERIES N Q DIM THREADS NLIST - the faiss-cpu side of
bench/search: the same float32 files, the same threads, one query at a time.

Prints lines `key value...` that bench/search reads back:
  flat P50_MS P99_MS
  flat_filtered P50_MS P99_MS        (IDSelectorBatch keeping 1%: every 100th id)
  ivf_train SECONDS
  ivf NPROBE P50_MS P99_MS RECALL10
"""
import sys
import time

import faiss
import numpy as np


def timed(fn, queries):
    ms = []
    for q in queries:
        t = time.perf_counter()
        fn(q[None, :])
        ms.append((time.perf_counter() - t) * 1e3)
    return np.percentile(ms, 50), np.percentile(ms, 99)


def main():
    vecs_path, q_path = sys.argv[1], sys.argv[2]
    n, nq, dim, threads, nlist = (int(x) for x in sys.argv[3:8])
    faiss.omp_set_num_threads(threads)
    x = np.fromfile(vecs_path, dtype=np.float32, count=n * dim).reshape(n, dim)
    qs = np.fromfile(q_path, dtype=np.float32, count=nq * dim).reshape(nq, dim)
    nflat = min(nq, 100 if n <= 200000 else 30)

    flat = faiss.IndexFlatIP(dim)
    flat.add(x)
    p50, p99 = timed(lambda q: flat.search(q, 10), qs[:nflat])
    print(f"flat {p50:.3f} {p99:.3f}", flush=True)

    sel = faiss.IDSelectorBatch(np.arange(0, n, 100, dtype=np.int64))
    params = faiss.SearchParameters(sel=sel)
    p50, p99 = timed(lambda q: flat.search(q, 10, params=params), qs[:nflat])
    print(f"flat_filtered {p50:.3f} {p99:.3f}", flush=True)

    _, truth = flat.search(qs, 10)
    quant = faiss.IndexFlatIP(dim)
    ivf = faiss.IndexIVFFlat(quant, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    t = time.perf_counter()
    ivf.train(x)
    ivf.add(x)
    print(f"ivf_train {time.perf_counter() - t:.3f}", flush=True)
    for nprobe in (8, 16, 32):
        ivf.nprobe = nprobe
        p50, p99 = timed(lambda q: ivf.search(q, 10), qs)
        _, got = ivf.search(qs, 10)
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, truth)])
        print(f"ivf {nprobe} {p50:.3f} {p99:.3f} {recall:.4f}", flush=True)


if __name__ == "__main__":
    main()
