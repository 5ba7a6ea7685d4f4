#!/usr/bin/env python3
"""Writes the small fixture files of datasets/testdata in the real formats.

They are made here, independently of the Go readers, from the formats'
specifications and Python's own encoders:

  rec/     MXNet RecordIO (.rec + .idx), written with struct following
           dmlc-core's recordio.h (magic, lrecord = cflag<<29 | length,
           4-byte padding, multi-part records where the data holds the magic)
           and mxnet.recordio.pack (IRHeader "IfQQ" + optional float labels).
           mxnet itself is not needed.
  bin/     insightface verification sets: pickle.dump((images, issame)) at
           protocol 2 and 4 by Python 3, and protocol 2 by Python 2.7 (str
           images), plus pickles of the wrong shape.
  pairs/   an LFW-style folder and pairs.txt (3-field same, 4-field different
           lines, a "folds<TAB>n" header).
  tinyface/ the TinyFace test layout (Probe, Gallery_Match, Gallery_Distractor).
  bad/     a decompression-bomb PNG and a RecordIO file of broken records.

Images are procedural (an ellipse "face" of skin tone on a background), never
real faces. Needs Python 3 with Pillow (Debian: apt-get install python3-pil)
and, for the Python 2 pickle, a python2.7 on PATH or in ~/.pyenv; run from
anywhere:

    python3 datasets/testdata/gen/gen.py
"""

import glob
import io
import os
import pickle
import shutil
import struct
import subprocess
import sys
import zlib
from collections import OrderedDict

from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.dirname(HERE)

MAGIC = 0xCED7230A


def face(seed, w=20, h=24, bgr=False, grey=False):
    """A tiny face-like picture: skin ellipse, dark eyes, background by seed."""
    bg = [(40, 60, 90), (90, 90, 40), (30, 80, 50), (70, 40, 70), (20, 20, 20)][seed % 5]
    skin = [(205, 150, 120), (180, 120, 90), (225, 180, 150), (150, 100, 70)][seed % 4]
    im = Image.new("RGB", (w, h), bg)
    d = ImageDraw.Draw(im)
    d.ellipse([w * 0.15, h * 0.1, w * 0.85, h * 0.95], fill=skin)
    ey = int(h * 0.42)
    d.rectangle([int(w * 0.3), ey, int(w * 0.3) + 1 + seed % 2, ey + 1], fill=(30, 20, 20))
    d.rectangle([int(w * 0.6), ey, int(w * 0.6) + 1, ey + 1], fill=(30, 20, 20))
    d.line([int(w * 0.4), int(h * 0.72), int(w * 0.6), int(h * 0.72)], fill=(120, 40, 40))
    if bgr:
        r, g, b = im.split()
        im = Image.merge("RGB", (b, g, r))
    if grey:
        im = im.convert("L")
    return im


def encode(im, fmt):
    buf = io.BytesIO()
    if fmt == "JPEG":
        im.save(buf, "JPEG", quality=90)
    else:
        im.save(buf, "PNG")
    return buf.getvalue()


# --- RecordIO, after dmlc-core RecordIOWriter::WriteRecord -----------------

def lrec(cflag, length):
    assert length < (1 << 29)
    return (cflag << 29) | length


def write_record(f, data):
    """Writes one logical record; returns its starting offset."""
    start = f.tell()
    magic = struct.pack("<I", MAGIC)
    n = len(data)
    dptr = 0
    for i in range(0, (n >> 2) << 2, 4):
        if data[i:i + 4] == magic:
            f.write(magic + struct.pack("<I", lrec(1 if dptr == 0 else 2, i - dptr)))
            f.write(data[dptr:i])
            dptr = i + 4
    f.write(magic + struct.pack("<I", lrec(3 if dptr != 0 else 0, n - dptr)))
    f.write(data[dptr:])
    pad = ((n + 3) >> 2 << 2) - n
    f.write(b"\0" * pad)
    return start


def pack(label, img, flag_labels=None, id_=0, id2=0):
    """mxnet.recordio.pack: IRHeader 'IfQQ' (+ float32 labels) + payload."""
    if flag_labels is None:
        hdr = struct.pack("<IfQQ", 0, float(label), id_, id2)
        return hdr + img
    arr = struct.pack("<%df" % len(flag_labels), *flag_labels)
    return struct.pack("<IfQQ", len(flag_labels), 0.0, id_, id2) + arr + img


