"""Read audio files with soundfile: probe, stream as mono blocks at a model's rate, cut excerpts.

Every failure a file can cause (missing, empty, a directory, unreadable, not audio, mostly not
numbers) becomes a `DecodeError` whose message is one plain line, stored as the file's error and
shown to the user. Files are opened by path, so libsndfile can use the extension to recognise a
format whose first bytes do not say it (an MP3 that starts with an empty ID3v2 tag).

Streaming a whole file (`read_blocks`) also fills a `DecodeReport` with what was odd about it; each
anomaly becomes a one-line warning stored on the file and shown to the user, and the audio that
could be read is kept:

- Non-finite samples (NaN, +inf, -inf in float files) are replaced by 0 before down-mixing, so one
  bad sample neither poisons a whole window nor the other channels. When most of a file's frames
  are non-finite there is nothing to index and the file fails.
- A file that holds less audio than its header promises (a truncated copy or download) is indexed
  for what is there. libsndfile shortens the frame count of a cut WAV or AIFF to what the file
  holds, so for those the header's own data size is read from libsndfile's log.
- An Ogg file whose page chain is broken (garbage in the middle) is checked page by page
  (ogg_pages.py), since its decoders skip what they cannot use without a word.
- A decoder error partway (a corrupt or cut FLAC, a damaged MP3) ends the stream there; what was
  decoded before it is kept. An error before any audio fails the file.
- Down-mix: the mean of the channels (never a reshape that interleaves them).
- Resampling: torchaudio's band-limited sinc filter, streamed seamlessly (see resample.py).
"""

from __future__ import annotations

import os
import re
import stat
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np

from ..errors import DecodeError
from .identity import content_hash
from .ogg_pages import find_damage
from .reasons import library_reason, os_reason
from .resample import StreamResampler, plan_resampling, resample

__all__ = ["AudioInfo", "DecodeReport", "probe", "read_blocks", "load_mono", "content_hash"]

# Interleaved samples decoded per read: 64 Ki float32 = 256 KiB whatever the rate or channel count;
# small, because a read that fails returns none of what it decoded (see _mono_chunks).
READ_SAMPLES = 1 << 16

# Frames per read when a failed read is retried, to keep what was decoded before the error.
RETRY_FRAMES = 4096

# A file fails when more than this share of its frames is not finite; fewer are zeroed, with a warning.
MOSTLY_NON_FINITE = 0.5

# A lossy file's header length can exceed what decodes by the codec's delay and padding, which is
# not a cut: an MP3's (from its Xing/Info table, or estimated from the bitrate) by up to two frames
# of 1152 plus 1 %; an Ogg's (its last page's granule position) by less than one Vorbis long block
# or Opus frame (seen: 40 frames short in a whole Vorbis file).
MP3_LENGTH_SLACK_FRAMES = 2 * 1152
OGG_LENGTH_SLACK_FRAMES = 4096

