"""The run directory (SPEC §5): staged while a run trains, put in place only when it succeeds.

While `train` runs, everything it writes goes to `DIR/.incomplete/` (the checkpoints
included). Only a run that finishes moves its files over `DIR`'s, one atomic rename each, so a failed or
interrupted run never overwrites the model, metrics or report a user already had. `--resume` continues
from `DIR/.incomplete/checkpoint.pt`; an interrupted run that saved no checkpoint is started afresh.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Optional

from ._version import __version__
from .errors import DataError
from .fileio import atomic_write, cannot_write, make_folder

STAGING = ".incomplete"


def begin_run(out: Path, resume: bool, note=None) -> tuple[Path, bool]:
    """Make (or, with resume, find) the staging folder of a run into `out`; returns it and whether the run
    resumes from a checkpoint there.

    An interrupted run that saved no checkpoint (a crash or Ctrl-C in its first epoch) holds nothing worth
    keeping: plain `train` and `resume` both start it afresh, saying so through `note(text)`, so no run
    directory is ever one that neither accepts."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: exists and is not a directory; choose another `out`")
    staging = out / STAGING
    if staging.exists() and not staging.is_dir():
        raise DataError(f"{staging}: is not a directory; delete it to train into {out}")
    interrupted = staging.is_dir()
    resumable = interrupted and has_checkpoint(staging)
    if resume and not interrupted:
        raise DataError(f"{out}: has no interrupted run to resume; train without `resume`")
    if not resume and resumable:
        raise DataError(
            f"{out}: holds an interrupted run ({staging}); continue it with `resume`, or delete that folder to start afresh"
        )
    if interrupted and not resumable:
        try:
            shutil.rmtree(staging)
        except OSError as error:
            raise cannot_write(staging, error) from None
        if note is not None:
            note(f"{out}: nothing to resume (the interrupted run saved no checkpoint); starting afresh" if resume
                 else f"{out}: the interrupted run there saved no checkpoint; starting afresh")
    make_folder(staging, out)  # a read-only or immutable place, a file where a folder should be: one line
    return staging, resumable


def has_checkpoint(staging: Path) -> bool:
    """Whether a staging folder holds a checkpoint of the run, or of one of its ensemble members or folds."""
    return any(Path(staging).glob("checkpoint*.pt"))


def clear_interrupted_demo(out: Path) -> None:
    """An interrupted demo is not worth resuming: drop its staging folder so the demo starts afresh.
    A finished earlier run in `out` stays until the new one succeeds and replaces it."""
    shutil.rmtree(Path(out) / STAGING, ignore_errors=True)


def finish_run(out: Path) -> None:
    """Move a finished run's files into place and remove the staging folder; the files of the run finished
    there before that this one does not write (another job's state, more ensemble members' checkpoints) go,
    as config.json's "files" listed them, so a run directory holds one run."""
    out = Path(out)
    staging = out / STAGING
    files = sorted(p.name for p in staging.iterdir())
    earlier = _files_of_run(out)
    if "config.json" in files:
        write_json(staging / "config.json", {**json.loads((staging / "config.json").read_text(encoding="utf-8")), "files": files})
    try:
        for path in sorted(staging.iterdir(), key=lambda p: p.name == "metrics.json"):  # metrics last
            os.replace(path, out / path.name)
        staging.rmdir()
        for name in earlier - set(files):
            (out / name).unlink(missing_ok=True)
    except OSError as error:
        raise cannot_write(out, error) from None


def _files_of_run(out: Path) -> set[str]:
    """The files a finished run in `out` wrote, as its config.json lists them (none for a run that predates
    the list, or no run)."""
    try:
        files = json.loads((out / "config.json").read_text(encoding="utf-8")).get("files", [])
    except (OSError, ValueError, AttributeError):
        return set()
    return {f for f in files if isinstance(f, str) and f == Path(f).name and not f.startswith(".")}


def write_json(path: Path, value) -> None:
    atomic_write(path, lambda f: f.write(json.dumps(value, indent=2, default=_jsonable) + "\n"), mode="w")