def write_rec(stem, records):
    """records: list of (key, data). Writes stem.rec and stem.idx."""
    with open(stem + ".rec", "wb") as f, open(stem + ".idx", "w") as idx:
        for key, data in records:
            off = write_record(f, data)
            idx.write("%d\t%d\n" % (key, off))


def make_rec():
    d = os.path.join(OUT, "rec")
    os.makedirs(d, exist_ok=True)
    # insightface layout: record 0 header, images 1..8, identity records 9..11.
    counts = [3, 2, 3]
    recs = []
    key = 1
    spans = []
    for ident, n in enumerate(counts):
        start = key
        for j in range(n):
            fmt = "JPEG" if (key % 2) else "PNG"
            img = encode(face(ident * 7 + j, w=20 + 4 * (j % 2), h=24, grey=(ident == 2 and j == 0)), fmt)
            # Image key 2 carries the RecordIO magic in its header id field
            # (4-aligned), so the writer must split it into a multi-part record.
            id_ = MAGIC if key == 2 else key
            recs.append((key, pack(ident, img, id_=id_)))
            key += 1
        spans.append((start, key))
    img_end = key
    header = pack(0, b"", flag_labels=[float(img_end), float(img_end + len(counts))])
    ids = [(img_end + i, pack(0, b"", flag_labels=[float(s), float(e)])) for i, (s, e) in enumerate(spans)]
    write_rec(os.path.join(d, "insight"), [(0, header)] + recs + ids)

    # im2rec layout: no header, labels 5, 9, 12, one as a label array.
    plain = []
    for i, lab in enumerate([5, 9, 12, 5, 9, 12, 12]):
        img = encode(face(i, w=16, h=16), "PNG" if i % 3 else "JPEG")
        if i == 4:
            plain.append((i, pack(None, img, flag_labels=[float(lab), 7.5])))
        else:
            plain.append((i, pack(lab, img)))
    write_rec(os.path.join(d, "plain"), plain)

    # Channel order swapped (as when OpenCV BGR arrays are encoded as RGB).
    bgr = [(i, pack(i % 2, encode(face(i, bgr=True), "JPEG"))) for i in range(6)]
    write_rec(os.path.join(d, "bgr"), bgr)


# --- verification .bin ------------------------------------------------------

def pairs_images():
    imgs, same = [], []
    for p in range(6):
        s = p % 2 == 0
        a = face(p, w=18, h=18)
        b = face(p if s else p + 11, w=18, h=18)
        imgs += [encode(a, "JPEG" if p % 3 else "PNG"), encode(b, "PNG")]
        same.append(s)
    return imgs, same


def make_bin():
    d = os.path.join(OUT, "bin")
    os.makedirs(d, exist_ok=True)
    imgs, same = pairs_images()
    for proto in (2, 4):
        with open(os.path.join(d, "lfw_p%d.bin" % proto), "wb") as f:
            pickle.dump((imgs, same), f, protocol=proto)
    # Python 2.7: images as str (SHORT_BINSTRING/BINSTRING), as the original
    # insightface .bin files were written.
    found = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/2.7*/bin/python")))
    py2 = found[-1] if found else shutil.which("python2.7")
    tmp = os.path.join(d, "_imgs.tmp")
    with open(tmp, "wb") as f:
        for b in imgs:
            f.write(struct.pack("<I", len(b)) + b)
    prog = (
        "import cPickle, struct, sys\n"
        "data = open(sys.argv[1], 'rb').read()\n"
        "imgs = []\n"
        "i = 0\n"
        "while i < len(data):\n"
        "    n = struct.unpack('<I', data[i:i+4])[0]; imgs.append(data[i+4:i+4+n]); i += 4+n\n"
        "same = [%s]\n"
        "cPickle.dump((imgs, same), open(sys.argv[2], 'wb'), 2)\n" % ", ".join(str(s) for s in same)
    )
    subprocess.check_call([py2, "-c", prog, tmp, os.path.join(d, "lfw_py2.bin")])
    os.remove(tmp)
    # The same list read back by Python must equal what was written.
    with open(os.path.join(d, "lfw_py2.bin"), "rb") as f:
        got = pickle.load(f, encoding="bytes")
    assert list(got[0]) == imgs and list(got[1]) == same

    # Wrong shapes.
    with open(os.path.join(d, "odd_count.bin"), "wb") as f:
        pickle.dump((imgs[:3], same[:2]), f, protocol=4)
    with open(os.path.join(d, "dict.bin"), "wb") as f:
        pickle.dump({"bins": imgs, "issame": same}, f, protocol=4)
    with open(os.path.join(d, "class.bin"), "wb") as f:
        pickle.dump((imgs[:2], OrderedDict(a=1)), f, protocol=2)
    with open(os.path.join(d, "strings.bin"), "wb") as f:
        pickle.dump((["not", "bytes"], [True]), f, protocol=4)
    with open(os.path.join(d, "truncated.bin"), "wb") as f:
        f.write(pickle.dumps((imgs, same), protocol=4)[:300])


