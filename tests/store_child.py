"""A writer process for the store's crash and lock tests: `python -m tests.store_child MODE DB`.

It prints one line per step so the parent test knows where it is before killing it.
Modes:
  batches   commit batches of 3 files forever, flushing the FAISS file after every other batch
  in_batch  open a batch, write files, announce "inside", then wait to be killed
  mid_faiss_write   die (SIGKILL itself) halfway through writing the FAISS temp file
  between_renames   die after the FAISS file is renamed but before its sidecar is
  hold_lock SECONDS hold the writer lock for a while, then exit
"""

import os
import signal
import sys
import time

import numpy as np

from clapsearch.store import Store
from tests.store_helpers import add_file, bind


def die():
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def batches(store, rng):
    with store.writer():
        number = 0
        while True:
            with store.batch():
                for _ in range(3):
                    add_file(store, rng, f"/lib/{number}.wav", segments=4)
                    number += 1
            print(f"committed {number}", flush=True)
            if number % 6 == 0:
                store.flush()


def in_batch(store, rng):
    with store.writer():
        add_file(store, rng, "/before.wav", segments=4)
        store.flush()
        with store.batch():
            for number in range(20):
                add_file(store, rng, f"/inside/{number}.wav", segments=4)
            print("inside", flush=True)
            time.sleep(60)


def mid_faiss_write(store, rng):
    import faiss

    real_write = faiss.write_index

    def half_written(index, path):
        real_write(index, path)
        with open(path, "r+b") as handle:
            handle.truncate(os.path.getsize(path) // 2)
        die()

    with store.writer():
        add_file(store, rng, "/first.wav", segments=4)
        store.flush()
        add_file(store, rng, "/second.wav", segments=4)
        faiss.write_index = half_written
        store.flush()


def between_renames(store, rng):
    real_replace = os.replace

    def replace_then_die(source, target):
        real_replace(source, target)
        if str(target).endswith(".faiss"):
            die()

    with store.writer():
        add_file(store, rng, "/first.wav", segments=4)
        store.flush()
        store.delete_files([store.get_file("/first.wav").id])
        add_file(store, rng, "/second.wav", segments=4)
        os.replace = replace_then_die
        store.flush()


def hold_lock(store, seconds):
    with store.writer():
        print("locked", flush=True)
        time.sleep(seconds)


def main(argv):
    mode, db_path = argv[0], argv[1]
    store = Store(db_path, index_kind=os.environ.get("STORE_CHILD_INDEX_KIND", "auto"))
    bind(store)
    rng = np.random.default_rng(os.getpid())
    if mode == "hold_lock":
        hold_lock(store, float(argv[2]))
    else:
        {"batches": batches, "in_batch": in_batch, "mid_faiss_write": mid_faiss_write,
         "between_renames": between_renames}[mode](store, rng)


if __name__ == "__main__":
    main(sys.argv[1:])
