"""Local copies of the paper's training sets -> training manifests (training/data/manifest.py).

    python -m training.data.adapters audiocaps DIR out.jsonl [--split train]
    python -m training.data.adapters clotho    DIR out.jsonl
    python -m training.data.adapters fsd50k    DIR out.jsonl
    python -m training.data.adapters macs      DIR out.jsonl

The paper's 128k pairs are FSD50K's dev "train" split (36,796 clips), Clotho v2 development
(and validation), AudioCaps train and MACS. Each adapter reads the dataset as distributed, the
same way the benchmark adapters in training/benchmarks do (AudioCaps and Clotho re-use them).
"""

ADAPTERS = {
    "audiocaps": "training.data.adapters.audiocaps",
    "clotho": "training.data.adapters.clotho",
    "fsd50k": "training.data.adapters.fsd50k",
    "macs": "training.data.adapters.macs",
}
