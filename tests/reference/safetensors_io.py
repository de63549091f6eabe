"""Minimal safetensors reader/writer for the mtbert reference scripts.

File layout (https://github.com/huggingface/safetensors, re-implemented here):

    u64 little-endian N
    N bytes of UTF-8 JSON:
        {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
         ...,
         "__metadata__": {"format": "pt"}}
      padded with trailing spaces so that 8 + N is a multiple of 8
    raw little-endian tensor data; offsets are relative to the start of this
    section.  The writer lays tensors out contiguously in header order.

Only depends on torch + numpy + the standard library.
"""

import json
import struct

import numpy as np
import torch

# dtype string -> (numpy dtype used for the raw bytes, element size, torch dtype)
# BF16 has no numpy type: its bytes are read as int16 and re-viewed by torch.
_DTYPES = {
    "F64": (np.dtype("<f8"), 8, torch.float64),
    "F32": (np.dtype("<f4"), 4, torch.float32),
    "F16": (np.dtype("<f2"), 2, torch.float16),
    "BF16": (np.dtype("<i2"), 2, torch.bfloat16),
    "I64": (np.dtype("<i8"), 8, torch.int64),
    "I32": (np.dtype("<i4"), 4, torch.int32),
    "I16": (np.dtype("<i2"), 2, torch.int16),
    "I8": (np.dtype("i1"), 1, torch.int8),
    "U8": (np.dtype("u1"), 1, torch.uint8),
    "BOOL": (np.dtype("u1"), 1, torch.bool),
}

_TORCH_TO_ST = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}


class SafetensorsError(ValueError):
    pass


def _tensor_bytes(t, dtype):
    """Raw little-endian bytes of tensor `t` converted to safetensors `dtype`."""
    if dtype not in _DTYPES:
        raise SafetensorsError("unsupported dtype %r" % dtype)
    np_dt, _, torch_dt = _DTYPES[dtype]
    t = t.detach().cpu().contiguous()
    if dtype == "BF16":
        # torch's float->bfloat16 conversion rounds to nearest even.
        raw = t.to(torch.bfloat16).view(torch.int16).numpy()
    elif dtype == "BOOL":
        raw = t.to(torch.bool).numpy().astype(np.uint8)
    else:
        raw = t.to(torch_dt).numpy()
    return np.ascontiguousarray(raw).astype(np_dt, copy=False).tobytes()


def save_file(tensors, path, metadata=None):
    """Write `tensors` to `path`.

    tensors: an ordered mapping or a list of (name, tensor) / (name, tensor,
    dtype) items.  When no dtype is given it is derived from the tensor's
    torch dtype.  Layout follows the iteration order.
    """
    if hasattr(tensors, "items"):
        items = list(tensors.items())
    else:
        items = list(tensors)
    header = {}
    chunks = []
    offset = 0
    for item in items:
        if len(item) == 3:
            name, t, dtype = item
        else:
            name, t = item
            dtype = _TORCH_TO_ST[t.dtype]
        if name == "__metadata__" or name in header:
            raise SafetensorsError("bad or duplicate tensor name %r" % name)
        data = _tensor_bytes(t, dtype)
        expect = int(np.prod(list(t.shape), dtype=np.int64)) * _DTYPES[dtype][1]
        assert len(data) == expect, (name, len(data), expect)
        header[name] = {
            "dtype": dtype,
            "shape": [int(s) for s in t.shape],
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    header["__metadata__"] = dict(metadata) if metadata else {"format": "pt"}
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    pad = (-(8 + len(hjson))) % 8
    hjson += b" " * pad
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for c in chunks:
            f.write(c)


def read_header(path):
    """Return (header dict without __metadata__, metadata, data_start, file_size)."""
    with open(path, "rb") as f:
        blob = f.read()
    return _parse_header(blob)[:4]


def _parse_header(blob):
    if len(blob) < 8:
        raise SafetensorsError("file too short")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise SafetensorsError("header length %d exceeds file size" % n)
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise SafetensorsError("invalid JSON header: %s" % e)
    if not isinstance(header, dict):
        raise SafetensorsError("header is not a JSON object")
    meta = header.pop("__metadata__", None)
    return header, meta, 8 + n, len(blob), blob


def check_file(path):
    """Return a list of human-readable problems with a safetensors file
    (empty when it is well formed).  Checks the things mtbert's writer
    promises: 8-byte aligned header, known dtypes, sizes matching shapes,
    data regions contiguous, non-overlapping and covering the data section."""
    problems = []
    try:
        with open(path, "rb") as f:
            header, meta, start, size, _ = _parse_header(f.read())
    except (OSError, SafetensorsError) as e:
        return [str(e)]
    if start % 8:
        problems.append("data section starts at %d, not a multiple of 8" % start)
    spans = []
    for name, info in header.items():
        try:
            dtype = info["dtype"]
            shape = info["shape"]
            b, e = info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            problems.append("%s: malformed entry %r" % (name, info))
            continue
        if dtype not in _DTYPES:
            problems.append("%s: unknown dtype %r" % (name, dtype))
            continue
        n = 1
        for s in shape:
            n *= int(s)
        if e - b != n * _DTYPES[dtype][1]:
            problems.append("%s: %d bytes for shape %s %s" % (name, e - b, shape, dtype))
        spans.append((b, e, name))
    spans.sort()
    pos = 0
    for b, e, name in spans:
        if b != pos:
            problems.append("%s: starts at %d, expected %d (gap or overlap)" % (name, b, pos))
        pos = max(pos, e)
    if pos != size - start:
        problems.append("tensors cover %d data bytes, file has %d" % (pos, size - start))
    if meta is not None and not (isinstance(meta, dict)
                                 and all(isinstance(v, str) for v in meta.values())):
        problems.append("__metadata__ must map strings to strings")
    return problems


def load_file(path, strict=True):
    """Read a safetensors file into an ordered dict name -> torch tensor.

    Tensors keep their stored dtype (F16 -> torch.float16, BF16 ->
    torch.bfloat16, ...).  With strict=True any problem reported by
    check_file() raises SafetensorsError."""
    with open(path, "rb") as f:
        blob = f.read()
    header, meta, start, size, _ = _parse_header(blob)
    if strict:
        problems = check_file(path)
        if problems:
            raise SafetensorsError("%s: %s" % (path, "; ".join(problems)))
    out = {}
    for name, info in header.items():
        dtype = info["dtype"]
        shape = [int(s) for s in info["shape"]]
        b, e = info["data_offsets"]
        if dtype not in _DTYPES:
            raise SafetensorsError("%s: unknown dtype %r" % (name, dtype))
        if not (0 <= b <= e <= size - start):
            raise SafetensorsError("%s: data_offsets out of range" % name)
        np_dt, _, torch_dt = _DTYPES[dtype]
        arr = np.frombuffer(blob[start + b:start + e], dtype=np_dt).astype(np_dt.newbyteorder("="))
        t = torch.from_numpy(arr.copy())
        if dtype == "BF16":
            t = t.view(torch.bfloat16)
        elif dtype == "BOOL":
            t = t.to(torch.bool)
        out[name] = t.reshape(shape)
    return out


def load_metadata(path):
    return read_header(path)[1]


def describe(path):
    """Lines 'name dtype shape' in header order."""
    header = read_header(path)[0]
    return ["%s %s %s" % (k, v["dtype"], list(v["shape"])) for k, v in header.items()]


if __name__ == "__main__":
    import sys

    for p in sys.argv[1:]:
        print("==", p)
        for line in describe(p):
            print("  " + line)
        for prob in check_file(p):
            print("  PROBLEM: " + prob)
