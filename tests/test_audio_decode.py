"""clapsearch.audio.decode: formats, rates, channels, bad files, seamless block resampling, excerpts."""

import math
import os
import tempfile

import numpy as np
import pytest
import soundfile
import torch
import torchaudio

from clapsearch.audio import decode as decode_module
from clapsearch.audio.decode import AudioInfo, DecodeReport, content_hash, load_mono, probe, read_blocks
from clapsearch.audio.formats import AUDIO_EXTENSIONS
from clapsearch.audio.resample import plan_resampling
from clapsearch.errors import DecodeError
from tests.audio_gen import FORMATS, OPUS_RATES, chirp, noise, tone, write_audio


def decode(path, rate, **kwargs) -> np.ndarray:
    return np.concatenate(list(read_blocks(path, rate, **kwargs)))


def whole_file_reference(samples: np.ndarray, sr: int, rate: int, functional: bool = False) -> np.ndarray:
    """Down-mix by mean and resample the whole signal at once with torchaudio.

    transforms.Resample builds its sinc kernel in float64 before rounding it to float32;
    functional.resample builds it in float32, so the two differ by up to ~1e-4 (the same filter).
    """
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    mono = torch.from_numpy(np.ascontiguousarray(mono, dtype=np.float32))
    if sr == rate:
        return mono.numpy()
    if functional:
        return torchaudio.functional.resample(mono, sr, rate).numpy()
    return torchaudio.transforms.Resample(sr, rate)(mono).numpy()


def dominant_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


# ---- formats ------------------------------------------------------------------------------------


def test_libsndfile_encodes_every_listed_format():
    available = soundfile.available_formats()
    for extension in AUDIO_EXTENSIONS:
        container, subtype = FORMATS[extension]
        assert container in available, extension
        assert subtype in soundfile.available_subtypes(container), extension


@pytest.mark.parametrize("extension", sorted(AUDIO_EXTENSIONS))
def test_every_format_decodes_to_mono_at_the_model_rate(tmp_path, extension):
    sr = 48000 if extension == ".opus" else 44100
    path = write_audio(tmp_path / f"tone{extension}", tone(440, 1.0, sr, channels=2), sr)
    info = probe(path)
    assert (info.sample_rate, info.channels) == (sr, 2)
    assert info.format == FORMATS[extension][0]
    assert info.duration == pytest.approx(1.0, abs=0.06)  # lossy codecs may pad a frame
    mono = decode(path, 16000)
    assert mono.dtype == np.float32 and mono.ndim == 1
    assert abs(len(mono) - 16000) <= 0.06 * 16000
    assert dominant_frequency(mono, 16000) == pytest.approx(440, abs=4)
    # channel 1 is channel 0 at half amplitude (audio_gen), so the mean peaks at 0.75 * 0.5
    assert np.abs(mono).max() == pytest.approx(0.375, abs=0.05)


@pytest.mark.parametrize("sr", [8000, 11025, 22050, 32000, 44100, 48000, 88200, 96000, 176400, 192000])
def test_sample_rates_8k_to_192k_match_whole_file_resampling(tmp_path, sr):
    samples = chirp(50, min(7000, sr / 2 - 100), 0.5, sr)
    path = write_audio(tmp_path / "chirp.wav", samples, sr, subtype="FLOAT")
    assert probe(path).sample_rate == sr
    for rate in (16000, 44100):
        got = decode(path, rate)
        expected = whole_file_reference(samples, sr, rate)
        assert len(got) == math.ceil(len(samples) * rate / sr)
        np.testing.assert_allclose(got, expected, atol=1e-5)
        np.testing.assert_allclose(got, whole_file_reference(samples, sr, rate, functional=True), atol=3e-4)


@pytest.mark.parametrize("rates", [(22050, 44100), (11025, 44100), (44100, 22050), (48000, 16000), (176400, 44100)])
def test_small_kernels_summed_in_numpy_equal_torchaudio(rates):
    from clapsearch.audio import resample as r

    sr, rate = rates
    plan = plan_resampling(sr, rate)
    module = r._resampler(sr, rate)
    assert module.kernel.shape[0] * module.kernel.shape[-1] <= r.SLICE_SUM_MAX_TAPS  # the numpy path
    samples = np.random.default_rng(0).uniform(-1, 1, sr // 3 + 7).astype(np.float32)
    expected = module(torch.from_numpy(samples)).numpy()
    got = r.resample(samples, plan)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=2e-6)


