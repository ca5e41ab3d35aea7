"""Static int8 quantisation (QDQ) of the ONNX audio tower, calibrated on real clips' features.

Activations are uint8 with ranges from the calibration set, weights int8 per output channel (the
convolutions only, less those the recipe keeps float: the shipped tower keeps the first block's
two; the projection head stays float too, which costs little time). Run by training/recipes/default/quantize.py.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from .audio_onnx import INPUT
from .cache import atomic_write


class _Reader:
    """onnxruntime's CalibrationDataReader protocol over (N, frames, mels) features, `batch` at a time."""

    def __init__(self, features: np.ndarray):
        # One window per call: histogram calibrators need every batch to have the same shape.
        self.batches = iter([{INPUT: features[i:i + 1]} for i in range(len(features))])

    def get_next(self):
        return next(self.batches, None)


def quantise_audio_tower(fp32_path: Path, features: np.ndarray, out_path: Path, method: str = "percentile",
                         keep_float: tuple[str, ...] = (), percentile: float = 99.999) -> Path:
    """Write the int8 QDQ model of `fp32_path`, calibrated on `features`, to `out_path` (atomically)."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    methods = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
               "entropy": CalibrationMethod.Entropy}
    features = np.ascontiguousarray(features, dtype=np.float32)
    with tempfile.TemporaryDirectory(prefix="clapsearch-quant-") as folder:
        prepared = Path(folder) / "prepared.onnx"
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)

        def write(temp):
            quantize_static(str(prepared), temp, _Reader(features), quant_format=QuantFormat.QDQ,
                            per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            op_types_to_quantize=["Conv"], nodes_to_exclude=list(keep_float),
                            calibrate_method=methods[method],
                            extra_options={"CalibPercentile": percentile, "CalibTensorRangeSymmetric": False})

        return atomic_write(out_path, write)
