"""milvus_load.py - the seed's side of bench/milvus, through pymilvus (gRPC),
as the Python service built and searched its collection.

    python milvus_load.py URI load NAME VECTORS.f32 DIM
        a collection with the seed's design_patents_full schema
        (tests/peers/seed_milvus.py), one row per vector of the file
        (float32, row-major), file_name "v<row>"; inserted in batches,
        flushed, indexed as the seed did (IVF_FLAT, nlist 128, COSINE) and
        loaded. Prints {"rows": N, "insert_s": ..., "index_s": ...}.
    python milvus_load.py URI search NAME QUERIES.f32 DIM K NPROBE
        the seed's search for each query, one at a time; prints
        {"ms": [per query], "hits": [[row, ...], ...]}.

Run with the venv's python (tests/peers/peers.py python).
"""
import json
import os
import sys
import time

import numpy as np
from pymilvus import Collection, connections, utility

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "peers"))
from seed_milvus import seed_schema  # noqa: E402  the one definition of the schema


def load(name, path, dim):
    v = np.fromfile(path, dtype=np.float32).reshape(-1, dim)
    if utility.has_collection(name):
        utility.drop_collection(name)
    c = Collection(name, seed_schema(dim))
    t0 = time.time()
    step = 5000
    for s in range(0, len(v), step):
        rows = []
        for i in range(s, min(s + step, len(v))):
            pid = f"D{2000000 + i // 4:07d}"
            rows.append({
                "patent_id": pid, "image_index": i % 4, "file_name": f"v{i}", "file_path": "",
                "embedding": v[i].tolist(), "title": "bench", "loc_class": f"{i % 32 + 1:02d}-01",
                "loc_edition": "15", "pub_date": 20250101 + i % 28, "filing_date": 20230101,
                "grant_term": 15, "applicant_name": "Bench", "applicant_country": "US",
                "inventor_names": "", "assignee_name": "", "claim_text": "", "image_count": 4,
                "created_at": 1767000000,
            })
        c.insert(rows)
    c.flush()
    t1 = time.time()
    c.create_index("embedding", {"index_type": "IVF_FLAT", "metric_type": "COSINE",
                                 "params": {"nlist": 128}})
    c.load()
    utility.wait_for_loading_complete(name)
    print(json.dumps({"rows": len(v), "insert_s": t1 - t0, "index_s": time.time() - t1}))


def search(name, path, dim, k, nprobe):
    q = np.fromfile(path, dtype=np.float32).reshape(-1, dim)
    c = Collection(name)
    c.load()
    ms, hits = [], []
    for v in q:
        t0 = time.perf_counter()
        res = c.search([v.tolist()], "embedding", {"metric_type": "COSINE",
                                                   "params": {"nprobe": nprobe}},
                       limit=k, output_fields=["file_name"])
        ms.append((time.perf_counter() - t0) * 1e3)
        hits.append([int(h.entity.get("file_name")[1:]) for h in res[0]])
    print(json.dumps({"ms": ms, "hits": hits}))


def main():
    uri, cmd = sys.argv[1], sys.argv[2]
    connections.connect(uri=uri)
    if cmd == "load":
        load(sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif cmd == "search":
        search(sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