@pytest.mark.parametrize("channels", range(1, 9))
def test_down_mix_is_the_mean_of_the_channels(tmp_path, channels):
    rng = np.random.default_rng(channels)
    samples = rng.uniform(-1, 1, (4000, channels)).astype(np.float32)
    path = write_audio(tmp_path / "multi.wav", samples, 16000, subtype="FLOAT")
    assert probe(path).channels == channels
    np.testing.assert_allclose(decode(path, 16000), samples.mean(axis=1), atol=1e-6)


def test_opus_at_each_of_its_rates(tmp_path):
    for sr in OPUS_RATES:
        path = write_audio(tmp_path / f"t{sr}.opus", tone(300, 0.5, sr), sr)
        mono = decode(path, 16000)
        assert dominant_frequency(mono, 16000) == pytest.approx(300, abs=5), sr


def test_non_finite_samples_become_zero_before_down_mixing(tmp_path):
    samples = np.full((1000, 2), 0.25, dtype=np.float32)
    samples[10, 0], samples[20, 1], samples[30, 0] = np.nan, np.inf, -np.inf
    path = write_audio(tmp_path / "nan.wav", samples, 16000, subtype="FLOAT")
    mono = decode(path, 16000)
    assert np.isfinite(mono).all()
    assert mono[10] == mono[20] == mono[30] == pytest.approx(0.125)
    assert mono[0] == pytest.approx(0.25)
    assert np.isfinite(decode(path, 44100)).all()  # and nothing non-finite reaches the resampler
    report = DecodeReport()
    decode(path, 16000, report=report)
    assert (report.frames_read, report.non_finite_frames) == (1000, 3)
    assert report.warnings == ["3 of its 1000 frames held NaN or infinite samples, indexed as silence"]


@pytest.mark.parametrize("share, fails", [(1.0, True), (0.6, True), (0.4, False)])
def test_a_file_mostly_not_numbers_fails(tmp_path, share, fails):
    samples = np.full(10000, 0.25, dtype=np.float32)
    samples[: int(share * len(samples))] = np.nan
    path = write_audio(tmp_path / "nan.wav", samples, 16000, subtype="FLOAT")
    if fails:
        assert decode_error(path) == (f"{share:.0%} of its samples are not numbers (NaN or infinity); "
                                      "the file is corrupt or was written wrongly")
    else:
        report = DecodeReport()
        assert len(decode(path, 16000, report=report)) == 10000
        assert report.warnings == ["4000 of its 10000 frames held NaN or infinite samples, indexed as silence"]


def test_odd_rate_gets_a_bounded_kernel(tmp_path):
    plan = plan_resampling(44101, 16000)  # coprime: the exact kernel would need ~700 M taps
    assert plan.source_rate == 44100
    path = write_audio(tmp_path / "odd.wav", tone(1000, 0.5, 44101), 44101)
    mono = decode(path, 16000)
    assert abs(len(mono) - 8000) <= 2
    assert dominant_frequency(mono, 16000) == pytest.approx(1000, abs=4)


# ---- streaming ----------------------------------------------------------------------------------


@pytest.mark.parametrize("sr,rate", [(44100, 16000), (8000, 16000), (48000, 44100), (16000, 16000)])
def test_blockwise_resampling_is_seamless(tmp_path, sr, rate):
    samples = chirp(40, 3900, 6.0, sr, channels=2) + noise(6.0, sr, channels=2, amplitude=0.05)
    path = write_audio(tmp_path / "long.wav", samples, sr, subtype="FLOAT")
    blocks = list(read_blocks(path, rate, block_seconds=0.37))
    assert len(blocks) >= 10
    expected = whole_file_reference(samples, sr, rate)
    got = np.concatenate(blocks)
    assert len(got) == len(expected)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(got, decode(path, rate, block_seconds=30.0), atol=1e-5)


def test_blocks_have_bounded_length(tmp_path):
    path = write_audio(tmp_path / "n.flac", noise(20.0, 22050), 22050)
    lengths = [len(block) for block in read_blocks(path, 16000, block_seconds=2.0)]
    assert sum(lengths) == math.ceil(20.0 * 22050 * 16000 / 22050)
    assert max(lengths) <= 2.0 * 16000 + 16000 // 100  # one block, rounded up to a polyphase step


