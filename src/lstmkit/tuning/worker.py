"""One tuning worker: `python -m lstmkit.tuning.worker SPEC_JSON` runs trials of the study the spec names
until it holds its total (`study.run_trials`). `tune --workers K` starts K of these fresh interpreters, so no
worker inherits the parent's threads or state."""

from __future__ import annotations

import json
import os
import sys
import threading
import time

PARENT_POLL_S = 1.0  # how often a worker checks that the command that started it still runs


def main(argv: list[str]) -> int:
    import optuna

    from ..errors import LstmkitError
    from .study import as_spec, run_trials

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    try:
        run_trials(as_spec(json.loads(argv[0])))
    except LstmkitError as error:
        print(f"lstmkit: error: {error}", file=sys.stderr)
        return 2
    return 0


def _exit_with_parent(parent: int) -> None:
    """End this worker when the command that started it is gone (killed with -9, it could not stop us): its
    running trial is then failed as interrupted by the next command on the study."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(3)  # no word on stderr: it was a pipe to the command that is gone


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
