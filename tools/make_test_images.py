#!/usr/bin/env python3
"""make_test_images.py - write the small images that tests/unit/test_image.c
and the image fuzz corpus use, and the Pillow + Hugging Face reference pixels
for the seed-mode parity tests.

Regenerate (from the repository root):

    .venv/bin/python tools/make_test_images.py          # everything
    /usr/bin/python3 tools/make_test_images.py --no-hf   # images only

Images need Pillow and numpy (Debian python3-pil, python3-numpy). The parity
references need transformers (4.46.3 in .venv): they run the real
BitImageProcessor that the Python seed system used. Output is deterministic:
fixed seeds, no timestamps; rerunning rewrites identical files.

Files go to tests/fixtures/images/ and fuzz/corpus/img_fuzzer/.
"""
import io
import math
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image, ImageDraw

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures", "images")
CORPUS = os.path.join(ROOT, "fuzz", "corpus", "img_fuzzer")

# The seed system: letterbox side, then HF's shortest edge and crop.
SEED_LETTERBOX = 518
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def out(name, data, corpus=False):
    with open(os.path.join(FIX, name), "wb") as f:
        f.write(data)
    if corpus:
        with open(os.path.join(CORPUS, name), "wb") as f:
            f.write(data)


def corpus_only(name, data):
    with open(os.path.join(CORPUS, name), "wb") as f:
        f.write(data)


def encode(img, fmt, **kw):
    b = io.BytesIO()
    img.save(b, fmt, **kw)
    return b.getvalue()


