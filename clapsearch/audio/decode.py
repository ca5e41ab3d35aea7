"""Read audio files with soundfile: probe, stream as mono blocks at a model's rate, cut excerpts.

Every failure a file can cause (missing, empty, a directory, unreadable, not audio, truncated or
corrupt mid-stream) becomes a `DecodeError` whose message is one plain line, stored as the file's
error and shown to the user. Policies that change samples:

- Down-mix: the mean of the channels (never a reshape that interleaves them).
- Non-finite samples (NaN, +inf, -inf in float files) are replaced by 0 before down-mixing, so one
  bad sample neither poisons a whole window nor the other channels.
- Resampling: torchaudio's band-limited sinc filter, streamed seamlessly (see resample.py).
- A file that stops short without a decoder error (a truncated wav, mp3 or ogg) keeps the audio
  that is there (reading goes to the end of the data, not to the header's frame count); a decoder
  error partway (a truncated flac) fails the whole file.
"""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..errors import DecodeError
from .identity import content_hash
from .reasons import library_reason, os_reason
from .resample import StreamResampler, plan_resampling, resample

__all__ = ["AudioInfo", "probe", "read_blocks", "load_mono", "content_hash"]

# Interleaved samples decoded per read: 1 Mi float32 = 4 MiB whatever the rate or channel count.
READ_SAMPLES = 1 << 20


@dataclass(frozen=True)
class AudioInfo:
    sample_rate: int
    channels: int
    frames: int  # as the header says; a truncated mp3 may hold fewer
    duration: float  # frames / sample_rate, in seconds
    format: str  # soundfile's names, e.g. "WAV", "FLAC", "OGG", "MP3"
    subtype: str  # e.g. "PCM_16", "FLOAT", "VORBIS", "OPUS", "MPEG_LAYER_III"


def probe(path) -> AudioInfo:
    """Read the header only."""
    with _open(path) as f:
        return _info(f)


def read_blocks(path, target_rate: int, block_seconds: float = 30.0) -> Iterator[np.ndarray]:
    """Yield the whole file as mono float32 blocks at `target_rate`, about `block_seconds` each.

    Memory is a few blocks whatever the file length. The joined blocks equal resampling the whole
    file at once. Raises DecodeError (possibly after some blocks) if the file cannot be read.
    """
    with _open(path) as f:
        plan = plan_resampling(f.samplerate, int(target_rate))
        stream = StreamResampler(plan, int(block_seconds * plan.source_rate))
        produced = 0
        for mono in _mono_chunks(f, None):  # to the end: an MP3 header's frame count can be short
            for block in stream.feed(mono):
                produced += len(block)
                yield block
        for block in stream.finish():
            produced += len(block)
            yield block
    if produced == 0:
        raise DecodeError("the file holds no audio samples")


