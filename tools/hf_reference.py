#!/usr/bin/env python3
"""Golden outputs from Hugging Face transformers' Dinov2Model, for the C
engine's parity tests (tests/unit/test_parity.c).

What it does:
  1. has the C binary write deterministic model directories
     (`dinoseek model generate --arch small|base --seed S DIR`), so that both
     sides read the very same safetensors files;
  2. runs Dinov2Model on CPU in float32 on fixed inputs: random tensors made
     from a seed with splitmix64 (the same sequence as src/base/prng.h) at 224
     and 518, and the test images through the seed system's preprocessing
     (Pillow letterbox to 518 + AutoImageProcessor);
  3. writes tests/fixtures/golden_<arch>.json: the seeds, the sizes and the
     expected L2-normalised CLS vectors. No weights are stored.

`make test` never runs this script and never needs torch. To regenerate the
goldens (after changing the generator, say):

  either Debian's torch with a transformers release that supports it:
      apt-get install python3-torch python3-pil python3-numpy
      /usr/bin/python3 -m venv --system-site-packages .venv
      .venv/bin/pip install 'transformers==4.46.3'
  or everything from pip:
      python3 -m venv .venv && .venv/bin/pip install torch transformers pillow numpy
  then:
      make && .venv/bin/python tools/hf_reference.py
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

GOLDEN = 0x9E3779B97F4A7C15
MASK = (1 << 64) - 1

# (arch, weight seed): the seeds the C tests regenerate the weights with.
MODELS = [("small", 1), ("base", 2)]
SIZES = [224, 518]
BATCH = 4
INPUT_SEED = 1000  # the tensor for size s uses seed INPUT_SEED + s
# Photos (PNG, JPEG, CMYK JPEG, 16-bit grey PNG; landscape, portrait,
# upscaled) and a USPTO-style 1-bit CCITT G4 drawing, all made by
# tools/make_test_images.py.
PARITY_IMAGES = [
    "tests/fixtures/images/parity_photo.png",
    "tests/fixtures/images/parity_photo.jpg",
    "tests/fixtures/images/parity_tall.png",
    "tests/fixtures/images/parity_small.png",
    "tests/fixtures/images/drawing_g4.tif",
    # Pillow's conversions: CMYK by formula, 16-bit grey clipped to 255.
    "tests/fixtures/images/parity_photo_cmyk.jpg",
    "tests/fixtures/images/parity_gray16.png",
]


def splitmix_uniform(seed, n):
    """n floats in [0, 1): the sequence of ds_prng_uniform() from `seed`."""
    i = np.arange(1, n + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + i * np.uint64(GOLDEN)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return ((z >> np.uint64(40)).astype(np.float64) / 16777216.0).astype(np.float32)


def test_input(size, batch=BATCH):
    """The parity input: uniform in [-2, 2), about the range of normalised
    pixels, in (batch, 3, size, size) C order. Mirrors test_parity.c."""
    u = splitmix_uniform(INPUT_SEED + size, batch * 3 * size * size)
    return (u * np.float32(4.0) - np.float32(2.0)).reshape(batch, 3, size, size)


def vectors(model, pixel_values):
    import torch
    with torch.no_grad():
        out = model(pixel_values=torch.from_numpy(pixel_values)).last_hidden_state[:, 0]
        out = torch.nn.functional.normalize(out, dim=-1)
    return [[float("%.9g" % v) for v in row] for row in out.numpy().tolist()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default="build/dinoseek")
    ap.add_argument("--out", default="tests/fixtures")
    ap.add_argument("--images", nargs="*", default=PARITY_IMAGES,
                    help="images for the end-to-end seed-preprocessing check")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import PIL
    import torch
    import transformers
    from PIL import Image
    from transformers import AutoImageProcessor, Dinov2Model
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from make_test_images import seed_pillow_letterbox  # the seed system's letterbox
    torch.set_num_threads(args.threads)

    images = args.images

    for arch, seed in MODELS:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([args.bin, "model", "generate", "--arch", arch, "--seed", str(seed),
                            tmp], check=True)
            model = Dinov2Model.from_pretrained(tmp, torch_dtype=torch.float32).eval()
            processor = AutoImageProcessor.from_pretrained(tmp)
            golden = {
                "arch": arch, "seed": seed, "batch": BATCH, "input_seed_base": INPUT_SEED,
                "made_with": {"transformers": transformers.__version__,
                              "torch": torch.__version__, "pillow": PIL.__version__},
                "tensors": [], "images": [],
            }
            for size in SIZES:
                golden["tensors"].append({"size": size, "input_seed": INPUT_SEED + size,
                                          "vectors": vectors(model, test_input(size))})
                print(f"{arch} {size}: done", file=sys.stderr)
            for path in images:
                img = seed_pillow_letterbox(Image.open(path))
                pv = processor(images=img, return_tensors="np")["pixel_values"].astype(np.float32)
                golden["images"].append({"file": path, "vector": vectors(model, pv)[0]})
        out = os.path.join(args.out, f"golden_{arch}.json")
        with open(out, "w") as f:
            json.dump(golden, f, separators=(",", ":"))
            f.write("\n")
        print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