def quadrants(w=64, h=48):
    """Top-left red, top-right green, bottom-left blue, bottom-right white."""
    a = np.zeros((h, w, 3), np.uint8)
    a[: h // 2, : w // 2] = (255, 0, 0)
    a[: h // 2, w // 2 :] = (0, 255, 0)
    a[h // 2 :, : w // 2] = (0, 0, 255)
    a[h // 2 :, w // 2 :] = (255, 255, 255)
    return Image.fromarray(a, "RGB")


def png_chunk(kind, data):
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_header_only(w, h):
    """A PNG whose IHDR claims w x h but holds one tiny IDAT: what a pixel
    bomb or a malformed upload looks like to the header reader."""
    sig = b"\x89PNG\r\n\x1a\n"
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (sig + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 16))
            + png_chunk(b"IEND", b""))


def srgb_to_lab(r, g, b):
    """sRGB in 0..1 to CIELAB (D50), for the tiny CMYK profile below."""
    def lin(c):
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = lin(r), lin(g), lin(b)
    x = 0.4360747 * r + 0.3850649 * g + 0.1430804 * b
    y = 0.2225045 * r + 0.7168786 * g + 0.0606169 * b
    z = 0.0139322 * r + 0.0971045 * g + 0.7141733 * b
    def f(t):
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116
    fx, fy, fz = f(x / 0.9642), f(y / 1.0), f(z / 0.8249)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def s15(v):
    return struct.pack(">i", int(round(v * 65536)))


def tiny_cmyk_icc():
    """A minimal ICC v2 CMYK output profile (lut8, 2 grid points, Lab PCS):
    naive CMYK -> RGB at the 16 corners. Small enough to embed in a fixture."""
    clut = b""
    for c in (0, 1):
        for m in (0, 1):
            for y in (0, 1):
                for k in (0, 1):
                    L, a, bb = srgb_to_lab((1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k))
                    clut += bytes([max(0, min(255, round(L * 255 / 100))),
                                   max(0, min(255, round(a + 128))),
                                   max(0, min(255, round(bb + 128)))])
    ident = bytes(range(256))
    lut = (b"mft1" + b"\0" * 4 + bytes([4, 3, 2, 0])
           + b"".join(s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
           + ident * 4 + clut + ident * 3)
    desc_text = b"dinoseek tiny CMYK\0"
    desc = (b"desc" + b"\0" * 4 + struct.pack(">I", len(desc_text)) + desc_text
            + b"\0" * 8 + b"\0" * 3 + b"\0" * 67)
    wtpt = b"XYZ " + b"\0" * 4 + s15(0.9642) + s15(1.0) + s15(0.8249)
    cprt = b"text" + b"\0" * 4 + b"public domain\0"
    tags = [(b"desc", desc), (b"wtpt", wtpt), (b"cprt", cprt), (b"A2B0", lut)]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for sig, data in tags:
        while (offset + len(body)) % 4:
            body += b"\0"
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    while len(body) % 4:
        body += b"\0"
    size = offset + len(body)
    header = (struct.pack(">I", size) + b"\0" * 4 + struct.pack(">I", 0x02100000)
              + b"prtrCMYKLab " + struct.pack(">6H", 2024, 1, 1, 0, 0, 0) + b"acsp"
              + b"\0" * 24 + struct.pack(">I", 0) + s15(0.9642) + s15(1.0) + s15(0.8249)
              + b"\0" * 48)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def drawing(w, h, seed):
    """A USPTO-like line drawing: white page, black outlines, 1-bit."""
    img = Image.new("1", (w, h), 1)
    d = ImageDraw.Draw(img)
    rng = np.random.RandomState(seed)
    d.rectangle((w // 5, h // 5, 4 * w // 5, 4 * h // 5), outline=0, width=6)
    d.ellipse((w // 3, h // 3, 2 * w // 3, h // 2), outline=0, width=5)
    for _ in range(12):
        x0, y0, x1, y1 = (int(v) for v in rng.randint(w // 5, 4 * w // 5, 4))
        d.line((x0, y0 * h // w, x1, y1 * h // w), fill=0, width=4)
    d.text((w // 2 - 20, h - h // 10), "FIG. 1", fill=0)
    return img


def photo(w, h, seed):
    """Smooth colour fields with edges and mild noise: exercises the filters'
    negative lobes and rounding without compressing badly."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(x / 7.0) * np.cos(y / 11.0)
    g = 255 * (x / max(w - 1, 1))
    b = np.where((x - w / 2) ** 2 + (y - h / 2) ** 2 < (min(w, h) / 3) ** 2, 230, 20)
    a = np.stack([r, g, b], -1) + rng.randint(-12, 13, (h, w, 3))
    a[h // 3 : h // 3 + 3, :] = 0  # a hard black line
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8), "RGB")


def seed_pillow_letterbox(img):
    """Step (a)+(b) of the seed system, as its Python did it."""
    img = img.convert("RGB")
    w, h = img.size
    scale = SEED_LETTERBOX / max(w, h)
    nw, nh = int(w * scale), int(h * scale)
    img = img.resize((nw, nh), Image.LANCZOS)
    canvas = Image.new("RGB", (SEED_LETTERBOX, SEED_LETTERBOX), (255, 255, 255))
    canvas.paste(img, ((SEED_LETTERBOX - nw) // 2, (SEED_LETTERBOX - nh) // 2))
    return canvas


def hf_processor():
    from transformers import BitImageProcessor
    # DINOv2's preprocessor_config.json, written out (no download).
    return BitImageProcessor(
        do_resize=True, size={"shortest_edge": 256}, resample=3,
        do_center_crop=True, crop_size={"height": 224, "width": 224},
        do_rescale=True, rescale_factor=1 / 255, do_normalize=True,
        image_mean=list(MEAN), image_std=list(STD), do_convert_rgb=True)


def seed_reference(proc, img):
    """The seed system's 224x224 uint8 pixels: the real processor's float
    output de-normalised exactly (checked against a run without rescale and
    normalise)."""
    canvas = seed_pillow_letterbox(img)
    t = proc(canvas, return_tensors="np")["pixel_values"][0]  # 3 x 224 x 224
    mean = np.array(MEAN, np.float64)[:, None, None]
    std = np.array(STD, np.float64)[:, None, None]
    u8 = np.rint((t.astype(np.float64) * std + mean) * 255).astype(np.int64)
    raw = proc(canvas, do_rescale=False, do_normalize=False, return_tensors="np")["pixel_values"][0]
    assert np.array_equal(u8, raw.astype(np.int64)), "de-normalisation is not exact"
    return Image.fromarray(u8.transpose(1, 2, 0).astype(np.uint8), "RGB")


def hf_normalize_table(proc):
    """HF's float for every (channel, value): rows R, G, B of 256 float32."""
    a = np.zeros((224, 224, 3), np.uint8)
    flat = a.reshape(-1, 3)
    flat[:256] = np.arange(256, dtype=np.uint8)[:, None]
    t = proc(Image.fromarray(a, "RGB"), do_resize=False, do_center_crop=False,
             return_tensors="np")["pixel_values"][0]  # 3 x 224 x 224
    return np.ascontiguousarray(t.reshape(3, -1)[:, :256].astype("<f4")).tobytes()


def main():
    os.makedirs(FIX, exist_ok=True)
    os.makedirs(CORPUS, exist_ok=True)
    q = quadrants()

    # Every format, the same quadrant pattern.
    out("quad.png", encode(q, "PNG"), corpus=True)
    out("quad.jpg", encode(q, "JPEG", quality=95), corpus=True)
    out("quad.webp", encode(q, "WEBP", lossless=True), corpus=True)
    out("quad.gif", encode(q.convert("P", palette=Image.ADAPTIVE, colors=4), "GIF"), corpus=True)
    out("quad.bmp", encode(q, "BMP"))
    out("quad_lzw.tif", encode(q, "TIFF", compression="tiff_lzw"), corpus=True)
    out("quad_cmyk.tif", encode(q.convert("CMYK"), "TIFF", compression="tiff_lzw"), corpus=True)
    out("quad_cmyk.jpg", encode(q.convert("CMYK"), "JPEG", quality=95), corpus=True)
    out("quad_cmyk_icc.jpg", encode(q.convert("CMYK"), "JPEG", quality=95,
                                    icc_profile=tiny_cmyk_icc()), corpus=True)
    out("quad_gray.png", encode(q.convert("L"), "PNG"), corpus=True)

    # 16-bit: RGB TIFF (values v * 257, so 8-bit is exact) and a grey PNG.
    a16 = np.asarray(q).astype(np.uint16) * 257
    out("quad16.tif", tiff16_rgb(a16))
    g16 = (np.asarray(q.convert("L")).astype(np.uint16) * 257)
    out("quad_gray16.png", encode(Image.fromarray(g16.astype("<u2"), "I;16"), "PNG"), corpus=True)

    # Alpha and palettes: left half transparent (its colour black), right half
    # opaque red.
    rgba = np.zeros((48, 64, 4), np.uint8)
    rgba[:, 32:] = (255, 0, 0, 255)
    out("alpha.png", encode(Image.fromarray(rgba, "RGBA"), "PNG"), corpus=True)
    pal = Image.fromarray(rgba[:, :, :3], "RGB").convert("P", palette=Image.ADAPTIVE, colors=2)
    black_index = pal.getpixel((0, 0))
    out("palette_trns.png", encode(pal, "PNG", transparency=black_index), corpus=True)
    out("palette_trns.gif", encode(pal, "GIF", transparency=black_index), corpus=True)

    # EXIF orientation 6 (display = stored rotated 90 degrees clockwise):
    # stored 64 x 32 landscape, displayed 32 x 64 portrait.
    land = quadrants(64, 32)
    exif = Image.Exif()
    exif[0x0112] = 6
    out("exif_rot6.jpg", encode(land, "JPEG", quality=95, exif=exif.tobytes()), corpus=True)

    # USPTO-like drawings: 1-bit CCITT G4, one page and two pages (page 1 all
    # black, so using it by mistake shows).
    d = drawing(1275, 1650, 1)
    out("drawing_g4.tif", encode(d, "TIFF", compression="group4", dpi=(150, 150)), corpus=True)
    black = Image.new("1", d.size, 0)
    out("drawing_2page.tif", encode(d, "TIFF", compression="group4", save_all=True,
                                    append_images=[black]), corpus=True)

    # Small copies of the bigger formats, for the fuzz corpus only.
    tiny = quadrants(16, 12)
    corpus_only("tiny.bmp", encode(tiny, "BMP"))
    corpus_only("tiny_rgba.bmp", encode(tiny.convert("RGBA"), "BMP"))
    corpus_only("tiny16.tif", tiff16_rgb(np.asarray(tiny).astype(np.uint16) * 257))
    corpus_only("tiny_photo.png", encode(photo(24, 16, 5), "PNG"))
    corpus_only("tiny_rgba.webp", encode(Image.fromarray(np.asarray(tiny.convert("RGBA")), "RGBA"),
                                         "WEBP", quality=80))
    corpus_only("tiny_progressive.jpg", encode(photo(24, 16, 6), "JPEG", progressive=True))
    corpus_only("bomb.bmp", b"BM" + b"\0" * 12 + struct.pack("<IiiHH", 40, 100000, -100000, 1, 24))

    # Broken and hostile inputs.
    png = encode(photo(64, 48, 3), "PNG")
    jpg = encode(photo(64, 48, 3), "JPEG", quality=90)
    out("truncated.png", png[: len(png) // 2], corpus=True)
    out("truncated.jpg", jpg[: len(jpg) // 2], corpus=True)
    out("text.png", b"this is a text file, not a picture\n", corpus=True)
    out("bomb.png", png_header_only(100000, 100000), corpus=True)
    out("zero.png", png_header_only(0, 0), corpus=True)
    tall = Image.fromarray(np.full((1000000, 1), 200, np.uint8), "L")
    out("tall.png", encode(tall, "PNG", optimize=True), corpus=True)
    tall_ok = Image.fromarray(np.full((20000, 1), 200, np.uint8), "L")
    out("tall_ok.png", encode(tall_ok, "PNG", optimize=True), corpus=True)

    # Seed-mode parity: the inputs and what Pillow + HF make of them.
    parity = {
        "parity_photo": photo(320, 240, 7),   # landscape, downscale
        "parity_tall": photo(150, 400, 8),    # portrait, downscale
        "parity_small": photo(90, 60, 9),     # upscale
    }
    for name, img in parity.items():
        out(name + ".png", encode(img, "PNG"))
    jpg_photo = encode(parity["parity_photo"], "JPEG", quality=92)
    out("parity_photo.jpg", jpg_photo)
    # Pillow's own conversions, which seed mode must repeat: CMYK by its
    # formula (no colour management), 16-bit grey (mode I) clipped to 255:
    # the grey spans 0..510, so that half of it is clipped.
    cmyk_photo = encode(parity["parity_photo"].convert("CMYK"), "JPEG", quality=92)
    out("parity_photo_cmyk.jpg", cmyk_photo)
    g16 = np.asarray(parity["parity_photo"].convert("L")).astype(np.uint16) * 2
    gray16_photo = encode(Image.fromarray(g16.astype("<u2"), "I;16"), "PNG")
    out("parity_gray16.png", gray16_photo)

    if "--no-hf" in sys.argv:
        print("skipped the Hugging Face references (--no-hf)")
        return
    proc = hf_processor()
    for name, img in parity.items():
        out(name + "_seed.png", encode(seed_reference(proc, img), "PNG"))
    out("parity_photo_jpg_seed.png",
        encode(seed_reference(proc, Image.open(io.BytesIO(jpg_photo))), "PNG"))
    for name, data in (("parity_photo_cmyk", cmyk_photo), ("parity_gray16", gray16_photo)):
        out(name + "_seed.png", encode(seed_reference(proc, Image.open(io.BytesIO(data))), "PNG"))
    out("hf_normalize.f32", hf_normalize_table(proc))
    print("wrote", FIX, "and", CORPUS)


def tiff16_rgb(a):
    """A 16-bit RGB TIFF, written by hand (Pillow cannot save RGB;16)."""
    h, w, _ = a.shape
    data = a.astype("<u2").tobytes()
    entries = [  # tag, type, count, value
        (256, 4, 1, w), (257, 4, 1, h), (258, 3, 3, None), (259, 3, 1, 1),
        (262, 3, 1, 2), (273, 4, 1, None), (277, 3, 1, 3), (278, 4, 1, h),
        (279, 4, 1, len(data)), (284, 3, 1, 1),
    ]
    ifd_size = 2 + 12 * len(entries) + 4
    bps_off = 8 + ifd_size
    data_off = bps_off + 6
    ifd = struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        if tag == 258:
            ifd += struct.pack("<HHII", tag, typ, count, bps_off)
        elif tag == 273:
            ifd += struct.pack("<HHII", tag, typ, count, data_off)
        elif typ == 3:
            ifd += struct.pack("<HHIHH", tag, typ, count, value, 0)
        else:
            ifd += struct.pack("<HHII", tag, typ, count, value)
    ifd += struct.pack("<I", 0)
    return b"II*\0" + struct.pack("<I", 8) + ifd + struct.pack("<3H", 16, 16, 16) + data


if __name__ == "__main__":
    main()
