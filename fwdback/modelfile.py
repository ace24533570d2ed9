"""The model file: JSON with the weights by name, the columns, and how they were trained.

{"format": "fwdback-model", "version": 1, "features": [...], "target": "y",
 "weights": {"w1": ..., "b3": ...}, "training": {"seed": ..., "epochs": ..., "lr": ...,
 "initial_weights": {...}, "final_loss": ...}}

Floats are written with Python's shortest round-trip repr, so they read back bit for bit.
Saving is atomic: a temporary file in the same directory, then a rename over the target.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from .errors import ModelFileError
from .network import Parameters, parameter_names

FORMAT = "fwdback-model"
VERSION = 1


@dataclass
class Model:
    """A trained network and the columns it reads."""

    params: Parameters
    features: tuple[str, ...]
    target: str
    training: dict = field(default_factory=dict)


def model_document(model: Model) -> dict:
    return {
        "format": FORMAT,
        "version": VERSION,
        "features": list(model.features),
        "target": model.target,
        "weights": model.params.as_dict(),
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


def save_history(path: str, write: Callable[[TextIO], object]) -> None:
    """Write a history CSV atomically, as save_model does."""
    try:
        write_atomically(path, write)
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
        or len(features) != 3
        or not all(isinstance(name, str) and name for name in features)
        or not isinstance(target, str)
    ):
        raise ModelFileError(f"{path}: \"features\" must list 3 column names and \"target\" name one; train the model again")
    params = parse_weights(document.get("weights"), path)
    training = document.get("training") if isinstance(document.get("training"), dict) else {}
    return Model(params, tuple(features), target, training)


def load_init(path: str) -> Parameters:
    """Initial weights: the 11 names at the top level of a JSON object, or under "weights"."""
    document = _read_json(path, "init")
    if isinstance(document, dict) and isinstance(document.get("weights"), dict):
        document = document["weights"]
    return parse_weights(document, path)


def parse_weights(values, path: str) -> Parameters:
    """Exactly the names w1..w8, b1..b3, each a finite number."""
    names = parameter_names()
    if not isinstance(values, dict):
        raise ModelFileError(f"{path}: weights must be a JSON object with the names {', '.join(names)}")
    missing = [name for name in names if name not in values]
    if missing:
        raise ModelFileError(f"{path}: weight {missing[0]} is missing; give all of {', '.join(names)}")
    extra = sorted(name for name in values if name not in names)
    if extra:
        raise ModelFileError(f"{path}: {extra[0]!r} is not a weight of this network; use only {', '.join(names)}")
    for name in names:
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ModelFileError(f"{path}: weight {name} is {json.dumps(value)}, not a number; give a number")
        if not math.isfinite(value):
            raise ModelFileError(f"{path}: weight {name} is {value}, not a finite number; give a finite number")
    return Parameters.from_dict({name: float(values[name]) for name in names})


def _read_json(path: str, what: str):
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except FileNotFoundError:
        hint = "; train one with fwdback train or pass --model" if what == "model" else "; check the path"
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
