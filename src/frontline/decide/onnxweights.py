"""The weights stored in an ONNX file, read as NumPy arrays without ONNX Runtime or the onnx package.

An ONNX model is a protocol-buffer message; its graph's initializers are the weights, each a
tensor with a name, a shape, an element type and its bytes. Reading those few fields takes a page
of code, where ONNX Runtime would add about 80 MB to the install to run a network NumPy already
runs (see :mod:`frontline.decide.minilm`). Only what a weight file needs is read: tensors stored as
raw little-endian bytes (constants written
as typed lists are left out; a weight stored in an external file is refused by name).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

# ONNX TensorProto.DataType → NumPy element type (the ones a weight file uses).
_TYPES = {1: np.float32, 2: np.uint8, 3: np.int8, 6: np.int32, 7: np.int64, 9: np.bool_, 10: np.float16,
          11: np.float64}
_MODEL_GRAPH, _GRAPH_INITIALIZER = 7, 5
_TENSOR_DIMS, _TENSOR_TYPE, _TENSOR_NAME, _TENSOR_RAW, _TENSOR_EXTERNAL = 1, 2, 8, 9, 13


class OnnxFormatError(ValueError):
    """The file is not an ONNX model whose weights this reader can take."""


def _varint(data: memoryview, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data):
            raise OnnxFormatError("the file ends inside a number")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def _fields(data: memoryview) -> Iterator[tuple[int, int | memoryview]]:
    """(field number, value) of one message: integers for varints, views for everything else."""
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        value: int | memoryview
        if wire == 0:
            value, at = _varint(data, at)
        elif wire == 1:
            value, at = data[at:at + 8], at + 8
        elif wire == 5:
            value, at = data[at:at + 4], at + 4
        elif wire == 2:
            size, at = _varint(data, at)
            value, at = data[at:at + size], at + size
        else:
            raise OnnxFormatError(f"unknown protocol-buffer wire type {wire}")
        if at > len(data):
            raise OnnxFormatError("the file ends inside a field")
        yield number, value


def _dims(value: int | memoryview) -> list[int]:
    if isinstance(value, int):
        return [value]
    out, at = [], 0  # packed
    while at < len(value):
        dim, at = _varint(value, at)
        out.append(dim)
    return out


def _tensor(message: memoryview) -> tuple[str, np.ndarray] | None:
    name, shape, kind, raw = "", [], 0, None
    for number, value in _fields(message):
        if number == _TENSOR_DIMS:
            shape += _dims(value)
        elif number == _TENSOR_TYPE and isinstance(value, int):
            kind = value
        elif number == _TENSOR_NAME and isinstance(value, memoryview):
            name = bytes(value).decode("utf-8")
        elif number == _TENSOR_RAW and isinstance(value, memoryview):
            raw = value
        elif number == _TENSOR_EXTERNAL:
            raise OnnxFormatError(f"weight {name or '?'} lives in an external file")
    if kind not in _TYPES:
        raise OnnxFormatError(f"weight {name or '?'} has ONNX element type {kind}, which this reader does not take")
    if raw is None:
        return None  # a constant written as a typed list: exporters write weights as raw bytes
    array = np.frombuffer(raw, dtype=np.dtype(_TYPES[kind]).newbyteorder("<"))
    if array.size != int(np.prod(shape, dtype=np.int64)):
        raise OnnxFormatError(f"weight {name} holds {array.size} values for the shape {shape}")
    return name, array.reshape(shape)


def initializers(path: str | Path) -> dict[str, np.ndarray]:
    """Every initializer (weight) of the ONNX model at ``path``, by name, in file order."""
    data = memoryview(Path(path).read_bytes())
    graphs = [value for number, value in _fields(data) if number == _MODEL_GRAPH and isinstance(value, memoryview)]
    if not graphs:
        raise OnnxFormatError(f"{path} holds no ONNX graph")
    found = (_tensor(value) for number, value in _fields(graphs[0])
             if number == _GRAPH_INITIALIZER and isinstance(value, memoryview))
    return dict(tensor for tensor in found if tensor is not None)
