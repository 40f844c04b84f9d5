#!/usr/bin/env python3
"""PyTorch side of bench/embed: Hugging Face Dinov2Model on CPU, float32.

Reads requests on stdin, one per line: "MODEL_DIR SIZE BATCH THREADS SECONDS",
and answers each with one line: "ms_per_image", measured as the C side is
(one warm-up batch, then batches until SECONDS have passed, at least 3; the
median batch time divided by the batch). Loaded models are kept between
requests. Run by bench/embed; needs torch and transformers (see
tools/hf_reference.py for how to install them).
"""
import ctypes
import statistics
import sys
import time

import torch
from transformers import Dinov2Model

models = {}


def blas_thread_setters():
    """Debian's torch does its GEMMs in the system BLAS (OpenBLAS through
    libblas.so.3), whose own thread pool torch.set_num_threads() does not
    touch: left alone, "1 thread" torch runs its GEMMs on every core. Find
    the BLAS libraries mapped into this process and return their
    openblas_set_num_threads, so that both sides use the same cores."""
    setters, seen = [], set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if ("blas" in path or "lapack" in path) and path.startswith("/") and path not in seen:
                seen.add(path)
                try:
                    setters.append(ctypes.CDLL(path).openblas_set_num_threads)
                except (OSError, AttributeError):
                    pass
    return setters


def measure(model_dir, size, batch, threads, seconds):
    torch.set_num_threads(threads)
    for set_blas_threads in blas_thread_setters():
        set_blas_threads(threads)
    if model_dir not in models:
        models[model_dir] = Dinov2Model.from_pretrained(model_dir).eval()
    model = models[model_dir]
    x = torch.rand(batch, 3, size, size) * 4 - 2
    times = []
    with torch.inference_mode():
        model(pixel_values=x)  # warm-up
        start = time.perf_counter()
        while len(times) < 3 or time.perf_counter() - start < seconds:
            t = time.perf_counter()
            out = model(pixel_values=x).last_hidden_state[:, 0]
            torch.nn.functional.normalize(out, dim=-1)
            times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000.0 / batch


def main():
    print("ready", flush=True)
    for line in sys.stdin:
        parts = line.split()
        if len(parts) != 5:
            print("error", flush=True)
            continue
        ms = measure(parts[0], int(parts[1]), int(parts[2]), int(parts[3]), float(parts[4]))
        print(f"{ms:.3f}", flush=True)


if __name__ == "__main__":
    main()
