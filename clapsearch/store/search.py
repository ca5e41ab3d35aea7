"""Nearest-neighbour search over segments and pooled file vectors, with filters.

Filters become a set of allowed ids computed in SQLite and handed to FAISS as an
IDSelector, so a filtered search still returns k hits whenever k matching ones exist.
With `dedupe`, hits collapse to the best segment per file; the search then over-fetches and
widens until it has k distinct files or has seen every candidate.
"""

import re

import numpy as np

from .codec import path_to_sql
from .rows import Filters, Hit
from .vector_index import FLAT

# An HNSW graph searched with a very selective filter loses recall; below this many allowed
# segments an exact scan of just those vectors is both exact and fast.
EXACT_SUBSET_LIMIT = 50_000
OVERFETCH = 4


def filter_sql(filters: Filters | None) -> tuple[str, list]:
    """A WHERE clause over `files f` for indexed files that pass the filters, and its parameters."""
    clauses, params = ["f.status = 'indexed'"], []
    if filters is None:
        return clauses[0], params
    if filters.under is not None:
        prefix = path_to_sql(str(filters.under).rstrip("/") + "/")
        # Byte-wise prefix test: no LIKE wildcards to escape, and non-UTF-8 names work.
        clauses.append("substr(CAST(f.path AS BLOB), 1, ?) = ?")
        params += [len(prefix), prefix]
    if filters.min_duration is not None:
        clauses.append("f.duration >= ?")
        params.append(float(filters.min_duration))
    if filters.max_duration is not None:
        clauses.append("f.duration <= ?")
        params.append(float(filters.max_duration))
    if filters.exts:
        exts = [e.lower() if e.startswith(".") else "." + e.lower() for e in filters.exts]
        tests = ["lower(CAST(substr(CAST(f.path AS BLOB), -?) AS TEXT)) = ?" for _ in exts]
        clauses.append("(" + " OR ".join(tests) + ")")
        for ext in exts:
            params += [len(ext.encode()), ext]
    if filters.formats:
        # files.format is "CONTAINER/SUBTYPE" (e.g. "WAV/PCM_16"): match the container, any case.
        container = "upper(CASE WHEN instr(f.format, '/') > 0 THEN substr(f.format, 1, instr(f.format, '/') - 1) " \
                    "ELSE f.format END)"
        clauses.append(f"{container} IN ({','.join('?' * len(filters.formats))})")
        params += [fmt.upper().lstrip(".") for fmt in filters.formats]
    if filters.sample_rates:
        clauses.append(f"f.sample_rate IN ({','.join('?' * len(filters.sample_rates))})")
        params += [int(rate) for rate in filters.sample_rates]
    if filters.channels:
        clauses.append(f"f.channels IN ({','.join('?' * len(filters.channels))})")
        params += [int(count) for count in filters.channels]
    return " AND ".join(clauses), params


def allowed_segment_ids(db, filters: Filters) -> np.ndarray:
    where, params = filter_sql(filters)
    # Sorted in numpy, not SQL: ORDER BY s.id would walk the table's vector pages instead of
    # the small covering index on segments(file_id).
    rows = db.execute(f"SELECT s.id FROM files f JOIN segments s ON s.file_id = f.id WHERE {where}",
                      params).fetchall()
    return np.sort(np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))


def resolve_segments(db, ids) -> dict[int, tuple]:
    """segment id -> (file_id, path, start, end, duration) for the ids that still exist."""
    ids = [int(i) for i in ids]
    found = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.execute(
                f'SELECT s.id, s.file_id, f.path, s.start, s."end", f.duration FROM segments s '
                f"JOIN files f ON f.id = s.file_id WHERE s.id IN ({marks})", chunk):
            found[row[0]] = row[1:]
    return found


def collect_hits(db, scores, ids, k: int, dedupe: bool) -> list[Hit]:
    valid = [(float(s), int(i)) for s, i in zip(scores, ids) if i >= 0]
    rows = resolve_segments(db, [i for _, i in valid])
    hits, seen_files = [], set()
    for score, seg_id in valid:
        row = rows.get(seg_id)
        if row is None:
            continue  # deleted since the index was synced
        file_id, path, start, end, duration = row
        if dedupe and file_id in seen_files:
            continue
        seen_files.add(file_id)
        hits.append(Hit(path, score, start, end, duration, file_id, seg_id))
        if len(hits) == k:
            break
    return hits


