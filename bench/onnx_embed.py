#!/usr/bin/env python3
"""ONNX Runtime and OpenVINO side of bench/embed: the same Hugging Face
Dinov2Model, exported to ONNX, on CPU.

Reads requests on stdin, one per line:

    ENGINE MODEL_DIR SIZE BATCH THREADS SECONDS REF

  ENGINE   ort      onnxruntime, CPUExecutionProvider, intra-op threads =
                    THREADS, inter-op 1, every graph optimisation;
           ov-f32   OpenVINO CPU, INFERENCE_NUM_THREADS = THREADS,
                    PERFORMANCE_HINT LATENCY, INFERENCE_PRECISION_HINT f32;
           ov       the same without a precision hint: OpenVINO's default,
                    bf16 where the CPU computes in bf16 natively (AMX, and
                    AVX512_BF16 too: an AMD EPYC with AVX512_BF16 and no AMX
                    ran bf16), f32 elsewhere;
  REF      a file of BATCH x hidden float32 (native byte order): dinoseek's
           f32 CLS vectors for the same input, or "-" for none.

and answers each with one line, "MS COS PREC":

  MS       ms per image, measured as the C side does (one warm-up batch, then
           batches until SECONDS have passed, at least 3; the median batch
           time divided by the batch);
  COS      the worst cosine, over the batch, between the engine's L2-normalised
           CLS vector (last_hidden_state[:, 0]) and REF's row ("nan" without
           REF);
  PREC     the precision the engine ran in (OpenVINO's compiled
           INFERENCE_PRECISION_HINT; f32 for ort).

An engine that cannot run answers "nan nan -" and says why on stderr, once.
The input is C's (bench/embed.c, c_ms): splitmix64 from seed 1, uniform * 4 - 2,
BATCH x 3 x SIZE x SIZE in C order, made by tools/hf_reference.py's copy of
the generator. The cosine checks the export and the engine, not just speed.

The ONNX file is exported once per (MODEL_DIR, SIZE), with a dynamic batch
axis, to MODEL_DIR/onnx/model-SIZE.onnx, and again when the weights are newer.
Each session is then fixed to the request's batch (ORT's free-dimension
override, OpenVINO's reshape), as a deployment would. The export runs in a
child process (this script with --export), so that torch and its OpenMP
threads never share this process, and its cores, with the engines timed.
Needs onnxruntime, openvino, onnx, torch and transformers: `make venv`.
"""
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from hf_reference import splitmix_uniform  # noqa: E402  (the C side's prng)

ENGINES = ("ort", "ov-f32", "ov")
OPSET = 17  # the newest Debian's torch 1.13 writes: LayerNormalization is one op


def export(model_dir, size, path):
    """Write Dinov2Model's CLS output (last_hidden_state[:, 0], before the
    normalisation, which is timed outside) as ONNX at `path`."""
    import warnings

    import torch
    from transformers import Dinov2Model

    # The tracer warns that shapes become constants: they are meant to (one
    # file per size, only the batch stays free).
    warnings.filterwarnings("ignore")

    class Cls(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, pixel_values):
            return self.model(pixel_values=pixel_values).last_hidden_state[:, 0]

    # eager attention: torch 1.13 has no scaled_dot_product_attention.
    model = Dinov2Model.from_pretrained(model_dir, attn_implementation="eager").eval()
    x = torch.zeros(1, 3, size, size)
    tmp = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(Cls(model), (x,), tmp, input_names=["pixel_values"],
                          output_names=["cls"], opset_version=OPSET,
                          dynamic_axes={"pixel_values": {0: "batch"}, "cls": {0: "batch"}})
    os.replace(tmp, path)  # a killed export leaves no half file behind


def onnx_path(model_dir, size):
    path = os.path.join(model_dir, "onnx", f"model-{size}.onnx")
    weights = os.path.join(model_dir, "model.safetensors")
    if os.path.exists(path) and os.path.getmtime(path) >= os.path.getmtime(weights):
        return path
    os.makedirs(os.path.dirname(path), exist_ok=True)
    print(f"onnx_embed: exporting {model_dir} at {size} to {path}", file=sys.stderr, flush=True)
    subprocess.run([sys.executable, os.path.abspath(__file__), "--export", model_dir, str(size),
                    path], check=True, stdout=sys.stderr)
    return path


def ort_runner(path, batch, threads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.add_free_dimension_override_by_name("batch", batch)
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return (lambda x: sess.run(None, {"pixel_values": x})[0]), "f32"


ov_core = None


def ov_runner(path, batch, size, threads, f32):
    global ov_core
    import openvino as ov
    if ov_core is None:
        ov_core = ov.Core()
    model = ov_core.read_model(path)
    model.reshape({model.input(0): ov.PartialShape([batch, 3, size, size])})
    config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
    if f32:
        config["INFERENCE_PRECISION_HINT"] = "f32"
    compiled = ov_core.compile_model(model, "CPU", config)
    request = compiled.create_infer_request()
    prec = compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()
    return (lambda x: request.infer({0: x})[0]), prec


def measure(engine, model_dir, size, batch, threads, seconds, ref):
    path = onnx_path(model_dir, size)
    if engine == "ort":
        run, prec = ort_runner(path, batch, threads)
    else:
        run, prec = ov_runner(path, batch, size, threads, engine == "ov-f32")
    x = (splitmix_uniform(1, batch * 3 * size * size) * np.float32(4.0)
         - np.float32(2.0)).reshape(batch, 3, size, size)
    run(x)  # warm-up
    times = []
    start = time.perf_counter()
    while len(times) < 3 or time.perf_counter() - start < seconds:
        t = time.perf_counter()
        out = np.asarray(run(x), dtype=np.float32)
        out = out / np.linalg.norm(out, axis=-1, keepdims=True)
        times.append(time.perf_counter() - t)
    cos = float("nan")
    if ref != "-":
        r = np.fromfile(ref, dtype=np.float32).reshape(batch, -1).astype(np.float64)
        o = out.astype(np.float64)
        cos = float(np.min(np.sum(r * o, axis=1)
                           / (np.linalg.norm(r, axis=1) * np.linalg.norm(o, axis=1))))
    return statistics.median(times) * 1000.0 / batch, cos, prec


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--export":
        export(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return
    import importlib.util
    missing = [m for m in ("onnx", "onnxruntime", "openvino", "torch", "transformers")
               if importlib.util.find_spec(m) is None]
    if missing:
        # no "ready": bench/embed says the comparison is off and carries on
        print("onnx_embed: missing " + ", ".join(missing), file=sys.stderr, flush=True)
        return
    print("ready", flush=True)
    failed = set()
    for line in sys.stdin:
        parts = line.split()
        if len(parts) != 7 or parts[0] not in ENGINES:
            print("nan nan -", flush=True)
            continue
        try:
            ms, cos, prec = measure(parts[0], parts[1], int(parts[2]), int(parts[3]),
                                    int(parts[4]), float(parts[5]), parts[6])
            print(f"{ms:.3f} {cos:.7f} {prec}", flush=True)
        except Exception as e:  # one engine failing leaves the others running
            if parts[0] not in failed:
                failed.add(parts[0])
                print(f"onnx_embed: {parts[0]}: {type(e).__name__}: {e}", file=sys.stderr,
                      flush=True)
            print("nan nan -", flush=True)


if __name__ == "__main__":
    main()
