#!/usr/bin/env python3
"""Python side of bench/import: an import written the way the seed system
did it (see /work/shared/SEED-API.md, "Import" and "Preprocessing and model").

    seed_import.py --model DIR --out DIR --threads T [--batch 32] ROOT

For every USD* folder under ROOT (sorted): parse its XML with xml.etree
(doc-number, title, Locarno class and the other patent fields, the
drawings/figure/img/@file list); for every figure: Pillow open, convert to
RGB, letterbox to 518x518 on white (Lanczos, int() truncation, pasted
centred), a 300x300 JPEG q85 thumbnail; then, in batches of 32, the Hugging
Face image processor of dinov2 (shortest edge 256 bicubic, centre crop 224,
rescale, normalise), Dinov2Model under torch.no_grad, the CLS token of
last_hidden_state L2-normalised, and the batch written: originals and
thumbnails as files (where the seed uploaded to MinIO), the rows in one
SQLite transaction (where the seed inserted into Milvus; same pragmas as
dinoseek's catalog: WAL, synchronous NORMAL).

Prints one JSON object on stdout: images, patents, seconds (from the first
folder to the last commit; the model is loaded before), images_per_s, the
time per stage in seconds: parse, decode (open + decode + letterbox +
thumbnail + image processor), embed, write; and cpu, the process's CPU
seconds over the same span.
"""
import argparse
import glob
import io
import json
import os
import sqlite3
import sys
import time
import xml.etree.ElementTree as ET

import torch
from PIL import Image
from transformers import BitImageProcessor, Dinov2Model

from torch_embed import blas_thread_setters

LETTERBOX = 518
THUMB = 300

SCHEMA = """
CREATE TABLE IF NOT EXISTS design_patents_full (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    patent_id TEXT, image_index INTEGER, file_name TEXT, file_path TEXT,
    embedding BLOB, title TEXT, loc_class TEXT, loc_edition TEXT,
    pub_date INTEGER, filing_date INTEGER, grant_term INTEGER,
    applicant_name TEXT, applicant_country TEXT, inventor_names TEXT,
    assignee_name TEXT, claim_text TEXT, image_count INTEGER, created_at INTEGER)
"""
COLUMNS = ("patent_id", "image_index", "file_name", "file_path", "embedding", "title",
           "loc_class", "loc_edition", "pub_date", "filing_date", "grant_term",
           "applicant_name", "applicant_country", "inventor_names", "assignee_name",
           "claim_text", "image_count", "created_at")


def text(node, path):
    found = node.find(path)
    if found is None:
        return ""
    return "".join(found.itertext()).strip()


def as_int(s):
    try:
        return int(s)
    except ValueError:
        return 0


def parse_patent(xml_path):
    """The seed's fields of one us-patent-grant, and its figures' files."""
    root = ET.parse(xml_path).getroot()
    bib = root.find("us-bibliographic-data-grant")
    if bib is None:
        return None
    loc = text(bib, "classification-locarno/main-classification")
    if len(loc) == 4 and loc.isdigit():
        loc = loc[:2] + "-" + loc[2:]
    applicant = bib.find("us-parties/us-applicants/us-applicant")
    applicant_name = applicant_country = ""
    if applicant is not None:
        book = applicant.find("addressbook")
        if book is not None:
            applicant_name = text(book, "orgname") or " ".join(
                filter(None, (text(book, "first-name"), text(book, "last-name"))))
            applicant_country = text(book, "address/country")
    inventors = []
    for inv in bib.findall("us-parties/inventors/inventor") + bib.findall("parties/inventors/inventor"):
        book = inv.find("addressbook")
        if book is not None:
            inventors.append(" ".join(filter(None, (text(book, "first-name"),
                                                    text(book, "last-name")))))
    claim = " ".join(" ".join("".join(c.itertext()).split()) for c in root.findall("claims/claim"))
    files = [img.get("file") for img in root.findall("drawings/figure/img") if img.get("file")]
    return {
        "patent_id": text(bib, "publication-reference/document-id/doc-number"),
        "title": text(bib, "invention-title")[:500],
        "loc_class": loc,
        "loc_edition": text(bib, "classification-locarno/edition"),
        "pub_date": as_int(text(bib, "publication-reference/document-id/date")),
        "filing_date": as_int(text(bib, "application-reference/document-id/date")),
        "grant_term": as_int(text(bib, "us-term-of-grant/length-of-grant")),
        "applicant_name": applicant_name[:256],
        "applicant_country": applicant_country,
        "inventor_names": ", ".join(inventors)[:500],
        "assignee_name": text(bib, "assignees/assignee/addressbook/orgname")[:256],
        "claim_text": claim[:500],
        "image_count": len(files),
        "files": files,
    }


