"""Each benchmark adapter reads a tiny fixture laid out exactly as its dataset is distributed."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from training.benchmarks.base import MULTI_LABEL, RETRIEVAL, SINGLE_LABEL, DatasetLayoutError
from training.benchmarks.registry import UnknownTaskError, find_present, get_task, task_names


def wav(path: Path, seconds: float = 0.05, rate: int = 8000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(int(seconds * rate), np.float32), rate)
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def labels_of(examples):
    return [e.labels for e in examples]


# ---- ESC-50 ------------------------------------------------------------------------------------


def make_esc50(root: Path) -> Path:
    rows = ["filename,fold,target,category,esc10,src_file,take"]
    for fold, target, category in [(1, 0, "dog"), (1, 14, "chirping_birds"), (2, 0, "dog"), (5, 10, "rain")]:
        name = f"{fold}-10{target}-A-0.wav"
        wav(root / "audio" / name)
        rows.append(f"{name},{fold},{target},{category},{category == 'dog'},10{target},A")
    write(root / "meta" / "esc50.csv", "\n".join(rows) + "\n")
    return root


def test_esc50_reads_folds_and_spaces_category_names(tmp_path):
    root = make_esc50(tmp_path / "ESC-50")
    task = get_task("esc50")
    examples = task.load(root)
    assert [(e.labels[0], e.fold) for e in examples] == [("dog", "1"), ("chirping birds", "1"), ("dog", "2"), ("rain", "5")]
    assert all(Path(e.path).is_file() and Path(e.path).is_absolute() for e in examples)
    assert [e.labels for e in task.load(root, split="1")] == [("dog",), ("chirping birds",)]
    assert len(task.classes) == 50 and task.classes[0] == "dog" and task.kind == SINGLE_LABEL
    assert task.prompts()[0] == "This is a sound of dog"


def test_esc50_errors_name_the_problem(tmp_path):
    with pytest.raises(DatasetLayoutError, match="meta/esc50.csv"):
        get_task("esc50").load(tmp_path)
    root = make_esc50(tmp_path / "ESC-50")
    (root / "audio" / "1-100-A-0.wav").unlink()
    with pytest.raises(DatasetLayoutError, match="1 file.*missing.*1-100-A-0.wav"):
        get_task("esc50").load(root)
    write(root / "meta" / "esc50.csv", "file,fold\nx.wav,1\n")
    with pytest.raises(DatasetLayoutError, match="lacks the column"):
        get_task("esc50").load(root)
    with pytest.raises(DatasetLayoutError, match="unknown split"):
        get_task("esc50").load(root, split="6")


# ---- UrbanSound8K ------------------------------------------------------------------------------


def test_urbansound8k_reads_fold_folders(tmp_path):
    root = tmp_path / "UrbanSound8K"
    rows = ["slice_file_name,fsID,start,end,salience,fold,classID,class"]
    for name, fold, class_id, label in [("100032-3-0-0.wav", 5, 3, "dog_bark"), ("7061-6-0-0.wav", 10, 6, "gun_shot")]:
        wav(root / "audio" / f"fold{fold}" / name)
        rows.append(f"{name},100032,0.0,0.3,1,{fold},{class_id},{label}")
    write(root / "metadata" / "UrbanSound8K.csv", "\n".join(rows) + "\n")
    task = get_task("us8k")
    examples = task.load(root)
    assert [(e.labels[0], e.fold) for e in examples] == [("dog bark", "5"), ("gun shot", "10")]
    assert examples[1].path.endswith("audio/fold10/7061-6-0-0.wav")
    assert len(task.classes) == 10
    (root / "audio" / "fold5" / "100032-3-0-0.wav").unlink()
    with pytest.raises(DatasetLayoutError, match="missing"):
        task.load(root)


# ---- GTZAN -------------------------------------------------------------------------------------


def test_gtzan_genres_original_and_wav_layouts(tmp_path):
    task = get_task("gtzan-genres")
    for layout, ext in [("genres", "au"), ("Data/genres_original", "wav")]:
        root = tmp_path / layout.replace("/", "_")
        for genre in task.classes:
            for number in range(10):
                path = root / layout / genre / f"{genre}.{number:05d}.{ext}"
                path.parent.mkdir(parents=True, exist_ok=True)
                sf.write(path, np.zeros(40, np.float32), 8000, format="AU" if ext == "au" else "WAV")
        examples = task.load(root)
        assert len(examples) == 100
        blues = [e for e in examples if e.labels == ("blues",)]
        assert [e.fold for e in blues] == [str(i) for i in range(1, 11)]
    with pytest.raises(DatasetLayoutError, match="ten genre folders"):
        task.load(tmp_path / "nothing-here")


def test_gtzan_music_speech(tmp_path):
    root = tmp_path / "music_speech"
    for name in ["bagpipe.wav", "ballad.wav"]:
        wav(root / "music_wav" / name)
    for name in ["comedy.wav", "news1.wav"]:
        wav(root / "speech_wav" / name)
    examples = get_task("gtzan-music-speech").load(tmp_path)
    assert labels_of(examples) == [("music",), ("music",), ("speech",), ("speech",)]
    assert {e.fold for e in examples} == {"1", "6"}


# ---- FSD50K ------------------------------------------------------------------------------------


def test_fsd50k_splits_and_display_names(tmp_path):
    root = tmp_path / "FSD50K"
    gt = root / "FSD50K.ground_truth"
    write(gt / "vocabulary.csv", "0,Accelerating_and_revving_and_vroom,/m/07q2z82\n1,Gunshot_and_gunfire,/m/032s66\n"
          "2,Dishes_and_pots_and_pans,/m/04brg2\n3,Bark,/m/05tny_\n")
    write(gt / "dev.csv", 'fname,labels,mids,split\n64760,"Gunshot_and_gunfire,Bark","/m/032s66,/m/05tny_",train\n'
          '16399,Dishes_and_pots_and_pans,/m/04brg2,val\n')
    write(gt / "eval.csv", 'fname,labels,mids\n37199,"Accelerating_and_revving_and_vroom,Bark","/m/07q2z82,/m/05tny_"\n')
    for name in ["64760", "16399"]:
        wav(root / "FSD50K.dev_audio" / f"{name}.wav")
    wav(root / "FSD50K.eval_audio" / "37199.wav")
    task = get_task("fsd50k")
    assert task.kind == MULTI_LABEL and len(task.classes) == 200
    assert labels_of(task.load(root, split="train")) == [("Gunshot, gunfire", "Bark")]
    assert labels_of(task.load(root, split="val")) == [("Dishes, pots, and pans",)]
    evaluation = task.load(root, split="eval")
    assert labels_of(evaluation) == [("Accelerating, revving, vroom", "Bark")] and evaluation[0].fold == "eval"
    assert all(label in task.classes for e in task.load(root) for label in e.labels)
    write(gt / "eval.csv", "fname,labels,mids\n37199,Not_a_class,/m/x\n")
    with pytest.raises(DatasetLayoutError, match="not one of FSD50K's 200 classes"):
        task.load(root, split="eval")


# ---- TUT Acoustic Scenes 2017 ------------------------------------------------------------------


def test_tut2017_development_folds_and_evaluation(tmp_path):
    dev = tmp_path / "TUT-acoustic-scenes-2017-development"
    evaluation = tmp_path / "TUT-acoustic-scenes-2017-evaluation"
    dev_rows = [("audio/b020_90_100.wav", "beach", "b020"), ("audio/a001_10_20.wav", "cafe/restaurant", "a001")]
    for relative, _, _ in dev_rows:
        wav(dev / relative)
    write(dev / "meta.txt", "".join(f"{r}\t{s}\t{i}\n" for r, s, i in dev_rows))
    write(dev / "evaluation_setup" / "fold1_evaluate.txt", "audio/b020_90_100.wav\tbeach\n")
    write(dev / "evaluation_setup" / "fold3_evaluate.txt", "audio/a001_10_20.wav\tcafe/restaurant\n")
    wav(evaluation / "audio" / "1.wav")
    write(evaluation / "meta.txt", "audio/1.wav\tcity_center\n")
    task = get_task("tut2017")
    assert [(e.labels[0], e.fold) for e in task.load(tmp_path, split="development")] == [("beach", "1"), ("cafe/restaurant", "3")]
    assert [(e.labels[0], e.fold) for e in task.load(tmp_path, split="evaluation")] == [("city center", "evaluation")]
    assert len(task.classes) == 15
    write(evaluation / "meta.txt", "audio/1.wav\tspace_station\n")
    with pytest.raises(DatasetLayoutError, match="meta.txt:1"):
        task.load(tmp_path, split="evaluation")


# ---- emotion ------------------------------------------------------------------------------------


def test_crema_d_emotion_codes_and_actor_folds(tmp_path):
    root = tmp_path / "CREMA-D"
    names = ["1001_DFA_ANG_XX.wav", "1001_IEO_HAP_HI.wav", "1050_TIE_SAD_LO.wav", "1091_WSI_NEU_XX.wav"]
    for name in names:
        wav(root / "AudioWAV" / name)
    task = get_task("crema-d")
    examples = task.load(root)
    assert labels_of(examples) == [("angry",), ("happy",), ("sad",), ("neutral",)]
    assert [e.fold for e in examples] == ["1", "1", "2", "4"]  # 3 actors over 5 folds, whole actors per fold
    assert task.prompts()[0] == "this person is feeling angry"
    wav(root / "AudioWAV" / "1001_DFA_XYZ_XX.wav")
    with pytest.raises(DatasetLayoutError, match="1001_DFA_XYZ_XX.wav"):
        task.load(root)


def test_ravdess_file_name_codes(tmp_path):
    root = tmp_path / "RAVDESS"
    wav(root / "Actor_01" / "03-01-01-01-01-01-01.wav")
    wav(root / "Actor_01" / "03-02-06-02-02-01-01.wav")  # song, fearful
    wav(root / "Actor_12" / "03-01-08-01-02-02-12.wav")
    wav(root / "Actor_12" / "01-01-05-01-01-01-12.wav")  # audio-video modality: not an audio-only clip
    task = get_task("ravdess")
    examples = task.load(root)
    assert labels_of(examples) == [("neutral",), ("fearful",), ("surprised",)]
    assert [e.fold for e in examples] == ["1", "1", "3"]
    assert task.prompt == "this person is feeling {}"


# ---- Vocal Sound, Speech Commands, NSynth, LibriCount -------------------------------------------


def test_vocalsound_labels_from_names_and_official_split(tmp_path):
    root = tmp_path / "vocalsound"
    for name in ["f0003_0_cough.wav", "m0004_1_throatclearing.wav", "f0007_0_sneeze.wav"]:
        wav(root / "audio_16k" / name)
    entry = lambda name: {"wav": f"/data/sls/vocalsound/audio_16k/{name}", "labels": "/m/vs_0"}  # noqa: E731
    write(root / "datafiles" / "tr.json", json.dumps({"data": [entry("f0003_0_cough.wav"), entry("m0004_1_throatclearing.wav")]}))
    write(root / "datafiles" / "te.json", json.dumps({"data": [entry("f0007_0_sneeze.wav")]}))
    task = get_task("vocalsound")
    assert labels_of(task.load(root, split="train")) == [("cough",), ("throat clearing",)]
    assert labels_of(task.load(root, split="test")) == [("sneeze",)]
    write(root / "datafiles" / "te.json", "{}")
    with pytest.raises(DatasetLayoutError, match="te.json"):
        task.load(root)


def test_speech_commands_lists_and_keyword_prompt(tmp_path):
    root = tmp_path / "speech_commands_v0.02"
    for relative in ["yes/0a7c2a8d_nohash_0.wav", "yes/0a9f9af7_nohash_1.wav", "no/012c8314_nohash_0.wav",
                     "_background_noise_/white_noise.wav"]:
        wav(root / relative)
    write(root / "validation_list.txt", "yes/0a9f9af7_nohash_1.wav\n")
    write(root / "testing_list.txt", "no/012c8314_nohash_0.wav\n")
    task = get_task("speech-commands")
    examples = task.load(root)
    assert [(e.labels[0], e.fold) for e in examples] == [("no", "test"), ("yes", "train"), ("yes", "validation")]
    assert task.prompts()[task.classes.index("yes")] == "yes" and len(task.classes) == 35
    (root / "testing_list.txt").unlink()
    with pytest.raises(DatasetLayoutError, match="testing_list.txt"):
        task.load(root)


def test_nsynth_instrument_family_from_examples_json(tmp_path):
    root = tmp_path / "nsynth"
    notes = {"guitar_acoustic_010-060-075": "guitar", "synth_lead_synthetic_000-100-127": "synth_lead"}
    for note in notes:
        wav(root / "nsynth-test" / "audio" / f"{note}.wav")
    write(root / "nsynth-test" / "examples.json",
          json.dumps({n: {"instrument_family_str": f, "instrument_family": 3, "pitch": 60} for n, f in notes.items()}))
    task = get_task("nsynth")
    assert labels_of(task.load(root, split="test")) == [("guitar",), ("synth lead",)]
    assert task.prompts()[task.classes.index("synth lead")] == "This is a sound of synth lead"
    with pytest.raises(DatasetLayoutError, match="nsynth-train"):
        task.load(root, split="train")


def test_libricount_count_from_file_name(tmp_path):
    root = tmp_path / "LibriCount10-0dB"
    for name in ["0_a1b2.wav", "3_77ef.wav", "10_c0ffee.wav"]:
        wav(root / "test" / name)
        write(root / "test" / name.replace(".wav", ".json"), "[]")
    task = get_task("libricount")
    assert labels_of(task.load(root)) == [("0",), ("3",), ("10",)]
    assert task.prompts()[3] == "3 persons speaking"
    wav(root / "test" / "eleven_x.wav")
    with pytest.raises(DatasetLayoutError, match="eleven_x.wav"):
        task.load(root)


# ---- retrieval --------------------------------------------------------------------------------


def test_audiocaps_groups_captions_and_skips_missing_audio(tmp_path, caplog):
    root = tmp_path / "AudioCaps"
    write(root / "dataset" / "test.csv",
          "audiocap_id,youtube_id,start_time,caption\n"
          "103549,7fmOlUlwoNg,20,A dog barks\n103550,7fmOlUlwoNg,20,Barking nearby\n"
          "103551,--0w1YA1Hm4,30,Rain falls\n103552,missingclip,0,Nothing here\n")
    wav(root / "audio" / "test" / "7fmOlUlwoNg.wav")
    wav(root / "audio" / "test" / "Y--0w1YA1Hm4.flac")
    task = get_task("audiocaps")
    examples = task.load(root, split="test")
    assert [e.captions for e in examples] == [("A dog barks", "Barking nearby"), ("Rain falls",)]
    assert examples[1].path.endswith("Y--0w1YA1Hm4.flac") and task.kind == RETRIEVAL
    assert "1 of 3 clips have no audio" in caplog.text
    with pytest.raises(DatasetLayoutError, match="val.csv"):
        task.load(root, split="val")


def test_audiocaps_as_aac_datasets_downloads_it(tmp_path):
    root = tmp_path / "AUDIOCAPS"
    write(root / "test.csv", "audiocap_id,youtube_id,start_time,caption\n103549,7fmOlUlwoNg,20,A dog barks\n")
    wav(root / "audio_32000Hz" / "test" / "7fmOlUlwoNg_20.flac")
    (example,) = get_task("audiocaps").load(root)
    assert example.path.endswith("audio_32000Hz/test/7fmOlUlwoNg_20.flac") and example.captions == ("A dog barks",)


def test_clotho_five_captions_per_clip(tmp_path):
    root = tmp_path / "clotho"
    captions = ",".join(f"caption_{i}" for i in range(1, 6))
    write(root / "clotho_captions_evaluation.csv",
          f"file_name,{captions}\n"
          '"Rain, on a roof.wav",rain drops,"rain, steady",water on tin,a storm,drizzle\n')
    wav(root / "evaluation" / "Rain, on a roof.wav")
    examples = get_task("clotho").load(root)
    assert examples[0].captions == ("rain drops", "rain, steady", "water on tin", "a storm", "drizzle")
    (root / "evaluation" / "Rain, on a roof.wav").unlink()
    with pytest.raises(DatasetLayoutError, match="missing"):
        get_task("clotho").load(root)


# ---- registry ---------------------------------------------------------------------------------


def test_registry_knows_every_task_and_finds_present_data(tmp_path):
    assert len(task_names()) == 14
    for name in task_names():
        task = get_task(name)
        assert task.name == name and task.kind in (SINGLE_LABEL, MULTI_LABEL, RETRIEVAL)
        assert task.protocol in ("folds", "splits") and task.folds_note and task.default_dirs
        assert (task.kind == RETRIEVAL) == (not task.classes)
        if task.protocol == "splits":
            assert task.train_split and task.test_split
    with pytest.raises(UnknownTaskError, match="esc50"):
        get_task("esc-5O")
    make_esc50(tmp_path / "ESC-50")
    (tmp_path / "unrelated").mkdir()
    assert [(task.name, path.name) for task, path in find_present(tmp_path)] == [("esc50", "ESC-50")]
