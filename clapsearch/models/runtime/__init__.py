"""ONNX Runtime towers behind the AudioTextModel interface; torch stays the reference they are tested against."""
