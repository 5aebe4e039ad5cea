"""Layer speed: lstmkit.LSTM against torch.nn.LSTM in the same process (see `lstmkit.bench`).

    python benchmarks/layer_speed.py [--quick] [--shapes TxBxIxH,...] [--variants ...] [--precisions fp32,bf16]

The same as `lstmkit bench`; the measurement code lives in the package so the command works wherever
lstmkit is installed.
"""

import sys

from lstmkit.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