def _jsonable(value):
    if hasattr(value, "item"):  # numpy and torch scalars
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def versions() -> dict:
    import torch  # only a run that trains or saves needs it: `predict` on a missing run directory does not

    return {"lstmkit": __version__, "torch": torch.__version__}


def read_json(directory: Path, name: str) -> dict:
    """A JSON file of a run directory, with one-line errors for what can go wrong."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"{directory}: no such run directory")
    path = directory / name
    if not path.exists():
        raise DataError(f"{directory}: is not a complete lstmkit run directory (no {name}); train into it first")
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        value = None
    if not isinstance(value, dict):  # torn, or hand-edited to [] or null
        raise _torn(path)
    return value


def read_config(directory: Path) -> dict:
    """A run's config.json: the job's name under "task" and the settings it trained with under "settings";
    one line, as for a torn file, for anything else."""
    config = read_json(directory, "config.json")
    if not (isinstance(config.get("task"), str) and isinstance(config.get("settings"), dict)):
        raise _torn(Path(directory) / "config.json")
    return config


def trained_data(directory: Path) -> Path:
    """The data a finished run trained on, as its config.json records it."""
    data = read_config(directory)["settings"].get("data")
    if not isinstance(data, str):
        raise _torn(Path(directory) / "config.json")
    return Path(data)


def _torn(path: Path) -> DataError:
    """The one line for a run file that is torn, hand-edited or not what lstmkit wrote."""
    return DataError(f"{path}: is unreadable or truncated; train the run again")


MODEL_FILE = "model.safetensors"


def save_model(directory, tensors: dict, state: dict, state_file: str) -> None:
    """A job's weights (safetensors) and what predicting needs (JSON), each written atomically; the state
    carries a seal (`_seal`) of the weights and itself, which ties predictions saved in it to this run as
    saved (`saved_predictions`)."""
    import safetensors.torch

    directory = make_folder(directory)
    tensors = {name: t.detach().contiguous() for name, t in tensors.items()}
    weights = safetensors.torch.save(tensors)
    atomic_write(directory / MODEL_FILE, lambda f: f.write(weights))
    state = json.loads(json.dumps(state, default=_jsonable))  # as it reads back
    write_json(directory / state_file, {**state, "seal": _seal(weights, state)})


def _seal(weights: bytes, state: dict) -> str:
    """SHA-256 of the weights and of the state (without its seal) in one canonical JSON form."""
    digest = hashlib.sha256(weights)
    digest.update(json.dumps({k: v for k, v in state.items() if k != "seal"}, sort_keys=True, separators=(",", ":")).encode())
    return digest.hexdigest()


def load_model(directory, state_file: str, what: str) -> tuple[dict, dict]:
    """The JSON state and the weights `save_model` wrote, with one-line errors for a missing or torn file."""
    from safetensors.torch import load_file

    directory = Path(directory)
    for name in (state_file, MODEL_FILE):
        if not (directory / name).exists():
            raise DataError(f"{directory}: is not a complete run of a {what} ({name} is missing); train it again")
    try:
        state, tensors = json.loads((directory / state_file).read_text(encoding="utf-8")), load_file(directory / MODEL_FILE)
    except Exception:  # torn JSON, a truncated safetensors header, anything that is not what we wrote
        raise unreadable(directory, what) from None
    if not isinstance(state, dict) or not isinstance(state.get("params"), dict):  # [], null, a foreign file
        raise unreadable(directory, what)
    return state, tensors


def unreadable(directory, what: str) -> DataError:
    return DataError(f"{directory}: the saved {what} is unreadable or truncated; train it again")


# ---- predictions saved with a run: `lstmkit predict RUN` without loading the model (nor torch, nor pandas) ----
SHOWN = 20  # the rows `lstmkit predict` shows in its table
# a predictions frame's `attrs` key: {time column: the format its times are written in (`written_format`)},
# for the CSV and the table to write them as the data had them (the JSON and the frame keep timestamps)
TIME_FORMATS = "time_formats"


def times_written(frame, name: str, written: Optional[str]):
    """`frame`, whose column `name` holds times read from data written in the format `written`
    (`written_format`'s; None: ISO), set to write them alike: a time read from several columns (`time_columns`:
    'year,quarter') as those columns again; any other's format kept in the frame's `attrs` for `Predictions`."""
    from .data.timeaxis import JOIN, split_time_columns

    if JOIN in name and written is not None:
        return split_time_columns(frame, name, written)
    frame.attrs[TIME_FORMATS] = {name: written}
    return frame


class Predictions:
    """Predictions as `lstmkit predict` writes and prints them, rendered from a DataFrame once: `csv`
    (`--output`), `json` (`--json`, the records with ISO times), `columns`, `rows` and `head`, the first
    `SHOWN` rows with each value as the table shows it (a float stays a float, None stays None, anything
    else is its text). `record()` is all of it as JSON values, which a run saves beside its model so that
    printing it later imports neither the model nor pandas (`saved_predictions`)."""

    def __init__(self, record: dict):
        self.csv, self.json, self.columns = record["csv"], record["json"], record["columns"]
        self.rows, self.head = record["rows"], record["head"]

    @classmethod
    def of(cls, frame) -> Predictions:
        from .data.timeaxis import format_times

        written = frame.copy()
        for name, fmt in frame.attrs.get(TIME_FORMATS, {}).items():
            if fmt is not None:
                written[name] = format_times(frame[name], fmt)
        head = [[_shown(value) for value in row] for row in written.head(SHOWN).itertuples(index=False)]
        return cls({"csv": written.to_csv(index=False), "json": frame.to_json(orient="records", date_format="iso"),
                    "columns": [str(c) for c in frame.columns], "rows": len(frame), "head": head})  # fmt: skip

    def record(self) -> dict:
        return {"csv": self.csv, "json": self.json, "columns": self.columns, "rows": self.rows, "head": self.head}

    def write(self, path) -> None:
        """Write them to `path` (`--output`) in the format its extension names, as lstmkit reads tables:
        Parquet (`.parquet`), JSON Lines (`.jsonl`, `.ndjson`: a record a line), JSON (`.json`: the records'
        list, as `--json` prints them), else CSV. Times are ISO 8601 in JSON and Parquet, as the data writes
        them in CSV."""
        from .fileio import atomic_write, atomic_write_text

        suffix = Path(path).suffix.lower()
        if suffix == ".parquet":
            import pandas as pd

            frame = pd.DataFrame(json.loads(self.json), columns=self.columns)
            atomic_write(path, lambda file: frame.to_parquet(file, index=False))
        elif suffix in (".jsonl", ".ndjson"):
            atomic_write_text(path, "".join(json.dumps(record) + "\n" for record in json.loads(self.json)))
        else:
            atomic_write_text(path, self.json if suffix == ".json" else self.csv)


def _shown(value):
    """A table value as JSON keeps it for the table: floats (numpy's too) as floats, None, times as the CSV
    writes them (1970-01-01 at midnight), else its text."""
    import numpy as np

    from .data.timeaxis import format_time

    if value is None:
        return None
    return float(value) if isinstance(value, (float, np.floating)) else format_time(value)


def saved_predictions(directory: Path, state_file: str) -> Predictions | None:
    """What the estimator predicted on no data when the run was saved (its state's "predicted", a
    `Predictions.record()`), where the run's weights and state are still as saved; None where the run saved
    none or cannot be read that way (then the model is loaded, and says what is wrong)."""
    directory = Path(directory)
    try:
        state = json.loads((directory / state_file).read_text(encoding="utf-8"))
        if state.get("predicted") is None or state.get("seal") != _seal((directory / MODEL_FILE).read_bytes(), state):
            return None  # none saved, or the run changed since (torn, edited): the model's load says what is wrong
        return Predictions(state["predicted"])
    except Exception:  # torn or hand-edited: the model's own load reports it
        return None
