"""Sequence-to-sequence quality and speed beside the copy and retrieval baselines, in one run.

    python benchmarks/seq2seq_quality.py [--data pairs.tsv] [--seeds 0,1] [--settings '{"level": "word"}']
        [--json benchmarks/results/seq2seq_quality.json]

Data: by default the demo's pairs (`lstmkit demo seq2seq`: English software messages and their French
translations from this machine's gettext catalogs); `--data` takes any pairs file `lstmkit train seq2seq`
reads. For each seed, lstmkit's `Seq2Seq` trains with the demo's settings (overridden by `--settings`), and
on the test part of that seed's split it is scored with beam search (its `beam`) and greedily, beside
copying the source and TF-IDF retrieval on the very same pairs: BLEU and chrF (sacrebleu), exact match.
Speed: the training seconds, and test sources decoded per second, greedy and with beam 5, batched as
`translate` batches them, on this process's threads.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from lstmkit import Seq2Seq
from lstmkit.data.pairs import read_pairs
from lstmkit.metrics import translation_metrics
from lstmkit.tasks.seq2seq.demo import DEMO_SETTINGS, demo_file

METRICS = ("bleu", "chrf", "exact_match")


def run(data: Path, seed: int, settings: dict) -> dict:
    pairs = read_pairs(data)
    started = time.perf_counter()
    # the demo's settings without its time cap: every run trains its epochs, however busy the machine
    model = Seq2Seq(**{**DEMO_SETTINGS, "max_time": None, **settings, "seed": seed}).fit(pairs)
    seconds = time.perf_counter() - started
    test = pairs.subset(model._split(pairs)["test"])
    speed = {}
    for name, beam in (("greedy", 1), ("beam 5", 5)):
        started = time.perf_counter()
        outputs = model.translate(test.sources, beam=beam)
        speed[name] = len(outputs) / (time.perf_counter() - started)
        if name == "greedy":
            greedy = translation_metrics(outputs, test.targets)
    return {"seed": seed, "pairs": model.sizes_, "epochs": len(model.history_), "train_seconds": seconds,
            "rows": {f"lstmkit, beam {model.beam}": model.metrics_, "lstmkit, greedy": greedy, **model.baselines_},
            "sentences_per_second": speed}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None, help="pairs file (default: the demo's pairs)")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds")
    parser.add_argument("--settings", default="{}", help="JSON of Seq2Seq settings over the demo's")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args()
    data = args.data or demo_file()[0]
    settings = json.loads(args.settings)
    results = [run(data, int(seed), settings) for seed in args.seeds.split(",")]
    print(f"{data}: {results[0]['pairs']} pairs (train / val / test); torch threads {torch.get_num_threads()}, "
          f"{platform.processor() or platform.machine()}")  # fmt: skip
    print(f"| seed | row | {' | '.join(METRICS)} |")
    print("|---|---|" + "---|" * len(METRICS))
    for result in results:
        for name, metrics in result["rows"].items():
            print(f"| {result['seed']} | {name} | " + " | ".join(f"{metrics[m]:.3f}" if m == "exact_match" else f"{metrics[m]:.2f}" for m in METRICS) + " |")
    for result in results:
        speed = result["sentences_per_second"]
        print(f"seed {result['seed']}: trained {result['epochs']} epochs in {result['train_seconds']:.0f} s; decoding "
              f"{speed['greedy']:.0f} sentences/s greedy, {speed['beam 5']:.0f} with beam 5")  # fmt: skip
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"data": str(data), "settings": settings, "threads": torch.get_num_threads(),
                                         "omp_num_threads": os.environ.get("OMP_NUM_THREADS"), "results": results}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