@pytest.mark.slow
def test_long_file_streams_in_bounded_memory(tmp_path):
    """20 minutes decode to 77 MB of float32 at 16 kHz; streaming must stay far below that."""
    from clapsearch.audio.windows import iter_windows

    path = tmp_path / "twenty-minutes.wav"
    with soundfile.SoundFile(path, "w", 8000, 1, "PCM_16") as f:
        for minute in range(20):
            f.write(noise(60.0, 8000, seed=minute))
    with open("/proc/self/clear_refs", "w") as f:  # Linux: reset the peak-RSS mark (VmHWM)
        f.write("5")
    baseline = _status_kib("VmRSS")
    count = sum(1 for _ in iter_windows(read_blocks(path, 16000), 16000, 8000))
    assert count == 20 * 60 * 2 - 1
    growth_mib = (_status_kib("VmHWM") - baseline) / 1024
    assert growth_mib < 40, f"peak RSS grew by {growth_mib:.0f} MiB while streaming"


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(field)


def test_vbr_mp3_read_in_small_chunks_matches_one_read(tmp_path, monkeypatch):
    """soundfile re-seeks after every read, and mpg123 seeks VBR MP3 only approximately (decode._read)."""
    path = write_audio(tmp_path / "vbr.mp3", chirp(60, 3000, 8.0, 44100), 44100)
    with soundfile.SoundFile(path) as f:
        assert "bitrate mode   : variable" in f.extra_info
        whole = f.read(dtype="float32")  # one read from the start: no seek involved
    monkeypatch.setattr(decode_module, "READ_SAMPLES", 4096)
    chunked = decode(path, 44100)
    assert len(chunked) == len(whole)
    np.testing.assert_allclose(chunked, whole, atol=1e-6)


# ---- excerpts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extension,sr",
    [(".wav", 44100), (".flac", 22050), (".wav", 16000), (".aiff", 8000), (".ogg", 44100), (".opus", 48000), (".mp3", 44100)],
)
def test_load_mono_matches_the_same_stretch_of_the_stream(tmp_path, extension, sr):
    path = write_audio(tmp_path / f"c{extension}", chirp(60, 3000, 8.0, sr, channels=2), sr)
    whole = decode(path, 16000)
    for start, duration in [(0.0, 1.0), (2.5, 1.3), (3.001, 0.5), (7.5, 5.0), (0.0, None), (6.2, None)]:
        excerpt = load_mono(path, 16000, start, duration)
        first = round(start * 16000)
        last = len(whole) if duration is None else min(len(whole), round((start + duration) * 16000))
        assert len(excerpt) == last - first
        np.testing.assert_allclose(excerpt, whole[first:last], atol=1e-5)


def test_load_mono_rejects_excerpts_outside_the_file(tmp_path):
    path = write_audio(tmp_path / "short.wav", tone(440, 2.0, 16000), 16000)
    with pytest.raises(DecodeError, match="outside the file"):
        load_mono(path, 16000, 2.5, 1.0)
    with pytest.raises(DecodeError, match="outside the file"):
        load_mono(path, 16000, -1.0)
    with pytest.raises(DecodeError, match="positive"):
        load_mono(path, 16000, 1.0, 0.0)


# ---- bad files ----------------------------------------------------------------------------------


def decode_error(path) -> str:
    with pytest.raises(DecodeError) as raised:
        probe(path)
        decode(path, 16000)
    message = str(raised.value)
    assert "\n" not in message and message
    return message


def test_empty_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    assert decode_error(tmp_path / "empty.wav") == "the file is empty"


def test_text_file_named_wav(tmp_path):
    (tmp_path / "notes.wav").write_text("these are my notes, not a recording\n" * 20)
    assert decode_error(tmp_path / "notes.wav").startswith("not an audio file soundfile can read (")


@pytest.mark.parametrize("extension", [".wav", ".flac", ".ogg", ".mp3", ".opus"])
def test_header_only_file_fails(tmp_path, extension):
    sr = 48000 if extension == ".opus" else 44100
    whole = write_audio(tmp_path / f"whole{extension}", noise(1.0, sr), sr).read_bytes()
    (tmp_path / f"cut{extension}").write_bytes(whole[:24])
    assert decode_error(tmp_path / f"cut{extension}")


@pytest.mark.parametrize("extension", [".wav", ".ogg", ".mp3"])
def test_truncated_file_without_decoder_error_keeps_what_is_there(tmp_path, extension):
    path = write_audio(tmp_path / f"whole{extension}", noise(4.0, 16000), 16000)
    (tmp_path / f"cut{extension}").write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    whole, cut = decode(path, 16000), decode(tmp_path / f"cut{extension}", 16000)
    assert 0.2 * len(whole) < len(cut) < 0.6 * len(whole)  # headers take a share of the bytes
    kept = int(0.9 * len(cut))  # the last few samples may differ where the codec's data stops
    np.testing.assert_allclose(cut[:kept], whole[:kept], atol=1e-4)


