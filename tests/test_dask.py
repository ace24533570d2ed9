"""DATA in parts (CSV, gzip, Parquet) and training and prediction on a Dask cluster (issue 15).

The reference for every result is the in-memory path on the parts' rows concatenated in
Python (training.fit on arrays that never went through a file), or single-machine predict on
one CSV of all the rows: the cluster must give the same weights (identity to 1e-12, tanh to
1e-9 over 200 epochs) and the same bytes. One LocalCluster of two worker processes on
127.0.0.1 serves the whole module; the CLI reaches it by its address, as a user's cluster.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from fwdback.network import init_parameters
from fwdback.plan import TrainingPlan
from fwdback.training import fit, fit_rows

from conftest import NAMES, csv_text

pd = pytest.importorskip("pandas")
distributed = pytest.importorskip("distributed", reason="the dask extra: pip install '.[dask]'")
pytest.importorskip("pyarrow", reason="the dask extra: pip install '.[dask]'")

FEATURES = ("x1", "x2", "x3")


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of two single-threaded worker processes on the loopback address, and a client of it."""
    local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                     dashboard_address=":0", silence_logs=50)
    client = distributed.Client(local, set_as_default=False)
    yield local, client
    client.close()
    local.close()


@pytest.fixture
def address(cluster):
    local, client = cluster
    client.wait_for_workers(2, timeout=60)
    return local.scheduler_address


