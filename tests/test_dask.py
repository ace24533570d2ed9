"""DATA in parts (CSV, gzip, Parquet) and training and prediction on a Dask cluster (issue 15).

The reference for every result is the in-memory path on the parts' rows concatenated in
Python (training.prepare and fit_rows on arrays that never went through a file), or single-machine predict on
one CSV of all the rows: the cluster must give the same weights (identity to 1e-12, tanh to
1e-9 over 200 epochs) and the same bytes. One LocalCluster of two worker processes on
127.0.0.1 serves the whole module; the CLI reaches it by its address, as a user's cluster.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fwdback.network import init_parameters
from fwdback.plan import TrainingPlan
from fwdback.training import fit_rows, prepare

from conftest import NAMES, csv_text

pd = pytest.importorskip("pandas")
distributed = pytest.importorskip("distributed", reason="the dask extra: pip install '.[dask]'")
pytest.importorskip("pyarrow", reason="the dask extra: pip install '.[dask]'")

FEATURES = ("x1", "x2", "x3")


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of two single-threaded worker processes on the loopback address, and a client of it."""
    local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                     dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                     silence_logs=50)
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
    plan = TrainingPlan()
    reference = fit_rows(prepare(X, y, plan), init_parameters(np.random.default_rng(0)), plan).result
    for extra in ([], [f"--dask={address}"]):
        result = run(["train", "parts", "--no-save", "--format", "json", *extra])
        assert result.exit_code == 0, result.stderr
        document = json.loads(result.stdout)
        assert document["rows"] == 12_000
        assert document["epochs"] == reference.epochs_run
        assert relative(weights(document), reference.final.vector) < 1e-12
        assert relative(document["final_loss"], reference.final_loss) < 1e-12
        assert relative([entry["loss"] for entry in document["history"]], reference.losses) < 1e-12


@pytest.mark.slow  # 200 tanh epochs on the cluster: about 8 s
def test_tanh_for_200_epochs_on_parts_equals_the_concatenation_in_memory(run, workdir, address, monkeypatch):
    X, y = rows(1500, seed=2)
    write_parts(workdir / "parts", X, y, [(0, 400), (400, 1100), (1100, 1500)], ["parquet", "csv", "gz"])
    plan = TrainingPlan(epochs=200, tol=0.0, standardize=True, seed=4)
    reference = fit_rows(prepare(X, y, plan), init_parameters(np.random.default_rng(4), 3, 3, "tanh"), plan).result
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


@pytest.mark.slow  # a step a batch on the cluster: about 3 s
def test_mini_batches_on_parts_take_the_same_steps_as_in_memory(workdir, cluster, address):
    from fwdback.engines.dask import Partitions, prepare_partitioned
    from fwdback.sources import parts_of

    X, y = rows(600, seed=3)
    write_parts(workdir / "parts", X, y, [(0, 250), (250, 600)], ["csv", "parquet"])
    plan = TrainingPlan(epochs=4, tol=0.0, batch_size=64, lr=0.05, seed=2)
    initial = init_parameters(np.random.default_rng(2), 3, 2, "sigmoid")
    reference = fit_rows(prepare(X, y, plan), initial, plan).result
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
@pytest.mark.slow
def test_the_next_lecture_s_conventions_on_parts_equal_the_concatenation_in_memory(workdir, cluster, settings, shape):
    from fwdback.engines.dask import Partitions, prepare_partitioned
    from fwdback.sources import parts_of

    X, y = rows(500, seed=5)
    write_parts(workdir / "parts", X, y, [(0, 180), (180, 500)], ["parquet", "csv"])
    plan = TrainingPlan(epochs=30, tol=0.0, seed=1, **settings)
    initial = init_parameters(np.random.default_rng(1), 3, 3, "tanh", **shape)
    reference = fit_rows(prepare(X, y, plan), initial, plan).result
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


@pytest.mark.slow  # a worker's restart: about 3 s
def test_a_worker_killed_mid_run_costs_a_recomputation_not_the_weights(workdir, cluster, address):
    from fwdback.engines.dask import Partitions, prepare_partitioned
    from fwdback.sources import parts_of

    local, client = cluster
    X, y = rows(2000, seed=7)
    write_parts(workdir / "parts", X, y, [(0, 500), (500, 1000), (1000, 1500), (1500, 2000)],
                ["csv", "parquet", "csv", "gz"])
    plan = TrainingPlan(epochs=60, tol=0.0, lr=0.05, seed=1)
    initial = init_parameters(np.random.default_rng(1), 3, 2, "tanh")
    reference = fit_rows(prepare(X, y, plan), initial, plan).result
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