def test_mp3_starting_with_an_empty_id3v2_tag_is_read_by_its_name(tmp_path):
    # libsndfile cannot tell such a file from its bytes (mpg123 skips a zero-length tag with a
    # warning, but the format probe fails), only from its .mp3 extension: files are opened by path.
    plain = write_audio(tmp_path / "plain.mp3", tone(440, 2.0, 16000), 16000).read_bytes()
    empty_id3v2 = b"ID3\x03\x00\x00\x00\x00\x00\x00"  # version 2.3, no flags, size 0
    (tmp_path / "tagged.mp3").write_bytes(empty_id3v2 + plain)
    assert probe(tmp_path / "tagged.mp3").format == "MP3"
    mono = decode(tmp_path / "tagged.mp3", 16000)
    assert abs(len(mono) - 32000) < 2000 and dominant_frequency(mono, 16000) == pytest.approx(440, abs=4)


@pytest.mark.parametrize("extension", [".wav", ".aiff"])
def test_a_cut_pcm_file_is_kept_with_a_warning_giving_the_promised_length(tmp_path, extension):
    whole = write_audio(tmp_path / f"whole{extension}", tone(440, 3.0, 16000), 16000).read_bytes()
    (tmp_path / f"cut{extension}").write_bytes(whole[:3000])
    report = DecodeReport()
    cut = decode(tmp_path / f"cut{extension}", 16000, report=report)
    [warning] = report.warnings
    assert warning == (f"the file is cut short: its header promises 3.000 s but it holds {len(cut) / 16000:.3f} s, "
                       "which is what is indexed")
    assert report.stopped_by is None and 1400 < len(cut) < 1500


def test_a_whole_file_gets_no_warning(tmp_path):
    for extension in (".wav", ".aiff", ".flac", ".ogg", ".mp3"):
        report = DecodeReport()
        decode(write_audio(tmp_path / f"w{extension}", noise(3.0, 16000), 16000), 16000, report=report)
        assert report.warnings == [], extension


