"""Messages classified per second on one core, for 10,000 messages.

    python bench/classify.py [--data FILE.csv] [-n 10000] [--batch 1000]

Cycles through the messages of a CSV (id,title,body[,label]; default: the test fixture sample) to
reach N, classifies them in batches with the shipped model, and prints the rate.
"""

import os

# One core: keep numpy/scipy from spreading over threads (must be set before they are imported).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import itertools  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from huying.dispatch.classifier import classify_many, get_model, read_messages  # noqa: E402

DEFAULT_DATA = ROOT / "tests" / "dispatch" / "fixtures" / "messages_sample.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    messages = read_messages(args.data, need_label=False)
    texts = [(m.title, m.body) for m in itertools.islice(itertools.cycle(messages), args.n)]
    t0 = time.perf_counter()
    get_model()
    load_s = time.perf_counter() - t0
    classify_many(texts[:100])  # warm-up

    t0, c0 = time.perf_counter(), time.process_time()
    auto = 0
    for i in range(0, len(texts), args.batch):
        auto += sum(p.auto for p in classify_many(texts[i : i + args.batch]))
    elapsed = time.perf_counter() - t0
    cpu = time.process_time() - c0
    chars = sum(len(t) + len(b) for t, b in texts) / len(texts)
    print(f"model: {get_model().version}")
    print(f"messages: {len(texts)} (cycled from {len(messages)}, mean {chars:.0f} characters)")
    print(f"model load: {load_s:.2f} s")
    print(f"seconds: {elapsed:.2f}")
    print(f"auto share: {auto / len(texts):.3f}")
    print(f"cpu seconds: {cpu:.2f}")
    print(f"messages per second (one core): {len(texts) / elapsed:.0f}")
    # On a shared machine the wall clock includes waiting for the core; CPU time does not.
    print(f"messages per cpu-second: {len(texts) / cpu:.0f}")


if __name__ == "__main__":
    main()