def listening_sockets() -> set:
    """(pid, local address) of every socket this process and its children listen on."""
    import psutil

    this = psutil.Process()
    return {(member.pid, connection.laddr) for member in [this, *this.children(recursive=True)]
            for connection in member.net_connections(kind="inet") if connection.status == psutil.CONN_LISTEN}


def test_no_address_starts_a_local_cluster_sized_to_the_machine_listening_on_the_loopback_address(monkeypatch):
    from fwdback.engines.dask import Cluster, cores

    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    before = listening_sockets()
    with Cluster() as cluster:
        assert len(cluster.client.scheduler_info()["workers"]) == cores()
        assert all(worker["nthreads"] == 1 for worker in cluster.client.scheduler_info()["workers"].values())
        address = cluster.client.scheduler.address
        opened = listening_sockets() - before
    assert address.startswith("tcp://127.0.0.1:")
    assert len(opened) >= 2 + cores()  # the scheduler, its HTTP server, and at least a socket a worker
    assert {address.ip for _, address in opened} == {"127.0.0.1"}


@pytest.mark.slow  # a cluster of its own: about 8 s
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


@pytest.mark.slow  # the cluster of the module: some seconds
@pytest.mark.parametrize("loss", ["bce", "cross-entropy"])
def test_the_classifier_fits_and_predicts_dask_arrays_and_data_frames_on_the_cluster(address, loss):
    import dask.array
    import dask.dataframe

    from fwdback import FwdbackClassifier
    from fwdback.errors import UnknownClass

    X, y = rows(600, seed=15)
    labels = np.where(y > np.median(y), "high", "low") if loss == "bce" else \
        np.array(["low", "middle", "high"])[np.searchsorted(np.quantile(y, [1 / 3, 2 / 3]), y)]
    settings = dict(loss=loss, activation="tanh", epochs=40, tol=0.0, standardize=True, random_state=3)
    reference = FwdbackClassifier(**settings).fit(X, labels)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    with distributed.Client(address) as client:
        client.wait_for_workers(2, timeout=60)
        on_array = FwdbackClassifier(**settings).fit(dask.array.from_array(X, chunks=(250, 3)),
                                                     dask.array.from_array(labels, chunks=250))
        on_frame = FwdbackClassifier(**settings).fit(dask.dataframe.from_pandas(frame, npartitions=3),
                                                     dask.dataframe.from_pandas(pd.Series(labels, name="band"),
                                                                                npartitions=3))
        # the same rows in other blocks: BLAS may round a row's sums differently in the last bit
        probabilities = on_array.predict_proba(dask.array.from_array(X, chunks=(300, 3)))
        assert isinstance(probabilities, dask.array.Array)
        np.testing.assert_allclose(probabilities.compute(), on_array.predict_proba(X), rtol=1e-14)
        predicted = on_frame.predict(dask.dataframe.from_pandas(frame, npartitions=2)).compute()
        assert predicted.tolist() == on_frame.predict(frame).tolist()
        unknown = np.where(np.arange(600) == 400, "other", labels)
        with pytest.raises(UnknownClass, match="row 401: 'other' is not one of the model's classes"):
            on_array.set_params(warm_start=True).fit(dask.array.from_array(X, chunks=(250, 3)),
                                                     dask.array.from_array(unknown, chunks=250))
    for fitted in (on_array, on_frame):
        assert fitted.classes_.tolist() == reference.classes_.tolist()
        # tanh over 40 epochs of sums in other orders (by partition), as the regressor's
        assert relative(fitted.params_.vector, reference.params_.vector) < 1e-9
        assert relative(fitted.loss_curve_, reference.loss_curve_) < 1e-9
    assert list(on_frame.feature_names_in_) == ["a", "b", "c"] and on_frame.target_name_ == "band"


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

    from fwdback import FwdbackClassifier, FwdbackRegressor

    X, y = rows(300, seed=13)
    on_dask = FwdbackRegressor(epochs=30, tol=0.0).fit(dask.array.from_array(X, chunks=(100, 3)), dask.array.from_array(y, chunks=100))
    np.testing.assert_array_equal(on_dask.params_.vector, FwdbackRegressor(epochs=30, tol=0.0).fit(X, y).params_.vector)
    labels = np.where(y > 1, "high", "low")
    on_dask = FwdbackClassifier(epochs=30, tol=0.0).fit(dask.array.from_array(X, chunks=(100, 3)),
                                                        dask.array.from_array(labels, chunks=100))
    np.testing.assert_array_equal(on_dask.params_.vector, FwdbackClassifier(epochs=30, tol=0.0).fit(X, labels).params_.vector)