# libsndfile's log line for a chunk whose size in the header exceeds what the file holds,
# e.g. "data : 96000 (should be 2956)" (WAV) or " SSND : 96008 (should be 2954)" (AIFF).
_SHORT_CHUNK = re.compile(r"^\s*(?:data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.M)
_BYTES_PER_SAMPLE = {"PCM_S8": 1, "PCM_U8": 1, "ULAW": 1, "ALAW": 1, "PCM_16": 2, "PCM_24": 3,
                     "PCM_32": 4, "FLOAT": 4, "DOUBLE": 8}


@dataclass(frozen=True)
class AudioInfo:
    sample_rate: int
    channels: int
    frames: int  # as the header says; a truncated mp3 may hold fewer
    duration: float  # frames / sample_rate, in seconds
    format: str  # soundfile's names, e.g. "WAV", "FLAC", "OGG", "MP3"
    subtype: str  # e.g. "PCM_16", "FLOAT", "VORBIS", "OPUS", "MPEG_LAYER_III"


@dataclass
class DecodeReport:
    """What streaming a file found besides its samples (filled by `read_blocks`)."""

    frames_read: int = 0  # frames decoded, at the file's own rate
    non_finite_frames: int = 0  # frames with a NaN or infinite sample in any channel (set to 0)
    stopped_by: str | None = None  # the decoder's reason, when it failed partway
    warnings: list[str] = field(default_factory=list)  # one line each, for the user


def probe(path) -> AudioInfo:
    """Read the header only."""
    with _open(path) as f:
        return _info(f)


def read_blocks(path, target_rate: int, block_seconds: float = 30.0,
                report: DecodeReport | None = None) -> Iterator[np.ndarray]:
    """Yield the whole file as mono float32 blocks at `target_rate`, about `block_seconds` each.

    Memory is a few blocks whatever the file length. The joined blocks equal resampling the whole
    file at once. Anomalies are written to `report` (see the module docstring); raises DecodeError
    (possibly after some blocks) when the file cannot be read or holds nothing worth indexing.
    """
    report = report if report is not None else DecodeReport()
    with _open(path) as f:
        plan = plan_resampling(f.samplerate, int(target_rate))
        stream = StreamResampler(plan, int(block_seconds * plan.source_rate))
        produced = 0
        for mono in _mono_chunks(f, None, report):  # to the end: an MP3 header's frame count can be short
            for block in stream.feed(mono):
                produced += len(block)
                yield block
        for block in stream.finish():
            produced += len(block)
            yield block
        _check_what_was_read(f, report)
    if produced == 0:
        raise DecodeError("the file holds no audio samples")


def _check_what_was_read(f, report: DecodeReport) -> None:
    """Fail a file that is mostly not numbers; turn the other anomalies into warnings."""
    read, rate = report.frames_read, f.samplerate
    if report.non_finite_frames > MOSTLY_NON_FINITE * max(read, 1):
        raise DecodeError(f"{report.non_finite_frames / max(read, 1):.0%} of its samples are not numbers "
                          "(NaN or infinity); the file is corrupt or was written wrongly")
    if report.non_finite_frames:
        report.warnings.append(f"{report.non_finite_frames} of its {read} frames held NaN or infinite "
                               "samples, indexed as silence")
    if report.stopped_by is not None:
        report.warnings.append(f"decoding stopped at {read / rate:.3f} s ({report.stopped_by}); "
                               "only the audio before that point is indexed")
        return
    if f.format == "OGG":
        damage = find_damage(f.name)
        if damage is not None:
            report.warnings.append(f"the Ogg stream is damaged from byte {damage.first_offset} "
                                   f"({damage.bad_bytes} bytes are no valid page, {damage.missing_pages} pages "
                                   "missing); the decoder skipped them, so audio there is missing or wrong")
    promised = _promised_frames(f)
    slack = {"MP3": MP3_LENGTH_SLACK_FRAMES + f.frames // 100, "OGG": OGG_LENGTH_SLACK_FRAMES}.get(f.format, 0)
    if promised is not None and read + slack < promised:
        report.warnings.append(f"the file is cut short: its header promises {promised / rate:.3f} s but it "
                               f"holds {read / rate:.3f} s, which is what is indexed")


def _promised_frames(f) -> int | None:
    """The length the file's header promises, in frames (None when it cannot be told)."""
    match = _SHORT_CHUNK.search(f.extra_info) if f.format in ("WAV", "WAVEX", "RF64", "AIFF") else None
    if match is None:
        return f.frames
    width = _BYTES_PER_SAMPLE.get(f.subtype)
    promised_bytes, held_bytes = int(match.group(1)), int(match.group(2))
    if width is None or promised_bytes <= held_bytes:
        return f.frames
    return f.frames + (promised_bytes - held_bytes) // (width * f.channels)


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


def _mono_chunks(f, frames: int | None, report: DecodeReport | None = None) -> Iterator[np.ndarray]:
    """Decode up to `frames` frames (all if None) as mono float32 chunks of bounded size.

    A decoder error raises DecodeError, except when streaming a whole file with a `report`: then
    the failed read is retried in small pieces from where it started (a failed read returns none
    of the frames it did decode), the stream ends at the error, and the report says why; only an
    error before any audio fails the file.
    """
    import soundfile

    per_read = max(1, READ_SAMPLES // f.channels)
    buffer = np.empty((per_read, f.channels), dtype=np.float32)
    remaining, retrying = frames, False
    while remaining is None or remaining > 0:
        want = per_read if remaining is None else min(per_read, remaining)
        try:
            got = _read(f, buffer[:want])
        except soundfile.LibsndfileError as error:
            if report is not None and not retrying and _rewind(f, report.frames_read):
                per_read, retrying = min(per_read, RETRY_FRAMES), True
                continue
            if report is not None and report.frames_read > 0:
                report.stopped_by = library_reason(error)
                return
            raise DecodeError(f"decoding failed partway ({library_reason(error)}); "
                              "the file is probably truncated or corrupt") from None
        if len(got) == 0:
            return
        mono, non_finite = _down_mix(got)
        if report is not None:
            report.frames_read += len(got)
            report.non_finite_frames += non_finite
        yield mono
        if remaining is not None:
            remaining -= len(got)
        if len(got) < want:
            return


def _rewind(f, frame: int) -> bool:
    """Go back to `frame` after a failed read; False when the decoder cannot."""
    import soundfile

    try:
        if f.format == "MP3":
            f.seek(0)  # _seek decodes MP3 forward from where it is
        _seek(f, frame)
    except (soundfile.LibsndfileError, DecodeError):
        return False
    return True


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


def _down_mix(frames: np.ndarray) -> tuple[np.ndarray, int]:
    """Mean of the channels, with non-finite samples counted as 0 (see the module docstring);
    also how many frames held a non-finite sample."""
    mono = _channel_mean(frames)
    if np.isfinite(mono).all():  # the usual case: one check here instead of scrubbing every sample
        return mono, 0
    bad = int((~np.isfinite(frames)).any(axis=1).sum())
    np.nan_to_num(frames, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    mono = np.nan_to_num(_channel_mean(frames), copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    return mono, bad


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
    _check_readable(path)
    try:
        # By path, as bytes: libsndfile then sees the extension (it needs it for some MP3s) and
        # any file name bytes (non-UTF-8 names) reach the OS unchanged.
        sound = soundfile.SoundFile(os.fsencode(path))
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
        raise DecodeError(f"not an audio file soundfile can read ({library_reason(error)})") from None
    with sound:
        if sound.samplerate <= 0 or sound.channels <= 0:
            raise DecodeError("the file header gives no sample rate or no channels")
        yield sound


def _check_readable(path) -> None:
    """Exact OS reasons (permission denied, a link loop) that libsndfile's own open would blur."""
    try:
        os.close(os.open(path, os.O_RDONLY))
    except OSError as error:
        raise DecodeError(os_reason(error)) from None


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