def load_mono(path, target_rate: int, start: float = 0.0, duration: float | None = None) -> np.ndarray:
    """Mono float32 at `target_rate` from `start` seconds for `duration` seconds (to the end if None).

    Seeks to the excerpt and decodes only it plus a few samples of resampling context (MP3: decodes
    from the start, see _seek), so the result matches the same stretch of `read_blocks` output.
    Meant for short excerpts (held in memory).
    """
    with _open(path) as f:
        length = f.frames / f.samplerate
        if start < 0 or start >= length:
            raise DecodeError(f"the excerpt start {start:g} s is outside the file, which lasts {length:.3f} s")
        if duration is not None and duration <= 0:
            raise DecodeError(f"the excerpt length must be positive, got {duration:g} s")
        end = length if duration is None else min(length, start + duration)
        plan = plan_resampling(f.samplerate, int(target_rate))
        out_start, out_stop = round(start * target_rate), max(round(end * target_rate), round(start * target_rate) + 1)
        # Decode whole polyphase steps around the excerpt, plus the filter's context either side.
        first = max(0, out_start // plan.step_out * plan.step_in - plan.context)
        last = min(f.frames, -(-out_stop // plan.step_out) * plan.step_in + plan.context)
        _seek(f, first)
        mono = np.concatenate([np.zeros(0, np.float32), *_mono_chunks(f, last - first)])
    offset = first // plan.step_in * plan.step_out
    return resample(mono, plan)[out_start - offset : out_stop - offset].copy()


def _seek(f, frame: int) -> None:
    """Position `f` at `frame` exactly.

    libsndfile seeks MP3 through mpg123, which is only approximate in VBR files (their Xing table
    has 100 points): the excerpt would come from the wrong place. MP3 is therefore decoded from the
    start and the samples before `frame` thrown away: exact, at the cost of decoding the prefix
    (MP3 decodes at roughly 100x real time on one busy core: an excerpt 10 minutes in costs ~6 s).
    """
    if f.format != "MP3":
        f.seek(frame)
        return
    for _ in _mono_chunks(f, frame):
        pass


def _info(f) -> AudioInfo:
    return AudioInfo(
        sample_rate=int(f.samplerate),
        channels=int(f.channels),
        frames=int(f.frames),
        duration=f.frames / f.samplerate if f.samplerate else 0.0,
        format=str(f.format),
        subtype=str(f.subtype),
    )


def _mono_chunks(f, frames: int | None) -> Iterator[np.ndarray]:
    """Decode up to `frames` frames (all if None) as mono float32 chunks of bounded size."""
    import soundfile

    per_read = max(1, READ_SAMPLES // f.channels)
    buffer = np.empty((per_read, f.channels), dtype=np.float32)
    remaining = frames
    while remaining is None or remaining > 0:
        want = per_read if remaining is None else min(per_read, remaining)
        try:
            got = _read(f, buffer[:want])
        except soundfile.LibsndfileError as error:
            reason = library_reason(error)
            raise DecodeError(f"decoding failed partway ({reason}); the file is probably truncated or corrupt") from None
        if len(got) == 0:
            return
        yield _down_mix(got)
        if remaining is not None:
            remaining -= len(got)
        if len(got) < want:
            return


def _read(f, out: np.ndarray) -> np.ndarray:
    """Fill `out` (frames, channels) float32 from the current position; return the part filled.

    soundfile re-seeks to the position it expects after every read. For VBR MP3 that seek goes
    through mpg123's approximate seeking and garbles a few thousand samples after each read, so
    MP3 is read with libsndfile's sf_readf_float directly, which just continues decoding.
    """
    import soundfile

    if f.format != "MP3" or not hasattr(soundfile, "_snd"):
        return f.read(len(out), dtype="float32", always_2d=True, out=out)
    pointer = soundfile._ffi.cast("float *", out.ctypes.data)
    got = soundfile._snd.sf_readf_float(f._file, pointer, len(out))
    if got < len(out) and soundfile._snd.sf_error(f._file):
        soundfile._error_check(soundfile._snd.sf_error(f._file))
    return out[:got]


def _down_mix(frames: np.ndarray) -> np.ndarray:
    """Mean of the channels, with non-finite samples counted as 0 (see the module docstring)."""
    mono = _channel_mean(frames)
    if not np.isfinite(mono).all():  # rare: one check here instead of scrubbing every sample
        np.nan_to_num(frames, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        mono = np.nan_to_num(_channel_mean(frames), copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    return mono


def _channel_mean(frames: np.ndarray) -> np.ndarray:
    # Summing whole columns is several times faster than frames.mean(axis=1), which reduces
    # along the short interleaved axis.
    mono = frames[:, 0].copy()
    for channel in range(1, frames.shape[1]):
        mono += frames[:, channel]
    if frames.shape[1] > 1:
        mono *= np.float32(1.0 / frames.shape[1])
    return mono


@contextmanager
def _open(path):
    """An open soundfile.SoundFile, or DecodeError with the reason it cannot be opened."""
    import soundfile

    _check_regular_nonempty(path)
    try:
        # Opening the descriptor ourselves gives exact OS errors (permissions) and accepts any
        # file name bytes (non-UTF-8 names), which libsndfile's own open does not.
        fd = os.open(path, os.O_RDONLY)
    except OSError as error:
        raise DecodeError(os_reason(error)) from None
    try:
        try:
            sound = soundfile.SoundFile(fd, closefd=False)  # we close fd ourselves, exactly once
        except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
            raise DecodeError(f"not an audio file soundfile can read ({library_reason(error)})") from None
        with sound:
            if sound.samplerate <= 0 or sound.channels <= 0:
                raise DecodeError("the file header gives no sample rate or no channels")
            yield sound
    finally:
        os.close(fd)


def _check_regular_nonempty(path) -> None:
    try:
        info = os.stat(path)
    except OSError as error:
        raise DecodeError(os_reason(error)) from None
    if stat.S_ISDIR(info.st_mode):
        raise DecodeError("this is a directory, not an audio file")
    if not stat.S_ISREG(info.st_mode):
        raise DecodeError("not a regular file (a pipe, socket or device cannot be indexed)")
    if info.st_size == 0:
        raise DecodeError("the file is empty")