# A local cluster (no address) in a real process: what it listens on, and Ctrl-C at any moment.


def processes_of(process) -> list:
    """The psutil processes of a run: fwdback and every process it started."""
    import psutil

    parent = psutil.Process(process.pid)
    return [parent, *parent.children(recursive=True)]


def start_local_run(workdir, *options, data="parts"):
    """`fwdback train DATA --dask` (a local cluster: no address anywhere) in its own process group,
    as a shell starts a job; Ctrl-C on a terminal signals the whole group."""
    environment = {name: value for name, value in os.environ.items() if name != "DASK_SCHEDULER_ADDRESS"}
    command = [sys.executable, "-m", "fwdback", "train", data, "--activation", "tanh", "--dask", *options]
    return subprocess.Popen(command, cwd=workdir, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, process_group=0)


def ended_with_its_processes(process, started) -> tuple[str, str]:
    """Wait for the run; its stdout and stderr, once every process it started has gone too."""
    import psutil

    stdout, stderr = process.communicate(timeout=120)
    _, alive = psutil.wait_procs(started, timeout=60)
    assert alive == []
    return stdout, stderr


def model_and_parts(workdir):
    X, y = rows(2000, seed=14)
    write_parts(workdir / "parts", X, y, [(0, 1000), (1000, 2000)], ["csv", "parquet"])
    (workdir / "model.json").write_text('{"format": "fwdback-model", "version": 1, "old": "model"}\n')
    return {path: path.read_bytes() for path in workdir.rglob("*") if path.is_file()}


@pytest.mark.slow
def test_a_local_cluster_listens_on_the_loopback_address_only_and_ctrl_c_to_its_group_stops_it(workdir):
    import psutil

    before = model_and_parts(workdir)
    process = start_local_run(workdir, "--epochs", "100000000", "--tol", "0", "--format", "csv")
    assert process.stdout.readline() == "epoch,loss\n"
    assert process.stdout.readline().startswith("1,")  # the cluster is up and has run an epoch
    started = processes_of(process)
    listening = [(member.pid, connection.laddr) for member in started
                 for connection in member.net_connections(kind="inet") if connection.status == psutil.CONN_LISTEN]
    assert len(listening) >= 3  # the scheduler's and at least each worker's
    assert [(pid, address) for pid, address in listening if address.ip not in {"127.0.0.1", "::1"}] == []
    os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C on a terminal: the workers too
    _, stderr = ended_with_its_processes(process, started)
    assert process.returncode == 130
    assert stderr.startswith("Interrupted at epoch ") and "model.json was not written" in stderr
    assert len(stderr.splitlines()) == 1
    assert {path: path.read_bytes() for path in workdir.rglob("*") if path.is_file()} == before


@pytest.mark.slow
@pytest.mark.parametrize("to_group", [False, True])
def test_ctrl_c_while_the_local_cluster_starts_stops_the_run_and_writes_nothing(workdir, to_group):
    before = model_and_parts(workdir)
    process = start_local_run(workdir, "--epochs", "100000000", "--tol", "0")
    workers = []
    while not workers:  # the first worker process: the cluster is starting (a worker takes a second to join)
        assert process.poll() is None
        workers = [member for member in processes_of(process)[1:] if "spawn_main" in " ".join(member.cmdline())]
    started = processes_of(process)
    (os.killpg if to_group else os.kill)(process.pid, signal.SIGINT)
    stdout, stderr = ended_with_its_processes(process, started)
    assert process.returncode == 130
    assert (stdout, stderr) == ("", "Interrupted; no file was written.\n")
    assert {path: path.read_bytes() for path in workdir.rglob("*") if path.is_file()} == before


# Scheduler addresses: checked in one place, the option's and the environment variable's alike.