# --- LFW pairs.txt and TinyFace --------------------------------------------

def make_pairs():
    d = os.path.join(OUT, "pairs")
    if os.path.exists(d):
        shutil.rmtree(d)
    people = {"Ann_Lee": 3, "Bo_Chen": 2, "Cy_Dunn": 2, "Di_Eve": 1}
    for k, (name, n) in enumerate(sorted(people.items())):
        os.makedirs(os.path.join(d, "lfw", name))
        for j in range(1, n + 1):
            face(k * 5 + j).save(os.path.join(d, "lfw", name, "%s_%04d.jpg" % (name, j)), quality=90)
    lines = [
        "2\t2",
        "Ann_Lee\t1\t2",
        "Bo_Chen\t1\t2",
        "Ann_Lee\t1\tBo_Chen\t1",
        "Cy_Dunn\t2\tDi_Eve\t1",
        "Ann_Lee\t2\t3",
        "Cy_Dunn\t1\t2",
        "Bo_Chen\t2\tDi_Eve\t1",
        "Ann_Lee\t3\tCy_Dunn\t1",
    ]
    with open(os.path.join(d, "pairs.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    missing = list(lines)
    missing[2] = "Bo_Chen\t1\t7"  # Bo_Chen_0007.jpg does not exist
    missing[4] = "Cy_Dunn 2 Zed_Nobody 1"  # spaces, and a missing person
    with open(os.path.join(d, "pairs_missing.txt"), "w") as f:
        f.write("\n".join(missing) + "\n")


def make_tinyface():
    d = os.path.join(OUT, "tinyface")
    if os.path.exists(d):
        shutil.rmtree(d)
    probe = {"1_1.jpg": 1, "1_2.jpg": 1, "2_1.jpg": 2, "3_1.jpg": 3, "4_1.jpg": 4}
    match = {"1_3.jpg": 1, "2_2.jpg": 2, "3_2.jpg": 3}  # identity 4 has no mate
    for sub, files in (("Probe", probe), ("Gallery_Match", match)):
        os.makedirs(os.path.join(d, sub))
        for name, ident in files.items():
            face(ident * 3 + len(name), w=12, h=14).save(os.path.join(d, sub, name), quality=90)
    dis = os.path.join(d, "Gallery_Distractor")
    os.makedirs(os.path.join(dis, "12_0_frame"))
    for j, name in enumerate(["12_0_frame/12_0_frame1.jpg", "12_0_frame/12_0_frame2.jpg", "7_1_a.png"]):
        face(40 + j, w=10, h=12).save(os.path.join(dis, name))
    with open(os.path.join(dis, "readme.txt"), "w") as f:
        f.write("not an image\n")


# --- bad data ---------------------------------------------------------------

def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(side=16384):
    """A real decompression bomb: 1-bit grey side×side (268 Mpx), all zero.

    A few tens of kilobytes inflate to side*(side/8+1) bytes, and a decoder
    that trusts the header allocates side*side bytes of pixels.
    """
    row = b"\0" * (1 + side // 8)
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def make_bad():
    d = os.path.join(OUT, "bad")
    os.makedirs(d, exist_ok=True)
    bomb = bomb_png()
    with open(os.path.join(d, "bomb.png"), "wb") as f:
        f.write(bomb)
    good = encode(face(1), "JPEG")
    recs = [
        (1, pack(0, good)),
        (2, pack(0, b"")),  # header, no image
        (3, pack(1, good[: len(good) // 2])),  # truncated JPEG
        (4, pack(1, b"hello, I am not an image")),
        (5, pack(2, bomb)),
        (6, pack(2, encode(face(2), "PNG"))),
    ]
    write_rec(os.path.join(d, "broken"), recs)


if __name__ == "__main__":
    make_rec()
    make_bin()
    make_pairs()
    make_tinyface()
    make_bad()
    print("wrote fixtures under", OUT)
