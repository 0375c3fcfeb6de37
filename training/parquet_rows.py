"""Row counts of Parquet files, read from each file's footer (FileMetaData.num_rows), without pyarrow.

  /usr/bin/python3 training/parquet_rows.py OUT/utterances           # the total, then rows and path per file
  /usr/bin/python3 training/parquet_rows.py --total OUT/utterances   # the total only

The footer is the Thrift compact encoding of FileMetaData, whose field 3 is num_rows (i64); the fields before it are
skipped generically, so this needs nothing beyond the Parquet format itself.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

MAGIC = b"PAR1"
STOP, BOOL_TRUE, BOOL_FALSE, BYTE, I16, I32, I64, DOUBLE, BINARY, LIST, SET, MAP, STRUCT = range(13)


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _zigzag(n: int) -> int:
    return (n >> 1) ^ -(n & 1)


def _skip(buf: bytes, pos: int, kind: int, in_collection: bool = False) -> int:
    if kind in (BOOL_TRUE, BOOL_FALSE):
        return pos + 1 if in_collection else pos  # a struct field's bool lives in its header
    if kind == BYTE:
        return pos + 1
    if kind in (I16, I32, I64):
        return _varint(buf, pos)[1]
    if kind == DOUBLE:
        return pos + 8
    if kind == BINARY:
        length, pos = _varint(buf, pos)
        return pos + length
    if kind in (LIST, SET):
        header = buf[pos]
        pos += 1
        size, element = header >> 4, header & 0x0F
        if size == 15:
            size, pos = _varint(buf, pos)
        for _ in range(size):
            pos = _skip(buf, pos, element, in_collection=True)
        return pos
    if kind == MAP:
        size, pos = _varint(buf, pos)
        if size:
            types = buf[pos]
            pos += 1
            for _ in range(size):
                pos = _skip(buf, pos, types >> 4, in_collection=True)
                pos = _skip(buf, pos, types & 0x0F, in_collection=True)
        return pos
    if kind == STRUCT:
        field = 0
        while True:
            header = buf[pos]
            pos += 1
            if header & 0x0F == STOP:
                return pos
            if header >> 4 == 0:
                raw, pos = _varint(buf, pos)
                field = _zigzag(raw)
            else:
                field += header >> 4
            pos = _skip(buf, pos, header & 0x0F)
    raise ValueError(f"unknown Thrift compact type {kind}")


def row_count(path: Path) -> int:
    data = path.read_bytes()
    if len(data) < 12 or data[:4] != MAGIC or data[-4:] != MAGIC:
        raise ValueError(f"{path} is not a Parquet file")
    (length,) = struct.unpack("<I", data[-8:-4])
    footer = data[-8 - length: -8]
    pos, field = 0, 0
    while True:
        header = footer[pos]
        pos += 1
        kind = header & 0x0F
        if kind == STOP:
            raise ValueError(f"{path}: FileMetaData has no num_rows")
        if header >> 4 == 0:
            raw, pos = _varint(footer, pos)
            field = _zigzag(raw)
        else:
            field += header >> 4
        if field == 3 and kind == I64:
            return _zigzag(_varint(footer, pos)[0])
        pos = _skip(footer, pos, kind)


def main(argv: list[str]) -> None:
    total_only = "--total" in argv
    paths = [Path(a) for a in argv if a != "--total"]
    files = sorted(f for p in paths for f in ([p] if p.is_file() else p.rglob("*.parquet")))
    counts = {f: row_count(f) for f in files}
    print(sum(counts.values()))
    if not total_only:
        for f, n in counts.items():
            print(f"{n}\t{f}")


if __name__ == "__main__":
    main(sys.argv[1:])