def search_segments(db, vindex, query, k, allowed, dedupe) -> list[Hit]:
    """Top-k segment hits; `allowed` None means every live segment."""
    candidates = vindex.live_count if allowed is None else len(allowed)
    if candidates == 0 or k <= 0:
        return []
    if allowed is not None and vindex.kind != FLAT and candidates <= EXACT_SUBSET_LIMIT:
        return exact_subset(db, vindex, query, k, allowed, dedupe)
    fetch = min(candidates, k * OVERFETCH if dedupe else k)
    while True:
        scores, ids = vindex.search(query, fetch, allowed)
        hits = collect_hits(db, scores, ids, k, dedupe)
        if len(hits) >= k or fetch >= candidates:
            break
        fetch = min(candidates, fetch * OVERFETCH)
    if len(hits) < k and allowed is not None and vindex.kind != FLAT:
        # The graph (or the lists probed) could not reach enough allowed vectors; scan them exactly instead.
        return exact_subset(db, vindex, query, k, allowed, dedupe)
    return hits


def exact_subset(db, vindex, query, k, allowed, dedupe) -> list[Hit]:
    best_scores, best_ids = [], []
    for start in range(0, len(allowed), EXACT_SUBSET_LIMIT):
        chunk = allowed[start:start + EXACT_SUBSET_LIMIT]
        scores = vindex.reconstruct(chunk) @ query
        best_scores.append(scores)
        best_ids.append(chunk)
    scores, ids = np.concatenate(best_scores), np.concatenate(best_ids)
    order = np.argsort(-scores, kind="stable")
    # Resolve in growing slices so that dedupe can still reach k distinct files.
    take = k * OVERFETCH if dedupe else k
    while True:
        top = order[:take]
        hits = collect_hits(db, scores[top], ids[top], k, dedupe)
        if len(hits) >= k or take >= len(order):
            return hits
        take *= OVERFETCH


def search_files(db, pooled_ids, pooled_matrix, query, k, filters) -> list[Hit]:
    """Top-k files by pooled vector (exact), start=0 and end=duration."""
    if not len(pooled_ids) or k <= 0:
        return []
    where, params = filter_sql(filters)
    rows = db.execute(f"SELECT f.id, f.path, f.duration FROM files f WHERE {where}", params).fetchall()
    info = {r[0]: r[1:] for r in rows}
    mask = np.isin(pooled_ids, np.fromiter(info.keys(), dtype=np.int64, count=len(info)))
    scores = pooled_matrix @ query
    candidates = np.flatnonzero(mask)
    order = candidates[np.argsort(-scores[candidates], kind="stable")]
    hits = []
    for position in order[:k]:
        file_id = int(pooled_ids[position])
        path, duration = info[file_id]
        hits.append(Hit(path, float(scores[position]), 0.0, duration or 0.0, duration, file_id, None))
    return hits


_MARK = re.compile(r"\[([^\[\]]+)\]")


def match_words(db, fts_query: str, filters: Filters | None, limit: int) -> list[tuple]:
    """Files whose words match an FTS5 query, best (lowest bm25) first, with the words that matched.

    The filters are part of the same SQL, so a filtered word search still returns `limit` hits."""
    where, params = filter_sql(filters)
    rows = db.execute(
        "SELECT f.id, f.path, f.duration, bm25(file_words), highlight(file_words, 0, '[', ']'), "
        "highlight(file_words, 1, '[', ']'), highlight(file_words, 2, '[', ']') "
        f"FROM file_words JOIN files f ON f.id = file_words.rowid WHERE file_words MATCH ? AND {where} "
        "ORDER BY bm25(file_words), f.id LIMIT ?", [fts_query] + params + [int(limit)]).fetchall()
    found = []
    for file_id, path, duration, rank, *marked in rows:
        words = tuple(dict.fromkeys(m.lower() for text in marked for m in _MARK.findall(text or "")))
        found.append((file_id, path, duration, rank, words))
    return found