@pytest.mark.parametrize("address, message", [
    ("notaproto://x", "'notaproto://x': fwdback reaches a Dask scheduler by tcp:// or tls://, not notaproto://; "
                      "give the scheduler's address as tcp://HOST:PORT"),
    ("ucx://127.0.0.1:1", "'ucx://127.0.0.1:1': fwdback reaches a Dask scheduler by tcp:// or tls://, not ucx://; "
                          "give the scheduler's address as tcp://HOST:PORT"),
    ("inproc://10.0.0.5/1/2", "'inproc://10.0.0.5/1/2': fwdback reaches a Dask scheduler by tcp:// or tls://, not "
                              "inproc://; give the scheduler's address as tcp://HOST:PORT"),
    ("tls://127.0.0.1:1", "'tls://127.0.0.1:1' is a TLS address, and Dask's configuration has no TLS settings; set "
                          "distributed.comm.tls.ca-file, client.cert and client.key in it (or "
                          "DASK_DISTRIBUTED__COMM__TLS__CA_FILE, ..._CLIENT__CERT and ..._CLIENT__KEY), or give a "
                          "tcp:// address"),
    ("foo bar", "'foo bar' is not a scheduler address such as tcp://10.0.0.5:8786; "),
    ("tcp://10.0.0.5:0", "'tcp://10.0.0.5:0' is not a scheduler address such as tcp://10.0.0.5:8786; "),
    ("10.0.0.5:65536", "'10.0.0.5:65536' is not a scheduler address such as tcp://10.0.0.5:8786; "),
    ("tcp://10.0.0.5", "'tcp://10.0.0.5' is not a scheduler address such as tcp://10.0.0.5:8786; "),
])
@pytest.mark.parametrize("given", ["--dask", "$DASK_SCHEDULER_ADDRESS"])
def test_an_address_fwdback_cannot_use_is_one_error_line_before_any_connection(run, workdir, monkeypatch, address,
                                                                               message, given):
    X, y = rows(50, seed=15)
    (workdir / "data.csv").write_text(csv_text(X, y))
    monkeypatch.delenv("DASK_DISTRIBUTED__COMM__TLS__CA_FILE", raising=False)
    if given == "--dask":
        monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
        result = run(["train", "data.csv", f"--dask={address}"])
        fix = "give --dask after DATA, or its address as --dask=ADDRESS\n"
    else:
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)
        result = run(["train", "data.csv", "--dask"])
        fix = "give the scheduler's HOST:PORT or tcp://HOST:PORT\n"
    assert result.exit_code == 2
    assert result.stderr == f"Error: {given} {message}" + (fix if message.endswith("; ") else "\n")
    assert sorted(path.name for path in workdir.iterdir()) == ["data.csv"]


def test_an_address_in_its_usual_forms_is_the_one_distributed_takes():
    from fwdback.engines.dask import scheduler_address

    assert scheduler_address("10.0.0.5:8786", "--dask") == "tcp://10.0.0.5:8786"
    assert scheduler_address("TCP://scheduler.example.org:8786/", "--dask") == "tcp://scheduler.example.org:8786"
    assert scheduler_address("tcp://[::1]:8786", "--dask") == "tcp://[::1]:8786"
    assert scheduler_address("dask_scheduler:1", "--dask") == "tcp://dask_scheduler:1"