def rows(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """X : shape (n, 3) on [-1, 1], y : shape (n,) a nonlinear function of them plus noise."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, 3))
    y = 2 * X[:, 0] - 3 * np.tanh(2 * X[:, 1]) + 0.5 * X[:, 2] * X[:, 0] + 1 + rng.normal(0, 0.1, n)
    return X, y


def write_parts(directory, X, y, bounds, kinds) -> list[str]:
    """Rows [a, b) of each bound into a part of its kind (csv, gz, parquet), named so that they sort in order."""
    directory.mkdir()
    paths = []
    for index, ((first, last), kind) in enumerate(zip(bounds, kinds)):
        text = csv_text(X[first:last], y[first:last])
        path = directory / f"part-{index}.{ {'csv': 'csv', 'gz': 'csv.gz', 'parquet': 'parquet'}[kind]}"
        if kind == "csv":
            path.write_text(text)
        elif kind == "gz":
            path.write_bytes(gzip.compress(text.encode()))
        else:
            frame = pd.DataFrame(np.column_stack([X[first:last], y[first:last]]), columns=[*FEATURES, "y"])
            frame.to_parquet(path)
        paths.append(str(path))
    return paths


def weights(document) -> np.ndarray:
    return np.array([document["weights"][name] for name in NAMES])


def relative(a, b) -> float:
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)) / np.maximum(np.abs(np.asarray(b)), 1e-300)))


def test_the_cli_imports_neither_dask_nor_pyarrow():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, fwdback.cli; print(sorted({m.split('.')[0] for m in sys.modules} & "
                               "{'dask', 'distributed', 'pyarrow'}))"],
        capture_output=True, text=True, check=True,
    )
    assert loaded.stdout.strip() == "[]"


def test_parts_are_listed_sorted_from_a_directory_a_glob_or_a_list(workdir):
    from fwdback.errors import DataError
    from fwdback.sources import parts_of

    (workdir / "d").mkdir()
    for name in ("b.csv", "a.parquet", ".hidden.csv", "_SUCCESS", "c.csv.gz"):
        (workdir / "d" / name).write_bytes(b"PAR1" if name.endswith("parquet") else b"x1,x2,x3,y\n")
    listed = parts_of(["d"])
    assert [part.path for part in listed.parts] == ["d/a.parquet", "d/b.csv", "d/c.csv.gz"]
    assert [part.parquet for part in listed.parts] == [True, False, False]
    assert [part.path for part in parts_of(["d/*.csv*"]).parts] == ["d/b.csv", "d/c.csv.gz"]
    assert [part.path for part in parts_of(["d/c.csv.gz", "d/b.csv"]).parts] == ["d/c.csv.gz", "d/b.csv"]
    assert parts_of(["d/b.csv"]) is None  # one CSV: the single-file reader, as ever
    with pytest.raises(DataError, match=r"^d/\*\.txt: matches no file"):
        parts_of(["d/*.txt"])
    with pytest.raises(DataError, match=r"is listed twice"):
        parts_of(["d/b.csv", "d"])


def test_identity_on_csv_gzip_and_parquet_parts_equals_the_concatenation_in_memory(run, workdir, address):
    X, y = rows(12_000, seed=1)  # over GRAM_MIN_ROWS: in memory too the Gram engine trains
    write_parts(workdir / "parts", X, y, [(0, 3000), (3000, 5000), (5000, 9500), (9500, 12_000)],
                ["csv", "gz", "parquet", "csv"])
    reference = fit(X, y, init_parameters(np.random.default_rng(0)), TrainingPlan()).result
    for extra in ([], [f"--dask={address}"]):
        result = run(["train", "parts", "--no-save", "--format", "json", *extra])
        assert result.exit_code == 0, result.stderr
        document = json.loads(result.stdout)
        assert document["rows"] == 12_000
        assert document["epochs"] == reference.epochs_run
        assert relative(weights(document), reference.final.vector) < 1e-12
        assert relative(document["final_loss"], reference.final_loss) < 1e-12
        assert relative([entry["loss"] for entry in document["history"]], reference.losses) < 1e-12


def test_tanh_for_200_epochs_on_parts_equals_the_concatenation_in_memory(run, workdir, address, monkeypatch):
    X, y = rows(1500, seed=2)
    write_parts(workdir / "parts", X, y, [(0, 400), (400, 1100), (1100, 1500)], ["parquet", "csv", "gz"])
    plan = TrainingPlan(epochs=200, tol=0.0, standardize=True, seed=4)
    reference = fit(X, y, init_parameters(np.random.default_rng(4), 3, 3, "tanh"), plan).result
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)  # --dask alone goes where Dask users point it
    result = run(["train", "parts/part-*", "--activation", "tanh", "--hidden", "3", "--epochs", "200", "--tol", "0",
                  "--standardize", "--seed", "4", "--model", "tanh.json", "--dask", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["epochs"] == 200
    assert relative([document["weights"][name] for name in reference.final.names], reference.final.vector) < 1e-9
    assert relative([entry["loss"] for entry in document["history"]], reference.losses) < 1e-9
    saved = json.loads((workdir / "tanh.json").read_text())
    assert saved["training"]["data"] == "parts/part-*" and saved["scaling"] is not None


def test_mini_batches_on_parts_take_the_same_steps_as_in_memory(workdir, cluster, address):
    from fwdback.engines.dask import Partitions, prepare_partitioned
    from fwdback.sources import parts_of

    X, y = rows(600, seed=3)
    write_parts(workdir / "parts", X, y, [(0, 250), (250, 600)], ["csv", "parquet"])
    plan = TrainingPlan(epochs=4, tol=0.0, batch_size=64, lr=0.05, seed=2)
    initial = init_parameters(np.random.default_rng(2), 3, 2, "sigmoid")
    reference = fit(X, y, initial, plan).result
    partitions = Partitions.read(cluster[1], parts_of(["parts"]).parts, FEATURES, "y", None)
    result = fit_rows(prepare_partitioned(partitions, plan), initial, plan).result
    assert result.engine == "dask mini-batch"
    assert relative(result.final.vector, reference.final.vector) < 1e-12
    assert relative(result.losses, reference.losses) < 1e-12


@pytest.mark.parametrize("settings, shape", [
    ({"optimizer": "adam", "lr": 0.02, "loss": "half-sse"}, {"output_activation": "tanh"}),
    ({"optimizer": "nesterov", "lr": 0.0005, "batch_size": 50, "shuffle": False, "loss": "sse", "freeze": ("b1",)},
     {"bias": True}),
    ({"optimizer": "momentum", "lr": 0.05, "loss": "half-mse"}, {"bias": False}),
])
def test_the_next_lecture_s_conventions_on_parts_equal_the_concatenation_in_memory(workdir, cluster, settings, shape):
    from fwdback.engines.dask import Partitions, prepare_partitioned
    from fwdback.sources import parts_of

    X, y = rows(500, seed=5)
    write_parts(workdir / "parts", X, y, [(0, 180), (180, 500)], ["parquet", "csv"])
    plan = TrainingPlan(epochs=30, tol=0.0, seed=1, **settings)
    initial = init_parameters(np.random.default_rng(1), 3, 3, "tanh", **shape)
    reference = fit(X, y, initial, plan).result
    partitions = Partitions.read(cluster[1], parts_of(["parts"]).parts, FEATURES, "y", None)
    result = fit_rows(prepare_partitioned(partitions, plan), initial, plan).result
    assert relative(result.final.vector, reference.final.vector) < 1e-9
    assert relative(result.losses, reference.losses) < 1e-9


def test_predict_on_the_cluster_writes_what_one_machine_writes_of_all_rows(run, workdir, address):
    X, y = rows(3000, seed=5)
    write_parts(workdir / "parts", X, y, [(0, 1000), (1000, 1700), (1700, 3000)], ["csv", "gz", "csv"])
    (workdir / "all.csv").write_text(csv_text(X, y))
    assert run(["train", "all.csv", "--activation", "tanh", "--epochs", "30", "-q"]).exit_code == 0
    one_file = run(["predict", "all.csv"])
    assert one_file.exit_code == 0
    for extra in ([], [f"--dask={address}"]):
        result = run(["predict", "parts", *extra])
        assert result.exit_code == 0, result.stderr
        assert result.stdout == one_file.stdout


def test_predict_of_parquet_parts_appends_y_hat_to_every_column(run, workdir, address):
    from fwdback.modelfile import load_model

    X, y = rows(500, seed=6)
    write_parts(workdir / "parts", X, y, [(0, 200), (200, 500)], ["parquet", "parquet"])
    assert run(["train", "parts", "--epochs", "20", "-q"]).exit_code == 0
    result = run(["predict", "parts", f"--dask={address}"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "x1,x2,x3,y,y_hat" and len(lines) == 501
    written = np.array([[float(cell) for cell in line.split(",")] for line in lines[1:]])
    np.testing.assert_array_equal(written[:, :4], np.column_stack([X, y]))
    np.testing.assert_array_equal(written[:, 4], load_model("model.json").predict(X))


def test_a_worker_killed_mid_run_costs_a_recomputation_not_the_weights(workdir, cluster, address):
    from fwdback.engines.dask import Partitions, prepare_partitioned
    from fwdback.sources import parts_of

    local, client = cluster
    X, y = rows(2000, seed=7)
    write_parts(workdir / "parts", X, y, [(0, 500), (500, 1000), (1000, 1500), (1500, 2000)],
                ["csv", "parquet", "csv", "gz"])
    plan = TrainingPlan(epochs=60, tol=0.0, lr=0.05, seed=1)
    initial = init_parameters(np.random.default_rng(1), 3, 2, "tanh")
    reference = fit(X, y, initial, plan).result
    pids = client.run(os.getpid)
    victim = sorted(pids.values())[0]
    killed = []

    def kill_at_epoch_20(record):
        if record.number == 20:
            os.kill(victim, signal.SIGKILL)
            killed.append(record.number)

    partitions = Partitions.read(client, parts_of(["parts"]).parts, FEATURES, "y", None)
    result = fit_rows(prepare_partitioned(partitions, plan), initial, plan, on_epoch=kill_at_epoch_20).result
    assert killed == [20]
    assert victim not in client.run(os.getpid).values()  # the worker did die, and another took its place
    assert result.epochs_run == 60
    assert relative(result.final.vector, reference.final.vector) < 1e-9
    assert relative(result.losses, reference.losses) < 1e-9


@pytest.mark.parametrize("dask", [False, True])
def test_bad_data_in_one_part_is_one_error_line_naming_the_part_and_row(run, workdir, address, no_crash, dask):
    X, y = rows(300, seed=8)
    write_parts(workdir / "parts", X, y, [(0, 100), (100, 200), (200, 300)], ["csv", "parquet", "csv"])
    assert run(["train", "parts", "--epochs", "5", "-q"]).exit_code == 0
    text = (workdir / "parts" / "part-2.csv").read_text().splitlines()
    text[7] = "1.5,abc," + text[7].split(",", 2)[2]
    (workdir / "parts" / "part-2.csv").write_text("\n".join(text) + "\n")
    before = {path: path.read_bytes() for path in workdir.rglob("*") if path.is_file()}
    extra = [f"--dask={address}"] if dask else []
    result = run(["train", "parts", "--activation", "tanh", *extra])
    no_crash(result)
    assert result.exit_code == 1
    assert result.stderr == "Error: parts/part-2.csv, row 7, column x2: 'abc' is not a number; fix the cell or delete the row\n"
    assert {path: path.read_bytes() for path in workdir.rglob("*") if path.is_file()} == before

    frame = pd.read_parquet(workdir / "parts" / "part-1.parquet")
    frame["x3"] = frame["x3"].astype(str)
    frame.loc[41, "x3"] = "1_000"
    frame.to_parquet(workdir / "parts" / "part-1.parquet")
    result = run(["predict", "parts", *extra])
    assert result.exit_code == 1
    assert result.stderr == "Error: parts/part-1.parquet, row 42, column x3: '1_000' is not a number; fix the cell or delete the row\n"


def test_dask_options_that_cannot_work_are_usage_errors(run, workdir):
    X, y = rows(100, seed=9)
    write_parts(workdir / "parts", X, y, [(0, 50), (50, 100)], ["csv", "csv"])
    taken_for_an_address = run(["train", "--dask", "parts"])
    assert taken_for_an_address.exit_code == 2
    assert "'parts' is not a scheduler address such as tcp://10.0.0.5:8786; give --dask after DATA" in taken_for_an_address.stderr
    assert run(["train", "parts", "--dask", "--val-split", "0.2"]).exit_code == 2
    assert "needs --lr" in run(["train", "parts", "--dask", "--batch-size", "10"]).stderr
    assert "cannot read stdin" in run(["train", "-", "--dask"], input=csv_text(X, y)).stderr
    assert not (workdir / "model.json").exists()


def test_no_address_starts_a_local_cluster_sized_to_the_machine(run, workdir, monkeypatch):
    from fwdback.engines.dask import Cluster, cores

    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    with Cluster() as cluster:
        assert len(cluster.client.scheduler_info()["workers"]) == cores()
        assert all(worker["nthreads"] == 1 for worker in cluster.client.scheduler_info()["workers"].values())
        address = cluster.client.scheduler.address
    assert address.startswith("tcp://127.0.0.1:")


def test_the_estimator_fits_and_predicts_dask_arrays_and_data_frames_on_the_cluster(address):
    import dask.array
    import dask.dataframe

    from fwdback import FwdbackRegressor

    X, y = rows(900, seed=10)
    settings = dict(activation="tanh", epochs=40, tol=0.0, standardize=True, random_state=3)
    reference = FwdbackRegressor(**settings).fit(X, y)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    with distributed.Client(address) as client:
        client.wait_for_workers(2, timeout=60)
        on_array = FwdbackRegressor(**settings).fit(dask.array.from_array(X, chunks=(250, 3)),
                                                    dask.array.from_array(y, chunks=250))
        on_frame = FwdbackRegressor(**settings).fit(dask.dataframe.from_pandas(frame, npartitions=3),
                                                    dask.dataframe.from_pandas(pd.Series(y, name="price"), npartitions=3))
        predicted = on_array.predict(dask.array.from_array(X, chunks=(300, 3)))
        predicted_frame = on_frame.predict(dask.dataframe.from_pandas(frame, npartitions=2))
        assert isinstance(predicted, dask.array.Array)
        # the same rows in other blocks: BLAS may round a row's sums differently in the last bit
        np.testing.assert_allclose(predicted.compute(), on_array.predict(X), rtol=1e-14)
        np.testing.assert_allclose(predicted_frame.compute().to_numpy(), on_frame.predict(frame), rtol=1e-14)
    for fitted in (on_array, on_frame):
        assert relative(fitted.params_.vector, reference.params_.vector) < 1e-9
        assert relative(fitted.loss_curve_, reference.loss_curve_) < 1e-9
    assert list(on_frame.feature_names_in_) == ["a", "b", "c"] and on_frame.target_name_ == "price"
    bad = X.copy()
    bad[700, 1] = np.nan
    with distributed.Client(address), pytest.raises(ValueError, match=r"X contains NaN or inf \(X\[700, 1\] is nan\)"):
        FwdbackRegressor().fit(dask.array.from_array(bad, chunks=(250, 3)), dask.array.from_array(y, chunks=250))


def test_ctrl_c_stops_the_cluster_work_and_writes_no_model(workdir, address):
    X, y = rows(2000, seed=11)
    write_parts(workdir / "parts", X, y, [(0, 1000), (1000, 2000)], ["csv", "parquet"])
    (workdir / "model.json").write_text("")  # a file train would replace: it must stay as it was
    command = [sys.executable, "-m", "fwdback", "train", "parts", "--activation", "tanh", "--epochs", "1000000",
               "--tol", "0", "--format", "csv", f"--dask={address}"]
    process = subprocess.Popen(command, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "epoch,loss\n"
    assert process.stdout.readline().startswith("1,")  # an epoch has run on the cluster
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.startswith("Interrupted at epoch ") and "model.json was not written" in stderr
    assert "Traceback" not in stderr
    assert (workdir / "model.json").read_text() == ""


@pytest.mark.parametrize("dask", [False, True])
def test_predict_writes_one_csv_for_each_part_into_a_directory_or_none(run, workdir, address, dask):
    X, y = rows(900, seed=12)
    write_parts(workdir / "parts", X, y, [(0, 300), (300, 600), (600, 900)], ["csv", "gz", "parquet"])
    (workdir / "first.csv").write_text(csv_text(X[:300], y[:300]))
    (workdir / "second.csv").write_text(csv_text(X[300:600], y[300:600]))
    assert run(["train", "parts", "--activation", "relu", "--epochs", "10", "-q"]).exit_code == 0
    extra = [f"--dask={address}"] if dask else []
    result = run(["predict", "parts", "--output-dir", "out", *extra])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and result.stderr == "Wrote 3 files to out.\n"
    assert sorted(path.name for path in (workdir / "out").iterdir()) == ["part-0.csv", "part-1.csv", "part-2.csv"]
    assert (workdir / "out" / "part-0.csv").read_text() == run(["predict", "first.csv"]).stdout
    assert (workdir / "out" / "part-1.csv").read_text() == run(["predict", "second.csv"]).stdout
    header, *lines = (workdir / "out" / "part-2.csv").read_text().splitlines()
    written = np.array([[float(cell) for cell in line.split(",")] for line in lines])
    assert header == "x1,x2,x3,y,y_hat"
    np.testing.assert_array_equal(written[:, :4], np.column_stack([X[600:], y[600:]]))

    over_inputs = run(["predict", "parts", "--output-dir", "parts", *extra])
    assert over_inputs.exit_code == 2
    assert over_inputs.stderr.startswith("Error: --output-dir parts/part-0.csv is the data file parts/part-0.csv;")
    header, first, *others = csv_text(X[:300], y[:300]).splitlines()
    (workdir / "parts" / "part-0.csv").write_text("\n".join([header, "abc" + first[first.index(","):], *others]) + "\n")
    failed = run(["predict", "parts", "--output-dir", "fresh", *extra])
    assert failed.exit_code == 1 and failed.stderr.startswith("Error: parts/part-0.csv, row 1, column x1: 'abc")
    assert not (workdir / "fresh").exists()  # all or nothing: not even the directory it made
    (workdir / "other").mkdir()
    (workdir / "other" / "part-0.csv").write_text(csv_text(X[:5], y[:5]))
    clash = run(["predict", "other/part-0.csv", "parts/part-0.csv", "--output-dir", "clash", *extra])
    assert clash.exit_code == 2 and not (workdir / "clash").exists()
    assert clash.stderr.startswith("Error: --output-dir: other/part-0.csv and parts/part-0.csv would both be written to "
                                   "clash/part-0.csv; rename one, or predict them apart")


def test_the_estimator_computes_dask_collections_into_memory_without_a_client():
    import dask.array

    from fwdback import FwdbackRegressor

    X, y = rows(300, seed=13)
    on_dask = FwdbackRegressor(epochs=30, tol=0.0).fit(dask.array.from_array(X, chunks=(100, 3)), dask.array.from_array(y, chunks=100))
    np.testing.assert_array_equal(on_dask.params_.vector, FwdbackRegressor(epochs=30, tol=0.0).fit(X, y).params_.vector)
