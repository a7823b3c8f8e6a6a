#!/usr/bin/env python3
"""Read and write mgt tensor streams (man/mgt.5) with numpy alone.

    import mgt
    with open("x.mgt", "rb") as f:
        prov, records = mgt.read(f)          # records: list of (meta, tensors)
    mgt.write(open("y.mgt", "wb"), [({"id": "a"}, {"image": arr})], prov=["me\\t1\\tme"])

Tensors are numpy arrays; metadata a dict of str. bf16 tensors are returned as
uint16 arrays with meta["__bf16__"] listing their names. Compressed (zstd) tensors
need the optional `zstandard` module.
"""
import struct
import sys
import zlib

import numpy as np

MAGIC = b"\x89MGT\r\n\x1a\n"
ALIGN = 64
DTYPES = {1: "u1", 2: "i1", 3: "<u2", 4: "<i2", 5: "<i4", 6: "<i8",
          7: "<f2", 8: "<u2", 9: "<f4", 10: "<f8"}
CODES = {np.dtype(v): k for k, v in DTYPES.items() if k != 8}


class StreamError(Exception):
    pass


def _exact(f, n):
    b = f.read(n)
    if len(b) != n:
        raise StreamError("truncated stream")
    return b


def read_iter(f):
    """Yield the provenance list first, then (meta, tensors) per record."""
    head = _exact(f, 24)
    if head[:8] != MAGIC:
        raise StreamError("not an mgt stream")
    version, n, nbytes = struct.unpack("<IIQ", head[8:])
    if version != 1:
        raise StreamError("unsupported version %d" % version)
    raw = _exact(f, nbytes)
    (crc,) = struct.unpack("<I", _exact(f, 4))
    if zlib.crc32(head + raw) != crc:
        raise StreamError("stream header checksum mismatch")
    prov, p = [], 0
    for _ in range(n):
        (l,) = struct.unpack_from("<I", raw, p)
        prov.append(raw[p + 4:p + 4 + l].decode())
        p += 4 + l
    yield prov
    count = 0
    while True:
        fh = _exact(f, 16)
        kind, flags, blen = fh[:4], *struct.unpack("<IQ", fh[4:])
        body = _exact(f, blen)
        (crc,) = struct.unpack("<I", _exact(f, 4))
        if zlib.crc32(fh + body) != crc:
            raise StreamError("checksum mismatch")
        if kind == b"END\0":
            if struct.unpack("<Q", body)[0] != count:
                raise StreamError("record count mismatch")
            if f.read(1):
                raise StreamError("data after end of stream")
            return
        if kind != b"REC\0":
            raise StreamError("unknown frame")
        count += 1
        yield _parse(body)


def _parse(b):
    n_meta, n_t = struct.unpack_from("<II", b, 0)
    p, meta, tensors = 8, {}, {}
    for _ in range(n_meta):
        (kl,) = struct.unpack_from("<I", b, p)
        k = b[p + 4:p + 4 + kl].decode()
        p += 4 + kl
        (vl,) = struct.unpack_from("<I", b, p)
        meta[k] = b[p + 4:p + 4 + vl].decode()
        p += 4 + vl
    for _ in range(n_t):
        (nl,) = struct.unpack_from("<H", b, p)
        name = b[p + 2:p + 2 + nl].decode()
        p += 2 + nl
        dtype, ndim, codec, _ = b[p:p + 4]
        shape = struct.unpack_from("<%dQ" % ndim, b, p + 4)
        (stored,) = struct.unpack_from("<Q", b, p + 4 + 8 * ndim)
        p = -(-(p + 12 + 8 * ndim) // ALIGN) * ALIGN
        data = b[p:p + stored]
        if codec == 1:
            import zstandard
            data = zstandard.ZstdDecompressor().decompress(data)
        tensors[name] = np.frombuffer(data, DTYPES[dtype]).reshape(shape).copy()
        if dtype == 8:
            meta.setdefault("__bf16__", [])
            meta["__bf16__"].append(name)
        p += stored
    return meta, tensors


def read(f):
    it = read_iter(f)
    prov = next(it)
    return prov, list(it)


def _record(meta, tensors):
    out = [struct.pack("<II", len(meta), len(tensors))]
    size = 8
    for k, v in meta.items():
        kb, vb = str(k).encode(), str(v).encode()
        out.append(struct.pack("<I", len(kb)) + kb + struct.pack("<I", len(vb)) + vb)
        size += 8 + len(kb) + len(vb)
    for name, a in tensors.items():
        a = np.ascontiguousarray(a)
        if a.dtype == np.bool_:
            a = a.astype(np.uint8)
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        nb = name.encode()
        d = struct.pack("<H", len(nb)) + nb + bytes([CODES[a.dtype], a.ndim, 0, 0])
        d += struct.pack("<%dQQ" % a.ndim, *a.shape, a.nbytes)
        d += b"\0" * (-(size + len(d)) % ALIGN)
        out.append(d)
        out.append(a.tobytes())
        size += len(d) + a.nbytes
    return b"".join(out)


def _frame(kind, body):
    fh = kind + struct.pack("<IQ", 0, len(body))
    return fh + body + struct.pack("<I", zlib.crc32(fh + body))


def write(f, records, prov=()):
    """Write records [(meta, {name: array})] as one stream."""
    entries = b"".join(struct.pack("<I", len(l.encode())) + l.encode() for l in prov)
    head = MAGIC + struct.pack("<IIQ", 1, len(prov), len(entries)) + entries
    f.write(head + struct.pack("<I", zlib.crc32(head)))
    n = 0
    for meta, tensors in records:
        f.write(_frame(b"REC\0", _record(meta, tensors)))
        n += 1
    f.write(_frame(b"END\0", struct.pack("<Q", n)))


if __name__ == "__main__":
    # mgt.py [FILE]: print a short summary, as a smoke test of the reader.
    src = open(sys.argv[1], "rb") if len(sys.argv) > 1 else sys.stdin.buffer
    prov, recs = read(src)
    for line in prov:
        print("provenance:", line.replace("\t", " "))
    for meta, tensors in recs:
        print(meta.get("id", "?"), {k: (str(v.dtype), v.shape) for k, v in tensors.items()})
    print("records:", len(recs))
