#!/usr/bin/env python3
"""zbomb.py OUT NBYTES: an mgt stream with one u8 tensor [NBYTES] stored as a zstd
frame of RLE blocks (RFC 8878 s3.1.1.2): a few bytes per 128 KiB, so a file of
~130 KB honestly declares and decodes to 4 GiB."""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))
import mgt  # noqa: E402

out, n = sys.argv[1], int(sys.argv[2])
# Frame header: magic, descriptor (FCS 8 bytes, not single-segment), window
# descriptor 2^17 (exponent 7), content size.
frame = [struct.pack("<I", 0xFD2FB528), bytes([0xC0, 7 << 3]), struct.pack("<Q", n)]
left = n
while left:
    k = min(left, 128 << 10)
    left -= k
    hdr = (k << 3) | (1 << 1) | (1 if left == 0 else 0)   # RLE block
    frame.append(struct.pack("<I", hdr)[:3] + b"\0")
z = b"".join(frame)

name = b"image"
body = struct.pack("<II", 1, 1)
body += struct.pack("<I", 2) + b"id" + struct.pack("<I", 4) + b"bomb"
t = struct.pack("<H", len(name)) + name + bytes([1, 1, 1, 0]) + struct.pack("<QQ", n, len(z))
t += b"\0" * (-(len(body) + len(t)) % mgt.ALIGN)
body += t + z
with open(out, "wb") as f:
    head = mgt.MAGIC + struct.pack("<IIQ", 1, 0, 0)
    import zlib
    f.write(head + struct.pack("<I", zlib.crc32(head)))
    f.write(mgt._frame(b"REC\0", body))
    f.write(mgt._frame(b"END\0", struct.pack("<Q", 1)))
