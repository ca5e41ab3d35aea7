"""The training-set adapters turn tiny fixtures in each dataset's real layout into manifests."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from training.benchmarks.base import DatasetLayoutError
from training.data.adapters import audiocaps, clotho, fsd50k, macs
from training.data.adapters.__main__ import main as adapters_main
from training.data.manifest import read_manifest


def wav(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(400, np.float32), 8000)
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_audiocaps_train_entries(tmp_path):
    write(tmp_path / "train.csv", "audiocap_id,youtube_id,start_time,caption\n"
          "91139,r1nicOVtvkQ,130,A woman talks nearby as water pours\n"
          "58146,UDGBjjwyaqE,20,Multiple clanging and clanking sounds\n")
    wav(tmp_path / "audio" / "train" / "r1nicOVtvkQ.wav")
    wav(tmp_path / "audio" / "train" / "UDGBjjwyaqE.wav")
    entries = list(audiocaps.entries(tmp_path))
    assert [e.captions for e in entries] == [["A woman talks nearby as water pours"], ["Multiple clanging and clanking sounds"]]
    assert entries[0].source == "audiocaps" and entries[0].split == "train" and entries[0].item == "audiocaps:r1nicOVtvkQ"


def test_clotho_entries_carry_licenses_and_freesound_items(tmp_path):
    captions = ",".join(f"caption_{i}" for i in range(1, 6))
    write(tmp_path / "clotho_captions_development.csv", f"file_name,{captions}\nStill Water.wav,a,b,c,d,e\n")
    (tmp_path / "clotho_metadata_development.csv").write_bytes(
        "file_name,keywords,sound_id,sound_link,start_end_samples,manufacturer,license\n"
        "Still Water.wav,water;pond,123456,https://freesound.org/s/123456,\"[0, 10]\",caf\xe9,"
        "http://creativecommons.org/licenses/by/3.0/\n".encode("latin-1"))  # not valid UTF-8, as released
    wav(tmp_path / "development" / "Still Water.wav")
    (entry,) = clotho.entries(tmp_path)
    assert entry.captions == ["a", "b", "c", "d", "e"] and entry.split == "train"
    assert entry.license == "http://creativecommons.org/licenses/by/3.0/" and entry.item == "freesound:123456"


def test_fsd50k_labels_become_captions(tmp_path):
    gt = tmp_path / "FSD50K.ground_truth"
    write(gt / "vocabulary.csv", "0,Electric_guitar,/m/02sgy\n1,Guitar,/m/0342h\n2,Bark,/m/05tny_\n")
    write(gt / "dev.csv", 'fname,labels,mids,split\n64760,"Electric_guitar,Guitar","/m/02sgy,/m/0342h",train\n'
          "16399,Bark,/m/05tny_,val\n")
    wav(tmp_path / "FSD50K.dev_audio" / "64760.wav")
    wav(tmp_path / "FSD50K.dev_audio" / "16399.wav")
    write(tmp_path / "FSD50K.metadata" / "dev_clips_info_FSD50K.json",
          json.dumps({"64760": {"title": "guitar.wav", "license": "http://creativecommons.org/publicdomain/zero/1.0/"}}))
    (entry,) = fsd50k.entries(tmp_path)  # the default: the dev "train" split, the paper's 36,796 clips
    assert entry.captions == ["Electric guitar, Guitar"] and entry.labels == ["Electric guitar", "Guitar"]
    assert entry.license.endswith("zero/1.0/") and entry.item == "freesound:64760" and entry.split == "train"
    assert [e.split for e in fsd50k.entries(tmp_path, splits=("val",))] == ["val"]


MACS_YAML = """files:
- filename: airport-barcelona-0-0-a.wav
  annotations:
  - annotator_id: 9
    sentence: adults talking and footsteps in a big hall
    tags:
    - adults_talking
    - footsteps
  - annotator_id: 14
    sentence: people walk and talk
    tags:
    - adults_talking
- filename: park-lyon-1-2-a.wav
  annotations:
  - annotator_id: 3
    sentence: birds sing in a park
    tags: [birds_singing]
"""


def test_macs_sentences_and_tags(tmp_path):
    write(tmp_path / "MACS.yaml", MACS_YAML)
    audio = tmp_path / "TAU-urban-acoustic-scenes-2019-development" / "audio"
    wav(audio / "airport-barcelona-0-0-a.wav")
    wav(audio / "park-lyon-1-2-a.wav")
    first, second = macs.entries(tmp_path)
    assert first.captions == ["adults talking and footsteps in a big hall", "people walk and talk"]
    assert first.labels == ["adults talking", "footsteps"] and second.labels == ["birds singing"]
    (audio / "park-lyon-1-2-a.wav").unlink()
    with pytest.raises(DatasetLayoutError, match="park-lyon-1-2-a.wav"):
        list(macs.entries(tmp_path))
    write(tmp_path / "MACS.yaml", "files: 3\n")
    with pytest.raises(DatasetLayoutError, match="MACS.yaml"):
        list(macs.entries(tmp_path))


def test_cli_writes_a_manifest_the_training_code_reads(tmp_path, capsys):
    write(tmp_path / "MACS.yaml", MACS_YAML)
    for name in ["airport-barcelona-0-0-a.wav", "park-lyon-1-2-a.wav"]:
        wav(tmp_path / "audio" / name)
    out = tmp_path / "macs.jsonl"
    assert adapters_main(["macs", str(tmp_path), str(out)]) == 0
    assert "Wrote 2 entries" in capsys.readouterr().out
    entries = list(read_manifest(out))
    assert [len(e.captions) for e in entries] == [2, 1] and all(Path(e.audio).is_file() for e in entries)
    assert adapters_main(["clotho", str(tmp_path / "nothing"), str(tmp_path / "c.jsonl")]) == 2
    assert "clotho_captions_development.csv" in capsys.readouterr().err and not (tmp_path / "c.jsonl").exists()
