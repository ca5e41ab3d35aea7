"""Length-fair file scores: a file must not rank higher just because it has more windows.

A file's raw score is its best window's cosine. Under the null (a window unrelated to the query),
window cosines for one query spread around some mean with some deviation; the best of n such
windows grows with n (about sqrt(2 ln n) deviations), so a 3-minute track has 150 chances to look
like a match. We calibrate per query against the index: `null_stats` estimates the null's mean and
deviation from a fixed sample of the index's windows, a passage's cosine becomes a z-score, and the
file pays for its number of independent windows: z - E[max of n standard normals].

The default ("blend") also asks how well the whole file matches: its pooled vector (the mean of
its windows) is z-scored against a sample of the index's pooled vectors, and the two z-scores are
averaged. A long file does not gain from its length on either side; a file that matches all
through beats one with a single lucky window. docs/ranking.md has the measurements that chose it.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

METHODS = ("max", "expected-max", "pvalue", "blend")
DEFAULT_METHOD = "blend"
FILE_WEIGHT = 0.5  # share of the whole-file z in "blend": best of 0.25, 0.5, 0.75 (docs/ranking.md)
_NORMAL = NormalDist()
_TINY = 1e-300


def null_stats(sample_scores: np.ndarray) -> tuple[float, float]:
    """Robust mean and deviation of one query's window scores (median and scaled MAD).

    Robust, because the matching windows are in the sample too and must not widen the null."""
    scores = np.asarray(sample_scores, np.float64)
    if scores.size < 2:
        return 0.0, 1.0
    centre = float(np.median(scores))
    spread = 1.4826 * float(np.median(np.abs(scores - centre)))
    if spread <= 1e-9:
        spread = float(scores.std()) or 1e-3
    return centre, spread


def expected_max_z(n: int) -> float:
    """E[max of n independent standard normals], by Blom's approximation (0 for n = 1)."""
    n = max(1, int(n))
    return 0.0 if n == 1 else _NORMAL.inv_cdf((n - 0.375) / (n + 0.25))


def effective_windows(n: int, window: float, hop: float) -> int:
    """Windows overlapping by (window - hop) are not independent draws: count whole windows."""
    if hop <= 0 or window <= 0 or hop >= window:
        return max(1, int(n))
    return max(1, int(math.ceil(n * hop / window)))


def max_pvalue_score(z: float, n: int) -> float:
    """-log10 P(max of n null windows >= z): the file's evidence, comparable across lengths."""
    tail = 0.5 * math.erfc(z / math.sqrt(2.0))  # P(one null window >= z)
    if tail <= 0.0:
        # Beyond float range: the log of the tail's asymptote keeps the order for huge z.
        log_tail = -0.5 * z * z - math.log(max(z, 1.0) * math.sqrt(2 * math.pi))
        return -(log_tail + math.log(n)) / math.log(10)
    # P(max >= z) = 1 - (1 - tail)^n, computed without cancellation.
    p = -math.expm1(n * math.log1p(-tail)) if tail < 1.0 else 1.0
    return -math.log10(max(p, _TINY))


def file_score(best: float, n: int, stats: tuple[float, float], method: str = DEFAULT_METHOD,
               file_z: float | None = None, file_weight: float = FILE_WEIGHT) -> float:
    """The sorting score of a file whose best window scored `best` among its `n` (effective) windows.

    file_z: the file's pooled vector's z-score against the index's pooled vectors ("blend" only;
    None when the file has none, and then the passage's score stands alone); file_weight: its share."""
    if method == "max":
        return float(best)
    mean, deviation = stats
    z = (float(best) - mean) / deviation
    if method == "expected-max":
        return z - expected_max_z(n)
    if method == "blend":
        passage = z - expected_max_z(n)
        return passage if file_z is None else file_weight * file_z + (1.0 - file_weight) * passage
    if method == "pvalue":
        return max_pvalue_score(z, n)
    raise ValueError(f"unknown ranking method {method!r}; one of {', '.join(METHODS)}")