@pytest.mark.slow
def test_a_scheduler_that_does_not_answer_is_a_worded_error_within_the_connect_timeout(workdir):
    from fwdback.engines.dask import CONNECT_SECONDS

    X, y = rows(50, seed=16)
    (workdir / "data.csv").write_text(csv_text(X, y))
    with socket.socket() as closed:  # a port that was free a moment ago: nothing listens there
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    result = subprocess.run([sys.executable, "-m", "fwdback", "train", "data.csv", f"--dask=tcp://127.0.0.1:{port}"],
                            cwd=workdir, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr == (f"Error: could not connect to the Dask scheduler at tcp://127.0.0.1:{port} within "
                             f"{CONNECT_SECONDS} s; check the address, and that the scheduler runs (dask scheduler)\n")
    assert sorted(path.name for path in workdir.iterdir()) == ["data.csv"]


# The estimator and parts on a running cluster: the same errors as in memory.

def test_a_dask_fit_of_wrong_shapes_gives_the_error_of_a_fit_in_memory(address):
    import dask.array
    import dask.dataframe

    from fwdback import FwdbackRegressor

    def refusal(X, y) -> str:
        with pytest.raises(ValueError) as caught:
            FwdbackRegressor(epochs=2).fit(X, y)
        return str(caught.value)

    X, y = rows(10, seed=17)
    cases = [(X[:0], y[:0]), (X, y[:0]), (X, y[:4]), (X[:, :0], y)]
    with distributed.Client(address):
        for X_memory, y_memory in cases:
            on_arrays = refusal(dask.array.from_array(X_memory, chunks=(5, -1)), dask.array.from_array(y_memory, chunks=5))
            assert on_arrays == refusal(X_memory, y_memory)
        assert refusal(X[:0], y[:0]) == "X has 0 sample(s) (shape=(0, 3)) while a minimum of 1 is required; give it rows"
        empty = dask.dataframe.from_pandas(pd.DataFrame(X[:0], columns=["a", "b", "c"]), npartitions=1)
        assert refusal(empty, dask.dataframe.from_pandas(pd.Series(y[:0]), npartitions=1)) == refusal(X[:0], y[:0])
        filtered = dask.array.from_array(X, chunks=(5, 3))
        kept = filtered[:, 0] > 2.0  # no row: blocks whose rows are not known until computed
        assert refusal(filtered[kept], dask.array.from_array(y, chunks=5)[kept]) == refusal(X[:0], y[:0])


def test_a_damaged_parquet_part_on_the_cluster_is_one_error_line_naming_the_part(run, workdir, address):
    X, y = rows(600, seed=18)
    write_parts(workdir / "parts", X, y, [(0, 300), (300, 600)], ["csv", "parquet"])
    data = bytearray((workdir / "parts" / "part-1.parquet").read_bytes())
    footer = int.from_bytes(data[-8:-4], "little")  # the file ends in its footer, its length and b"PAR1"
    data[4 : len(data) - footer - 8] = np.random.default_rng(0).integers(0, 256, len(data) - footer - 12, dtype=np.uint8).tobytes()
    (workdir / "parts" / "part-1.parquet").write_bytes(bytes(data))
    assert run(["train", "parts/part-0.csv", "--epochs", "2", "-q"]).exit_code == 0
    before = {path: path.read_bytes() for path in workdir.rglob("*") if path.is_file()}
    for command in (["train", "parts"], ["predict", "parts"]):
        result = run([*command, f"--dask={address}"])
        assert result.exit_code == 1, result.stderr
        assert len(result.stderr.splitlines()) == 1 and "parts/part-1.parquet" in result.stderr
        assert result.stderr.startswith("Error: ") and "internal error" not in result.stderr
    assert {path: path.read_bytes() for path in workdir.rglob("*") if path.is_file()} == before


def test_an_error_a_worker_meets_reading_a_part_names_the_part(cluster):
    from fwdback.engines.dask import gathered
    from fwdback.errors import ClusterError
    from fwdback.sources import Part

    client = cluster[1]
    with pytest.raises(ClusterError, match=r"^the Dask cluster failed reading parts/b\.parquet \(FileNotFoundError: "):
        gathered(client, [client.submit(len, [1]), client.submit(open, "/nonexistent/b.parquet")],
                 [Part("parts/a.csv", False), Part("parts/b.parquet", True)])


@pytest.mark.slow  # three trainings of 1,000 epochs on Dask clusters, each epoch a round trip: about 3 minutes
def test_the_dask_page_s_commands_run_as_written(tmp_path, address):
    """docs/how-to/dask.md's block of commands, in order, on parts of CSV and Parquet, with its
    placeholder scheduler (tcp://scheduler:8786) this module's cluster. Its `python` lines are the
    install (.ci/run's own) and the benchmark of the scale page (minutes of a million rows); the
    fwdback commands are run as written, and each must end well and print no error."""
    page = (Path(__file__).resolve().parent.parent / "docs" / "how-to" / "dask.md").read_text(encoding="utf-8")
    block = page.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]
    commands = [command.replace("tcp://scheduler:8786", address) for command in commands if not command.startswith("python ")]
    assert len(commands) == 8 and all("fwdback " in command for command in commands)
    X, y = rows(400, 11)
    write_parts(tmp_path / "parts", X, y, [(0, 100), (100, 200), (200, 300), (300, 400)], ["csv", "csv", "parquet", "parquet"])
    for name, (first, last), kind in (("a.csv", (0, 150), "csv"), ("b.csv.gz", (150, 300), "gz"), ("c.parquet", (300, 400), "parquet")):
        text = csv_text(X[first:last], y[first:last])
        if kind == "csv":
            (tmp_path / name).write_text(text)
        elif kind == "gz":
            (tmp_path / name).write_bytes(gzip.compress(text.encode()))
        else:
            pd.DataFrame(np.column_stack([X[first:last], y[first:last]]), columns=[*FEATURES, "y"]).to_parquet(tmp_path / name)
    environment = {name: value for name, value in os.environ.items() if name != "DASK_SCHEDULER_ADDRESS"}
    for command in commands:
        done = subprocess.run(["bash", "-o", "pipefail", "-c", command.replace("fwdback ", f"{sys.executable} -m fwdback ", 1)],
                              cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0 and "Error" not in done.stderr, (command, done.stderr)
    assert len((tmp_path / "predictions.csv").read_text().splitlines()) == 1 + 200  # the two Parquet parts' rows
    assert len(list((tmp_path / "predictions").glob("*.csv"))) == 4
