"""The model file: JSON with the weights by name, the columns, and how they were trained.

{"format": "fwdback-model", "version": 1, "features": [...], "target": "y",
 "activation": "identity", "hidden": 2, "weights": {"w1": ..., "b3": ...},
 "scaling": null or {"mean": {...}, "std": {...}},
 "training": {"seed": ..., "epochs": ..., "lr": ..., "initial_weights": {...}, "final_loss": ...}}

"activation", "hidden" and "scaling" may be left out: the lecture's network is the default.

Floats are written with Python's shortest round-trip repr, so they read back bit for bit.
Saving is atomic: a temporary file in the same directory, then a rename over the target.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np

from .errors import ModelFileError
from .network import ACTIVATIONS, Parameters, forward, parameter_names
from .scaling import Scaling

FORMAT = "fwdback-model"
VERSION = 1


@dataclass
class Model:
    """A trained network and the columns it reads."""

    params: Parameters
    features: tuple[str, ...]
    target: str
    training: dict = field(default_factory=dict)
    scaling: Scaling | None = None

    def predict(self, X: np.ndarray) -> np.ndarray:
        """yhat in the target's own units.  X : shape (n, k), in the features' own units."""
        if self.scaling is None:
            return forward(self.params, X).yhat
        return self.scaling.original_target(forward(self.params, self.scaling.features(X)).yhat)


def model_document(model: Model) -> dict:
    return {
        "format": FORMAT,
        "version": VERSION,
        "features": list(model.features),
        "target": model.target,
        "activation": model.params.activation,
        "hidden": model.params.n_hidden,
        "weights": model.params.as_dict(),
        "scaling": None if model.scaling is None else model.scaling.as_dict(model.features, model.target),
        "training": model.training,
    }


def save_model(model: Model, path: str) -> None:
    """Write the model atomically: an existing file is replaced whole or left as it was."""
    text = json.dumps(model_document(model), indent=2, allow_nan=False) + "\n"
    try:
        write_atomically(path, lambda stream: stream.write(text))
    except OSError as error:
        raise ModelFileError(
            f"{path}: could not be written ({error.strerror or error}); any existing file is unchanged; "
            "free some space or choose another --model path"
        ) from None


def append_history(path: str, write: Callable[[TextIO, bool], object], append: bool) -> None:
    """Write a history CSV atomically, as save_model does; with `append`, after the rows it has.

    write(stream, header) writes the new rows, the header line first when `header`.
    """
    existing = append and os.path.isfile(path)

    def write_all(stream):
        if existing:
            with open(path, encoding="utf-8") as old:
                shutil.copyfileobj(old, stream)
        write(stream, not existing)

    try:
        write_atomically(path, write_all)
    except OSError as error:
        raise ModelFileError(f"{path}: could not be written ({error.strerror or error}); free some space or choose another path") from None


def write_atomically(path: str, write: Callable[[TextIO], object]) -> None:
    """Call write(stream) on a temporary file beside `path`, then rename it over `path`."""
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(prefix=".fwdback-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        if os.path.exists(path):
            os.chmod(temporary, os.stat(path).st_mode & 0o777)
        else:
            os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_writable(path: str) -> None:
    """Fail before training, not after, when the file cannot be written at `path`."""
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ModelFileError(f"{path}: is a directory; give a file name, e.g. model.json")
    if not os.path.isdir(directory):
        raise ModelFileError(f"{path}: the directory {directory} does not exist; create it or choose another path")
    try:
        descriptor, probe = tempfile.mkstemp(prefix=".fwdback-", suffix=".tmp", dir=directory)
    except OSError as error:
        raise ModelFileError(
            f"{path}: cannot write in {directory} ({error.strerror or error}); choose another path"
        ) from None
    os.close(descriptor)
    os.unlink(probe)


def load_model(path: str) -> Model:
    """Read and validate a model file written by save_model."""
    document = _read_json(path, "model")
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(f"{path}: is not a fwdback model file (no \"format\": \"{FORMAT}\"); train one with fwdback train")
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"{path}: has no valid format version; train the model again with fwdback train")
    if version > VERSION:
        raise ModelFileError(
            f"{path}: is model format version {version}, newer than this fwdback reads ({VERSION}); upgrade fwdback"
        )
    features = document.get("features")
    target = document.get("target")
    if (
        not isinstance(features, list)
        or not features
        or not all(isinstance(name, str) and name for name in features)
        or len(set(features)) != len(features)
        or not isinstance(target, str)
        or not target
    ):
        raise ModelFileError(
            f"{path}: \"features\" must list distinct column names and \"target\" name one; train the model again"
        )
    hidden = document.get("hidden", 2)
    if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 1:
        raise ModelFileError(f"{path}: \"hidden\" is {json.dumps(hidden)}, not a whole number of at least 1; train the model again")
    activation = document.get("activation", "identity")
    if activation not in ACTIVATIONS:
        raise ModelFileError(
            f"{path}: \"activation\" is {json.dumps(activation)}, not one of {', '.join(ACTIVATIONS)}; train the model again"
        )
    params = parse_weights(document.get("weights"), path, len(features), hidden, activation)
    scaling = _parse_scaling(document.get("scaling"), path, tuple(features), target)
    training = document.get("training") if isinstance(document.get("training"), dict) else {}
    return Model(params, tuple(features), target, training, scaling)


def _parse_scaling(values, path: str, features: tuple[str, ...], target: str) -> Scaling | None:
    if values is None:
        return None
    columns = [*features, target]
    for part in ("mean", "std"):
        table = values.get(part) if isinstance(values, dict) else None
        if not isinstance(table, dict) or any(not _is_finite_number(table.get(name)) for name in columns):
            raise ModelFileError(
                f"{path}: \"scaling\" needs a finite \"{part}\" for each of {', '.join(columns)}; train the model again"
            )
        if part == "std" and any(table[name] <= 0 for name in columns):
            raise ModelFileError(f"{path}: a \"scaling\" std is not positive; train the model again")
    return Scaling.from_dict(values, features, target)


def _is_finite_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def load_init(path: str, n_inputs: int = 3, n_hidden: int = 2, activation: str = "identity") -> Parameters:
    """Initial weights for a network of this shape: a JSON object of the weights by name, at its
    top level or under "weights" (so a saved model works)."""
    document = _read_json(path, "init")
    if isinstance(document, dict) and isinstance(document.get("weights"), dict):
        document = document["weights"]
    return parse_weights(document, path, n_inputs, n_hidden, activation)


def parse_weights(values, path: str, n_inputs: int = 3, n_hidden: int = 2, activation: str = "identity") -> Parameters:
    """Exactly the network's names (w1..w8, b1..b3 for the lecture's), each a finite number."""
    names = parameter_names(n_inputs, n_hidden)
    listed = f"{names[0]}..{names[-1]}" if len(names) > 12 else ", ".join(names)
    network = f"the network of {n_inputs} features and {n_hidden} hidden units"
    if not isinstance(values, dict):
        raise ModelFileError(f"{path}: weights must be a JSON object with the names {listed}")
    missing = [name for name in names if name not in values]
    if missing:
        raise ModelFileError(f"{path}: weight {missing[0]} is missing for {network}; give all of {listed}")
    extra = sorted(name for name in values if name not in names)
    if extra:
        raise ModelFileError(f"{path}: {extra[0]!r} is not a weight of {network}; use only {listed}")
    for name in names:
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ModelFileError(f"{path}: weight {name} is {json.dumps(value)}, not a number; give a number")
        if not math.isfinite(value):
            raise ModelFileError(f"{path}: weight {name} is {value}, not a finite number; give a finite number")
    return Parameters.from_dict({name: float(values[name]) for name in names}, n_inputs, n_hidden, activation)


def _read_json(path: str, what: str):
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except FileNotFoundError:
        hint = "; check the path, or train a model with fwdback train" if what == "model" else "; check the path"
        raise ModelFileError(f"{path}: no such file{hint}") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path}: is a directory, not a JSON file; give the path of a file") from None
    except PermissionError:
        raise ModelFileError(f"{path}: permission denied; make the file readable") from None
    except UnicodeDecodeError:
        raise ModelFileError(f"{path}: is not a JSON text file; give a {what} JSON file") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ValueError) as error:
        detail = f"line {error.lineno}, column {error.colno}: {error.msg}" if isinstance(error, json.JSONDecodeError) else str(error)
        raise ModelFileError(f"{path}: is not valid JSON ({detail}); give a {what} JSON file") from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a finite number")
