"""One tuning worker: `python -m lstmkit.tuning.worker SPEC_JSON` runs trials of the study the spec names
until it holds its total (`study.run_trials`). `tune --workers K` starts K of these fresh interpreters, so no
worker inherits the parent's threads or state."""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> int:
    import optuna

    from ..errors import LstmkitError
    from .study import as_spec, run_trials

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        run_trials(as_spec(json.loads(argv[0])))
    except LstmkitError as error:
        print(f"lstmkit: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