def test_truncated_flac_keeps_the_audio_before_the_decoder_stops(tmp_path):
    samples = noise(20.0, 16000)
    whole = write_audio(tmp_path / "whole.flac", samples, 16000).read_bytes()
    (tmp_path / "cut.flac").write_bytes(whole[: len(whole) // 2])
    report = DecodeReport()
    cut = decode(tmp_path / "cut.flac", 16000, report=report)
    assert 8 * 16000 < len(cut) < 10 * 16000
    np.testing.assert_allclose(cut[: len(cut) - 100], decode(tmp_path / "whole.flac", 16000)[: len(cut) - 100],
                               atol=1e-6)
    [warning] = report.warnings
    assert warning.startswith(f"decoding stopped at {report.frames_read / 16000:.3f} s (")


def test_a_flac_damaged_from_its_first_frame_fails_with_one_line(tmp_path):
    data = bytearray(write_audio(tmp_path / "whole.flac", noise(2.0, 16000), 16000).read_bytes())
    first_frame = data.index(b"\xff\xf8")  # a FLAC frame's sync code, after the metadata blocks
    data[first_frame:] = np.random.default_rng(0).bytes(len(data) - first_frame)
    (tmp_path / "bad.flac").write_bytes(bytes(data))
    assert "truncated or corrupt" in decode_error(tmp_path / "bad.flac")


def test_corrupt_flac_keeps_the_audio_before_the_damage(tmp_path):
    data = bytearray(write_audio(tmp_path / "c.flac", noise(20.0, 16000), 16000).read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4000] = np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes()
    (tmp_path / "c.flac").write_bytes(bytes(data))
    report = DecodeReport()
    kept = decode(tmp_path / "c.flac", 16000, report=report)
    assert 5 * 16000 < len(kept) < 12 * 16000 and report.stopped_by
    assert report.warnings[0].startswith("decoding stopped at ")


def test_ogg_with_garbage_in_the_middle_is_kept_with_a_warning(tmp_path):
    from clapsearch.audio.ogg_pages import find_damage

    path = write_audio(tmp_path / "whole.ogg", noise(30.0, 44100), 44100)
    assert find_damage(path) is None
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 20000] = np.random.default_rng(0).bytes(20000)
    (tmp_path / "bad.ogg").write_bytes(bytes(data))
    damage = find_damage(tmp_path / "bad.ogg")
    assert damage is not None and middle - 9000 < damage.first_offset <= middle and damage.bad_bytes >= 15000
    report = DecodeReport()
    decode(tmp_path / "bad.ogg", 16000, report=report)
    assert report.warnings[0].startswith(f"the Ogg stream is damaged from byte {damage.first_offset} (")


def test_random_bytes_with_audio_extension(tmp_path):
    (tmp_path / "x.mp3").write_bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    (tmp_path / "x.flac").write_bytes(np.random.default_rng(2).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    for name in ("x.mp3", "x.flac"):
        try:
            decode(tmp_path / name, 16000)  # an mp3 decoder may find "frames" in noise; that is fine
        except DecodeError as error:
            assert "\n" not in str(error)


def test_missing_file_directory_fifo_and_link_loop(tmp_path):
    assert "does not exist" in decode_error(tmp_path / "missing.wav")
    (tmp_path / "folder.wav").mkdir()
    assert "directory" in decode_error(tmp_path / "folder.wav")
    os.mkfifo(tmp_path / "pipe.wav")  # opening a FIFO would block: it must be refused before that
    assert "not a regular file" in decode_error(tmp_path / "pipe.wav")
    os.symlink(tmp_path / "loop-b.wav", tmp_path / "loop-a.wav")
    os.symlink(tmp_path / "loop-a.wav", tmp_path / "loop-b.wav")
    assert decode_error(tmp_path / "loop-a.wav") == "symbolic link loop"
    os.symlink(tmp_path / "nowhere.wav", tmp_path / "dangling.wav")
    assert "broken symbolic link" in decode_error(tmp_path / "dangling.wav")


def test_unreadable_file_reports_permission_denied():
    """chmod 000 does not stop root, so as root the check runs with the effective uid of `nobody`
    (seteuid, restored afterwards): the kernel itself then refuses the open."""
    folder = tempfile.mkdtemp()
    os.chmod(folder, 0o755)
    path = write_audio(os.path.join(folder, "locked.wav"), tone(440, 0.2, 16000), 16000)
    os.chmod(path, 0)
    as_root = os.geteuid() == 0
    try:
        if as_root:
            os.seteuid(65534)
        message = decode_error(path)
        with pytest.raises(DecodeError, match="permission denied"):
            content_hash(path)
    finally:
        if as_root:
            os.seteuid(0)
        os.chmod(path, 0o644)
        os.remove(path)
        os.rmdir(folder)
    assert message == "permission denied (make the file readable by this user)"


def test_non_utf8_and_space_laden_names(tmp_path):
    name = os.fsencode(tmp_path) + b"/caf\xe9 dog  bark.wav"
    write_audio(name, tone(440, 0.5, 16000), 16000)
    for path in (name, os.fsdecode(name)):
        assert probe(path) == AudioInfo(16000, 1, 8000, 0.5, "WAV", "PCM_16")
        assert len(decode(path, 16000)) == 8000
        assert len(content_hash(path)) == 32


# ---- content identity ---------------------------------------------------------------------------


def test_content_hash_follows_content_not_name(tmp_path):
    small = write_audio(tmp_path / "a.wav", noise(1.0, 16000), 16000)
    copy = tmp_path / "moved" / "renamed.wav"
    copy.parent.mkdir()
    copy.write_bytes(small.read_bytes())
    assert content_hash(small) == content_hash(copy) == content_hash(str(copy))
    data = bytearray(small.read_bytes())
    data[-1] ^= 1
    copy.write_bytes(bytes(data))
    assert content_hash(copy) != content_hash(small)


def test_content_hash_of_large_files_samples_start_middle_and_end(tmp_path):
    big = tmp_path / "big.raw"
    data = bytearray(np.random.default_rng(3).integers(0, 256, 8 << 20, dtype=np.uint8).tobytes())
    big.write_bytes(bytes(data))
    original = content_hash(big)
    for offset in (10, len(data) // 2, len(data) - 10):  # inside each sampled MiB
        changed = bytearray(data)
        changed[offset] ^= 0xFF
        big.write_bytes(bytes(changed))
        assert content_hash(big) != original
    big.write_bytes(bytes(data) + b"\0")  # a size change alone is seen too
    assert content_hash(big) != original