def letterbox(img, side=LETTERBOX):
    """The seed's: longer side to `side` (int() truncation), Lanczos,
    pasted centred on white."""
    w, h = img.size
    scale = side / max(w, h)
    nw, nh = int(w * scale), int(h * scale)
    resized = img.resize((nw, nh), Image.LANCZOS)
    canvas = Image.new("RGB", (side, side), (255, 255, 255))
    canvas.paste(resized, ((side - nw) // 2, (side - nh) // 2))
    return canvas


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("root")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    for set_blas_threads in blas_thread_setters():
        set_blas_threads(args.threads)
    model = Dinov2Model.from_pretrained(args.model).eval()
    # dinov2's processor (BitImageProcessor), built from the model's
    # preprocessor_config.json: shortest edge 256 bicubic, crop 224,
    # rescale 1/255, ImageNet mean and std. No network.
    processor = BitImageProcessor.from_pretrained(args.model)

    os.makedirs(args.out, exist_ok=True)
    db = sqlite3.connect(os.path.join(args.out, "seed.db"))
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute(SCHEMA)
    insert = "INSERT INTO design_patents_full (%s) VALUES (%s)" % (
        ", ".join(COLUMNS), ", ".join("?" * len(COLUMNS)))

    t = {"parse": 0.0, "decode": 0.0, "embed": 0.0, "write": 0.0}
    pending = []   # (patent, index, path, letterboxed image, thumbnail jpeg bytes)
    images = patents = 0

    def flush():
        nonlocal images
        if not pending:
            return
        t0 = time.perf_counter()
        pixel_values = processor(images=[p[3] for p in pending], return_tensors="pt")["pixel_values"]
        t1 = time.perf_counter()
        with torch.no_grad():
            cls = model(pixel_values=pixel_values).last_hidden_state[:, 0]
            vecs = torch.nn.functional.normalize(cls, dim=-1).numpy()
        t2 = time.perf_counter()
        rows, now = [], int(time.time())
        for (patent, index, path, _, thumb), vec in zip(pending, vecs):
            name = os.path.basename(path)
            key = os.path.join(args.out, "originals", patent["patent_id"], name)
            os.makedirs(os.path.dirname(key), exist_ok=True)
            with open(path, "rb") as src, open(key, "wb") as dst:
                dst.write(src.read())
            tdir = os.path.join(args.out, "thumbnails")
            os.makedirs(tdir, exist_ok=True)
            with open(os.path.join(tdir, name + ".jpg"), "wb") as f:
                f.write(thumb)
            row = dict(patent, image_index=index, file_name=name, file_path=key,
                       embedding=vec.tobytes(), created_at=now)
            rows.append(tuple(row[c] for c in COLUMNS))
        with db:
            db.executemany(insert, rows)
        t3 = time.perf_counter()
        t["decode"] += t1 - t0
        t["embed"] += t2 - t1
        t["write"] += t3 - t2
        images += len(pending)
        pending.clear()

    start, cpu_start = time.perf_counter(), time.process_time()
    for folder in sorted(glob.glob(os.path.join(args.root, "USD*"))):
        if not os.path.isdir(folder):
            continue
        for xml_path in sorted(glob.glob(os.path.join(folder, "*.XML")) +
                               glob.glob(os.path.join(folder, "*.xml"))):
            t0 = time.perf_counter()
            patent = parse_patent(xml_path)
            t["parse"] += time.perf_counter() - t0
            if patent is None:
                continue
            patents += 1
            for index, file in enumerate(patent["files"]):
                path = os.path.join(folder, file)
                t0 = time.perf_counter()
                with Image.open(path) as im:
                    rgb = im.convert("RGB")
                boxed = letterbox(rgb)
                thumb = rgb.copy()
                thumb.thumbnail((THUMB, THUMB), Image.LANCZOS)
                buf = io.BytesIO()
                thumb.save(buf, "JPEG", quality=85)
                t["decode"] += time.perf_counter() - t0
                pending.append((patent, index, path, boxed, buf.getvalue()))
                if len(pending) == args.batch:
                    flush()
    flush()
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    db.close()
    json.dump({"images": images, "patents": patents, "seconds": seconds,
               "images_per_s": images / seconds if seconds > 0 else 0.0,
               "parse": t["parse"], "decode": t["decode"], "embed": t["embed"],
               "write": t["write"], "cpu": cpu, "threads": args.threads,
               "torch": torch.__version__}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
