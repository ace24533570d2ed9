"""The installed `fwdback` command in real shell pipelines, where the reader may leave early."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

FWDBACK = shutil.which("fwdback")
BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="needs bash")


def command() -> str:
    """The console script if it is installed, else the module."""
    return FWDBACK if FWDBACK else f"{sys.executable} -m fwdback"


def sh(script: str, cwd, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Run a bash script with $FWDBACK set; PIPESTATUS of the last pipeline is printed by the script itself if needed."""
    env = {"PATH": "/usr/bin:/bin", "FWDBACK": command(), "LC_ALL": "C.UTF-8", "HOME": str(cwd)}
    return subprocess.run(
        [BASH, "-c", script], cwd=cwd, env=env, input=stdin, capture_output=True, timeout=60, check=False
    )


def assert_quiet_stderr(result):
    err = result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    assert "Exception ignored" not in err, err
    assert "BrokenPipe" not in err, err
    return err


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """small.csv (200 rows), big.csv (200,000 rows) and model.json trained on small.csv."""
    root = tmp_path_factory.mktemp("pipeline")
    made = sh(
        '$FWDBACK generate --rows 200 --seed 1 > small.csv'
        ' && $FWDBACK generate --rows 200000 --seed 2 > big.csv'
        ' && $FWDBACK train small.csv --epochs 300 --quiet',
        root,
    )
    assert made.returncode == 0, made.stderr.decode()
    return root


def test_generate_wrote_the_files(files):
    with open(files / "big.csv") as stream:
        assert stream.readline() == "x1,x2,x3,y\n"
        assert sum(1 for _ in stream) == 200_000
    assert json.loads((files / "model.json").read_text())["format"] == "fwdback-model"


def test_predict_into_head_stops_quietly(files):
    result = sh('$FWDBACK predict big.csv | head -1; echo "status ${PIPESTATUS[0]}" >&2', files)
    err = assert_quiet_stderr(result)
    assert result.stdout.decode() == "x1,x2,x3,y,y_hat\n"
    assert err.strip() in {"status 0", "status 141"}, err


def test_predict_from_stdin_into_head(files):
    result = sh("cat big.csv | $FWDBACK predict | head -3", files)
    assert_quiet_stderr(result)
    lines = result.stdout.decode().splitlines()
    assert lines[0] == "x1,x2,x3,y,y_hat" and len(lines) == 3


def test_train_csv_into_head_stops_quietly(files):
    result = sh("$FWDBACK train small.csv --format csv --epochs 5000 --model m.json | head -1", files)
    assert_quiet_stderr(result)
    assert result.stdout.decode() == "epoch,loss\n"


def test_train_table_into_head(files):
    result = sh("$FWDBACK train small.csv --epochs 50 --model m.json | head -2", files)
    assert_quiet_stderr(result)
    out = result.stdout.decode()
    assert len(out.splitlines()) == 2
    assert "\x1b" not in out and not set("─│╭╮╰╯") & set(out)


def test_generate_train_predict_pipeline(files):
    script = (
        "$FWDBACK generate --rows 500 --seed 5 --noise 0 --coef 1,2,3,4"
        " | $FWDBACK train - --epochs 200 --tol 0 --lr 0.1 --format csv --model piped.json | tail -1"
    )
    result = sh(script, files)
    assert result.returncode == 0
    assert_quiet_stderr(result)
    epoch, loss = result.stdout.decode().strip().split(",")
    assert epoch == "200" and float(loss) >= 0

    predicted = sh("$FWDBACK generate --rows 10 --seed 6 | $FWDBACK predict --model piped.json | wc -l", files)
    assert predicted.returncode == 0 and predicted.stdout.decode().strip() == "11"


def test_generate_into_head_stops_quietly(files):
    result = sh("$FWDBACK generate --rows 300000 | head -2", files)
    assert_quiet_stderr(result)
    assert len(result.stdout.decode().splitlines()) == 2


def test_error_in_a_pipeline_is_one_line(files):
    result = sh("printf 'x1,x2,x3,y\\n1,abc,3,4\\n' | $FWDBACK train - --model never.json", files)
    err = assert_quiet_stderr(result)
    assert result.returncode == 1
    assert err == "Error: <stdin>, row 1, column x2: " + err.split("column x2: ", 1)[1]
    assert err.count("\n") == 1
    assert not (files / "never.json").exists()


def test_module_entry_point_and_version(files):
    result = sh(f"{sys.executable} -m fwdback --version", files)
    assert result.returncode == 0
    assert result.stdout.decode().startswith("fwdback ")


def test_help_does_not_import_numpy(files):
    """`fwdback --help` stays instant: numpy, pandas and rich are imported inside commands."""
    code = (
        "import sys; from fwdback.cli import cli\n"
        "try:\n    cli(['--help'], prog_name='fwdback')\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('numpy', 'pandas', 'rich') if m in sys.modules), file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.stderr.strip().splitlines()[-1] == "[]"
