"""Reading an ONNX file's weights without ONNX Runtime: raw tensors by name, one sentence for what it cannot read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from frontline.decide.onnxweights import OnnxFormatError, initializers


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes | int) -> bytes:
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _tensor(name: str, array: np.ndarray, kind: int, *, packed: bool = False, external: bool = False) -> bytes:
    dims = (_field(1, b"".join(_varint(d) for d in array.shape)) if packed
            else b"".join(_field(1, d) for d in array.shape))
    body = dims + _field(2, kind) + _field(8, name.encode())
    if external:
        return body + _field(13, _field(1, b"location") + _field(2, b"weights.bin"))
    return body + _field(9, array.astype(array.dtype.newbyteorder("<")).tobytes())


def _model(*tensors: bytes) -> bytes:
    node = _field(1, b"x") + _field(2, b"y") + _field(4, b"MatMul")
    graph = _field(1, node) + b"".join(_field(5, tensor) for tensor in tensors)
    return _field(1, 8) + _field(7, graph)  # ir_version, graph


def test_weights_come_back_by_name_with_their_shapes(tmp_path: Path) -> None:
    floats = np.arange(6, dtype=np.float32).reshape(2, 3) / 7
    small = np.asarray([[-128, 0, 127]], dtype=np.int8)
    path = tmp_path / "model.onnx"
    constant = _field(1, 1) + _field(2, 7) + _field(8, b"typed") + _field(7, 5)  # int64_data, not raw
    path.write_bytes(_model(_tensor("w", floats, 1), _tensor("q", small, 3, packed=True), constant))
    found = initializers(path)
    assert list(found) == ["w", "q"]
    assert np.array_equal(found["w"], floats) and found["w"].dtype == np.float32
    assert np.array_equal(found["q"], small) and found["q"].dtype == np.int8


def test_what_it_cannot_read_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(_model(_tensor("w", np.zeros(3, np.float32), 1, external=True)))
    with pytest.raises(OnnxFormatError, match="weight w lives in an external file"):
        initializers(path)
    path.write_bytes(_model(_tensor("s", np.zeros(3, np.float32), 8)))  # strings
    with pytest.raises(OnnxFormatError, match="element type 8"):
        initializers(path)
    path.write_bytes(_field(1, 8))
    with pytest.raises(OnnxFormatError, match="holds no ONNX graph"):
        initializers(path)
    path.write_bytes(_model(_tensor("w", np.zeros(4, np.float32), 1))[:-3])
    with pytest.raises(OnnxFormatError, match="ends inside"):
        initializers(path)
    wrong = _field(1, 5) + _field(2, 1) + _field(8, b"w") + _field(9, b"\0" * 8)
    path.write_bytes(_model(wrong))
    with pytest.raises(OnnxFormatError, match="holds 2 values for the shape"):
        initializers(path)
