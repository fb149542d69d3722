#!/usr/bin/python3
"""Quick start of the ratemem Python API: a small retrieval on 2 ranks, its retrieval rate, and a
plot of the final overlaps saved as PNG.

    PYTHONPATH=python /usr/bin/python3 examples/quickstart.py [out.png]

The binary is build/ratemem of this checkout (scripts/build.sh), or $RATEMEM_EXE."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))  # run from anywhere in the checkout
import ratemem  # noqa: E402

png = sys.argv[1] if len(sys.argv) > 1 else "quickstart.png"

# 2000 neurons, 10 memories (the default), low-rank weights, 6 cues with 10% of their entries flipped.
result = ratemem.run(np=2, neurons=2000, storage="lowrank", trials=6, flip=0.1, seed=1)
print(result)
print(f"retrieval rate: {result.retrieval_rate:.3f}  {result.counts}")
for row in result.summary["trials"]:
    print(f"  trial {row['trial']}: cue {row['cue_memory']} -> {row['label']:<11} nearest {row['nearest_memory']}  overlap {row['overlap']:.4f}")
result.plot_overlaps(path=png)
print(f"saved {png}")
