"""seed_milvus.py - the seed system's side of the Milvus compatibility tests,
through pymilvus (gRPC), as the Python service did it.

    python seed_milvus.py URI create NAME DIM N   a collection with the seed's
        design_patents_full schema (field for field; IVF_FLAT nlist 128,
        COSINE), N rows with deterministic unit vectors, flushed and loaded;
        prints the rows as JSON (one per line, without vectors)
    python seed_milvus.py URI create-images NAME DIM N   the seed's other
        collection, patent_images (SEED-API.md: no patent fields), N rows
    python seed_milvus.py URI read NAME FIELD...   every row of a collection
        (as dinoseek wrote it) with those fields, as JSON lines, sorted by id
    python seed_milvus.py URI search NAME DIM SEED  the seed's search (nprobe 16)
        for the vector made from SEED; prints the hits' patent_id in order

Run with the venv's python (tests/peers/peers.py python).
"""
import json
import math
import random
import sys

from pymilvus import Collection, CollectionSchema, DataType, FieldSchema, connections, utility


def vector(seed, dim):
    r = random.Random(seed)
    v = [r.gauss(0, 1) for _ in range(dim)]
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v]


def seed_schema(dim):
    f = [
        FieldSchema("id", DataType.INT64, is_primary=True, auto_id=True),
        FieldSchema("patent_id", DataType.VARCHAR, max_length=64),
        FieldSchema("image_index", DataType.INT16),
        FieldSchema("file_name", DataType.VARCHAR, max_length=256),
        FieldSchema("file_path", DataType.VARCHAR, max_length=512),
        FieldSchema("embedding", DataType.FLOAT_VECTOR, dim=dim),
        FieldSchema("title", DataType.VARCHAR, max_length=500),
        FieldSchema("loc_class", DataType.VARCHAR, max_length=20),
        FieldSchema("loc_edition", DataType.VARCHAR, max_length=10),
        FieldSchema("pub_date", DataType.INT64),
        FieldSchema("filing_date", DataType.INT64),
        FieldSchema("grant_term", DataType.INT16),
        FieldSchema("applicant_name", DataType.VARCHAR, max_length=256),
        FieldSchema("applicant_country", DataType.VARCHAR, max_length=10),
        FieldSchema("inventor_names", DataType.VARCHAR, max_length=500),
        FieldSchema("assignee_name", DataType.VARCHAR, max_length=256),
        FieldSchema("claim_text", DataType.VARCHAR, max_length=500),
        FieldSchema("image_count", DataType.INT16),
        FieldSchema("created_at", DataType.INT64),
    ]
    return CollectionSchema(f, description="design patents (seed schema)")


def images_schema(dim):
    f = [
        FieldSchema("id", DataType.INT64, is_primary=True, auto_id=True),
        FieldSchema("file_name", DataType.VARCHAR, max_length=256),
        FieldSchema("patent_id", DataType.VARCHAR, max_length=64),
        FieldSchema("page_num", DataType.VARCHAR, max_length=16),
        FieldSchema("file_path", DataType.VARCHAR, max_length=512),
        FieldSchema("embedding", DataType.FLOAT_VECTOR, dim=dim),
        FieldSchema("created_at", DataType.INT64),
    ]
    return CollectionSchema(f, description="patent images (seed schema)")


def create_images(name, dim, n):
    if utility.has_collection(name):
        utility.drop_collection(name)
    c = Collection(name, images_schema(dim))
    rows = []
    for i in range(n):
        pid = f"D{1200000 + i // 3:07d}"
        page = f"D{i % 3 + 1:05d}"
        rows.append({"file_name": f"US{pid}-20251230-{page}.TIF", "patent_id": pid,
                     "page_num": page, "file_path": f"design_patents/{pid}/{page}.TIF",
                     "embedding": vector(i, dim), "created_at": 1767000000})
    c.insert(rows)
    c.flush()
    c.create_index("embedding", {"index_type": "IVF_FLAT", "metric_type": "COSINE", "params": {"nlist": 128}})
    c.load()


def create(name, dim, n):
    if utility.has_collection(name):
        utility.drop_collection(name)
    c = Collection(name, seed_schema(dim))
    rows = []
    for i in range(n):
        pid = f"D{1100000 + i // 3:07d}"
        rows.append({
            "patent_id": pid, "image_index": i % 3,
            "file_name": f"US{pid}-20251230-D{i % 3 + 1:05d}.TIF",
            "file_path": f"http://minio:9000/design-patents/design_patents/{pid}/US{pid}-20251230-D{i % 3 + 1:05d}.TIF",
            "embedding": vector(i, dim),
            "title": ["Chair", "Lamp \"Arc\" shade", "Bottle", "Café table"][i % 4],
            "loc_class": ["06-01", "26-05", "09-01", "06-03"][i % 4], "loc_edition": "15",
            "pub_date": 20251230 - (i % 5) * 100, "filing_date": 20230101 + i % 7,
            "grant_term": 15, "applicant_name": ["Acme Tools Inc", "Lumen GmbH", "Glassworks"][i % 3],
            "applicant_country": ["US", "DE", "JP"][i % 3], "inventor_names": "Ada Lovelace, Alan Turing",
            "assignee_name": ["Acme Corp", "Lumen AG", ""][i % 3], "claim_text": "The ornamental design.",
            "image_count": 3, "created_at": 1767000000,
        })
    c.insert([{k: v for k, v in r.items()} for r in rows])
    c.flush()
    c.create_index("embedding", {"index_type": "IVF_FLAT", "metric_type": "COSINE", "params": {"nlist": 128}})
    c.load()
    for r in rows:
        r = dict(r)
        del r["embedding"]
        print(json.dumps(r))


def read(name, fields):
    c = Collection(name)
    c.load()
    rows = c.query(expr="id > 0", output_fields=fields, limit=16384)
    for r in sorted(rows, key=lambda r: r["id"]):
        print(json.dumps({k: r.get(k) for k in ["id"] + fields}))


def search(name, dim, seed):
    c = Collection(name)
    c.load()
    res = c.search([vector(seed, dim)], "embedding", {"metric_type": "COSINE", "params": {"nprobe": 16}},
                   limit=5, output_fields=["patent_id"])
    for hit in res[0]:
        print(hit.entity.get("patent_id"), f"{hit.distance:.6f}")


def main():
    uri, cmd = sys.argv[1], sys.argv[2]
    connections.connect(uri=uri)
    if cmd == "create":
        create(sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "create-images":
        create_images(sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif cmd == "read":
        read(sys.argv[3], sys.argv[4:])
    elif cmd == "search":
        search(sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
