"""A classifier's data path: its target column of class labels, the classes found from them, the
refusals of labels it cannot learn, its model file, resume, and predict's columns."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from hostile import fingerprint, invoke, refused, succeeded  # noqa: F401 (invoke: a fixture)
from fwdback.classes import Classes, class_targets
from fwdback.data import load_dataset
from fwdback.errors import ClassCount, ModelFileError, UnknownClass
from fwdback.losses import LOSSES
from fwdback.modelfile import load_model, model_json

EPS = float(np.finfo(np.float64).eps)


def _rows(n: int = 24, seed: int = 3) -> np.ndarray:
    return np.round(np.random.default_rng(seed).normal(size=(n, 2)), 3)


def _write(path, X, labels, header="x1,x2,y") -> None:
    path.write_text(header + "\n" + "".join(f"{a},{b},{label}\n" for (a, b), label in zip(X.tolist(), labels)))


@pytest.fixture
def two(workdir):
    """two.csv: 24 rows of x1,x2 and the labels 'no' and 'yes' (yes where x1 + x2 > 0)."""
    X = _rows()
    _write(workdir / "two.csv", X, np.where(X.sum(axis=1) > 0, "yes", "no"))
    return X


@pytest.fixture
def three(workdir):
    """three.csv: 24 rows of x1,x2 and the labels 'a', 'b', 'c' by how many of x1, x2 are positive."""
    X = _rows(seed=4)
    _write(workdir / "three.csv", X, np.array(["a", "b", "c"])[(X > 0).sum(axis=1)])
    return X


@pytest.mark.parametrize(("cells", "classes"), [
    (["10", "9", "2.0", "9"], (2, 9, 10)),                  # numbers by value; a whole number is an int
    (["0.5", "1", "-2.5"], (-2.5, 0.5, 1)),
    (["b", "B", "a", " a "], ("B", "a", "b")),              # text by code point, trimmed as every cell is
    (["1", "x", "10", "2"], ("1", "10", "2", "x")),          # one label is not a number: all are text
    (['"a,b"', "c", '"a,b"'], ("a,b", "c")),                # a quoted label holding the separator
])
def test_the_classes_are_the_labels_sorted_as_scikit_learn_sorts_them(tmp_path, cells, classes):
    path = tmp_path / "d.csv"
    path.write_text("x1,y\n" + "".join(f"{j},{cell}\n" for j, cell in enumerate(cells)))
    dataset = load_dataset(str(path), ("x1",), "y", labels=True)
    found = Classes.of(dataset.y)
    assert found.labels == classes
    assert all(type(label) is type(expected) for label, expected in zip(found.labels, classes))
    assert dataset.X[:, 0].tolist() == list(range(len(cells)))


def test_the_targets_are_the_second_class_for_bce_and_one_hot_for_cross_entropy():
    labels = np.array(["b", "a", "c", "a"], dtype=object)
    y, classes = class_targets(labels, LOSSES["cross-entropy"])
    assert classes.labels == ("a", "b", "c")
    assert y.tolist() == [[0, 1, 0], [1, 0, 0], [0, 0, 1], [1, 0, 0]]
    y, classes = class_targets(np.array([1, 0, 0, 1], dtype=object), LOSSES["bce"])
    assert classes.labels == (0, 1) and y.tolist() == [1.0, 0.0, 0.0, 1.0]
    with pytest.raises(UnknownClass, match=r"d.csv, row 7, column y: 'z'"):
        class_targets(["a", "z"], LOSSES["bce"], Classes(("a", "b")), "d.csv", "y", rows_before=5)
    with pytest.raises(ClassCount, match=r"d.csv, column y: loss='bce' needs exactly 2 classes, and it has 3"):
        class_targets(["a", "b", "c"], LOSSES["bce"], source="d.csv", column="y")


@pytest.mark.parametrize(("data", "options", "code", "fragments"), [
    ("one.csv", ["--loss", "cross-entropy"], 1, ["one.csv, column y", "at least 2 classes", "it has 1 class (yes)"]),
    ("three.csv", ["--loss", "bce"], 1, ["three.csv, column y", "exactly 2 classes", "use --loss cross-entropy"]),
    ("empty.csv", ["--loss", "bce"], 1, ["empty.csv, row 3, column y: the class label is empty"]),
    ("bad.csv", ["--loss", "bce"], 1, ["bad.csv, row 2, column x2: 'abc' is not a number"]),
    ("two.csv", ["--loss", "bce", "--output-activation", "tanh"], 2,
     ["--loss bce computes its probabilities with a sigmoid output", "leave out --output-activation"]),
    ("two.csv", ["--loss", "cross-entropy", "--target", "y,x2", "--features", "x1"], 2,
     ["--loss cross-entropy classifies one target column"]),
])
def test_labels_a_classifier_cannot_learn_are_refused_in_one_line(workdir, invoke, two, three, data, options, code,
                                                                     fragments):
    (workdir / "one.csv").write_text("x1,x2,y\n1,2,yes\n3,4,yes\n")
    (workdir / "empty.csv").write_text("x1,x2,y\n1,2,yes\n3,4,no\n5,6,\n")
    (workdir / "bad.csv").write_text("x1,x2,y\n1,2,yes\n3,abc,\n")
    before = fingerprint(workdir)
    o = invoke("train", data, "--features", "x1,x2", *options)
    refused(o, code, fragments, root=workdir, before=before, train=True)


def test_a_resumed_classifier_refuses_a_class_it_does_not_have_and_goes_on_with_its_own(workdir, invoke, two):
    succeeded(invoke("train", "two.csv", "--features", "x1,x2", "--loss", "bce", "--epochs", "30", "-q"))
    with open(workdir / "two.csv", "a") as data:
        data.write("1,1,maybe\n")
    before = fingerprint(workdir)
    o = invoke("train", "two.csv", "--resume", "model.json", "--epochs", "5", "--model", "more.json")
    refused(o, 1, ["two.csv, row 25, column y: 'maybe' is not one of the model's classes (no, yes)"], root=workdir,
            before=before, train=True)


def test_a_classifier_starts_from_the_weights_of_one_of_its_classes_only(workdir, invoke, two):
    succeeded(invoke("train", "two.csv", "--features", "x1,x2", "--loss", "bce", "--epochs", "10", "-q"))
    text = (workdir / "two.csv").read_text()
    (workdir / "other.csv").write_text(text.replace(",no\n", ",nope\n"))
    succeeded(invoke("train", "two.csv", "--features", "x1,x2", "--loss", "bce", "--init", "model.json", "--epochs", "3",
                     "--model", "next.json", "-q"))
    before = fingerprint(workdir)
    o = invoke("train", "other.csv", "--features", "x1,x2", "--loss", "bce", "--init", "model.json", "--model", "x.json")
    refused(o, 1, ["model.json: is a classifier of the classes (no, yes), and the data's are (nope, yes)"], root=workdir,
            before=before, train=True)


def test_an_unseen_class_in_data_of_many_parts_is_named_by_its_part_and_row(workdir, invoke, two):
    succeeded(invoke("train", "two.csv", "--features", "x1,x2", "--loss", "bce", "--epochs", "5", "-q"))
    (workdir / "parts").mkdir()
    (workdir / "parts" / "a.csv").write_text("x1,x2,y\n1,2,yes\n3,4,no\n5,6,no\n")
    (workdir / "parts" / "b.csv").write_text("x1,x2,y\n1,2,no\n3,4,maybe\n")
    before = fingerprint(workdir)
    for streamed in ([], ["--chunksize", "1000"]):
        o = invoke("train", "parts", "--resume", "model.json", "--epochs", "5", "--model", "more.json", *streamed)
        refused(o, 1, ["parts/b.csv, row 2, column y: 'maybe' is not one of the model's classes"], root=workdir,
                before=before, train=True)


def test_resuming_a_classifier_is_training_it_in_one_run(workdir, invoke, three):
    common = ("three.csv", "--features", "x1,x2", "--loss", "cross-entropy", "--activation", "tanh", "-q")
    succeeded(invoke("train", *common, "--epochs", "70", "--model", "whole.json"))
    succeeded(invoke("train", *common, "--epochs", "40", "--model", "first.json"))
    succeeded(invoke("train", "three.csv", "--resume", "first.json", "--epochs", "30", "--model", "rest.json", "-q"))
    whole, rest = load_model("whole.json"), load_model("rest.json")
    assert rest.classes == whole.classes == Classes(("a", "b", "c"))
    assert rest.params.as_dict() == whole.params.as_dict()  # the same operations on the same numbers


def test_the_model_file_records_the_classes_the_link_and_the_loss_and_reads_them_back(workdir, invoke, two):
    succeeded(invoke("train", "two.csv", "--features", "x1,x2", "--loss", "bce", "--epochs", "20", "--standardize", "-q"))
    text = (workdir / "model.json").read_text()
    document = json.loads(text)
    assert document["classes"] == ["no", "yes"] and document["output_activation"] == "sigmoid"
    assert document["training"]["plan"]["loss"] == "bce"
    assert (document["scaling"]["mean"]["y"], document["scaling"]["std"]["y"]) == (0.0, 1.0)  # never the labels
    assert document["scaling"]["mean"]["x1"] == pytest.approx(np.mean(_rows()[:, 0]), rel=1e-12)
    model = load_model("model.json")
    assert model.classes == Classes(("no", "yes")) and model.params.architecture.n_outputs == 1
    assert model_json(model) == text


@pytest.mark.parametrize(("change", "fragment"), [
    (lambda d: d.update(classes=["yes", "no"]), '"classes" is ["yes", "no"], not a list of distinct class labels'),
    (lambda d: d.update(classes=["no", 1]), "not a list of distinct class labels"),
    (lambda d: d.update(classes=["no", "no"]), "not a list of distinct class labels"),
    (lambda d: d.update(classes=["a", "no", "yes"]), '"classes" holds 3, and bce needs exactly 2'),
    (lambda d: d.pop("classes"), '"classes" is null'),
    (lambda d: d.update(output_activation="tanh"), '"output_activation" is "tanh", and its loss bce needs sigmoid'),
    (lambda d: d["training"]["plan"].pop("loss"), 'has "classes", which only a classifier\'s loss has'),
    (lambda d: d["scaling"]["mean"].update(y=0.5), "scales the target y of a classifier"),
])
def test_a_damaged_classifier_model_file_is_refused(workdir, invoke, two, change, fragment):
    succeeded(invoke("train", "two.csv", "--features", "x1,x2", "--loss", "bce", "--epochs", "5", "--standardize", "-q"))
    document = json.loads((workdir / "model.json").read_text())
    change(document)
    (workdir / "bad.json").write_text(json.dumps(document))
    with pytest.raises(ModelFileError, match=r"bad\.json: ") as refusal:
        load_model("bad.json")
    assert fragment in str(refusal.value)


def _sigmoid(a: float) -> float:
    return 1.0 / (1.0 + math.exp(-a))


@pytest.mark.parametrize("loss", ["bce", "cross-entropy"])
def test_predict_writes_each_class_probability_and_the_most_probable_class(workdir, invoke, two, three, loss):
    data = "two.csv" if loss == "bce" else "three.csv"
    succeeded(invoke("train", data, "--features", "x1,x2", "--loss", loss, "--activation", "tanh", "--epochs", "50", "-q"))
    document = json.loads((workdir / "model.json").read_text())
    w, classes = document["weights"], document["classes"]
    (workdir / "new.csv").write_text('x2,note,x1\n0.5,"a,b",-1\n-2,c,0.25\n0,d,0\n')
    o = invoke("predict", "new.csv")
    succeeded(o)
    lines = o.stdout.splitlines()
    assert lines[0] == "x2,note,x1," + ",".join(f"y_prob_{label}" for label in classes) + ",y_hat"
    for line, (x1, x2) in zip(lines[1:], [(-1, 0.5), (0.25, -2), (0, 0)]):
        # by hand: N_h = tanh(w x + b), a_j = sum_h w N_h + b, yhat = sigmoid(a) or softmax(a)
        N = [math.tanh(w["w1"] * x1 + w["w2"] * x2 + w["b1"]), math.tanh(w["w3"] * x1 + w["w4"] * x2 + w["b2"])]
        logits = [w[f"w{5 + 2 * j}"] * N[0] + w[f"w{6 + 2 * j}"] * N[1] + w[f"b{3 + j}"] for j in range(len(classes) if loss != "bce" else 1)]
        if loss == "bce":
            expected = [1 - _sigmoid(logits[0]), _sigmoid(logits[0])]
        else:
            exps = [math.exp(a - max(logits)) for a in logits]
            expected = [e / sum(exps) for e in exps]
        # each logit sums a few products of size |w| |N| <= size, rounded at every step; tanh and
        # exp add a few ulp; the probabilities' slope by a logit is at most 1/2
        size = sum(abs(value) for value in w.values())
        tolerance = 16 * EPS * (size + 1)
        fields = line.split(",")
        probabilities = [float(field) for field in fields[-len(classes) - 1:-1]]
        assert probabilities == pytest.approx(expected, abs=tolerance)
        assert fields[-1] == classes[int(np.argmax(probabilities))]


def _fitted(dataset, loss: str, plan, classes):
    from fwdback.run import NetworkSettings, classifier_network, fit, prepare_rows, starting_point

    network = classifier_network(NetworkSettings(("x1", "x2"), "y", hidden=3, activation="tanh"), loss, classes)
    start = starting_point(plan, network)
    return fit(start, prepare_rows(dataset, start.plan, start.weights.scaling, classes=classes)).result


@pytest.mark.parametrize(("loss", "labels", "standardize"), [
    ("cross-entropy", lambda X: np.array(["a", "b", "c"])[(X > 0).sum(axis=1)], True),
    ("bce", lambda X: np.where(X[:, 0] > X[:, 1], "1", "x"), None),   # the first chunks all numbers: text by the last
])
def test_a_streamed_classifier_trains_as_one_in_memory(tmp_path, loss, labels, standardize):
    from fwdback.data import stream_dataset
    from fwdback.plan import TrainingPlan
    from fwdback.run import found_classes

    X = _rows(60, seed=5) * [1.0, 30.0]
    y = labels(X)
    y[:40] = np.where(y[:40] == "x", "1", y[:40]) if loss == "bce" else y[:40]
    _write(tmp_path / "d.csv", X, y)
    in_memory = load_dataset(str(tmp_path / "d.csv"), ("x1", "x2"), "y", labels=True)
    streamed = stream_dataset(str(tmp_path / "d.csv"), ("x1", "x2"), "y", None, 7, labels=True)
    classes = found_classes(in_memory, loss)
    assert found_classes(streamed, loss) == classes == Classes.of(y.tolist())
    plan = TrainingPlan(epochs=30, tol=0.0, seed=2, standardize=standardize, loss=loss)
    reference, result = _fitted(in_memory, loss, plan, classes), _fitted(streamed, loss, plan, classes)
    assert result.engine == "streamed"
    # the same operations, but each epoch's sums over the 60 rows taken chunk by chunk: they agree
    # to an n-term sum's rounding (60 eps, 1e-14), which 30 stable steps do not grow past 1e-12
    assert np.max(np.abs(result.final.vector - reference.final.vector)) <= 1e-12 * np.max(np.abs(reference.final.vector))
    assert result.losses == pytest.approx(reference.losses, rel=1e-12)


@pytest.mark.slow  # a cluster of its own: about 15 s
def test_a_classifier_on_a_dask_cluster_trains_as_one_in_memory(workdir, invoke):
    pd = pytest.importorskip("pandas")
    distributed = pytest.importorskip("distributed")
    pytest.importorskip("pyarrow")
    X = _rows(90, seed=6)
    y = np.array(["b", "a", "c"])[(X > 0).sum(axis=1)]
    _write(workdir / "all.csv", X, y)
    (workdir / "parts").mkdir()
    frame = pd.read_csv(workdir / "all.csv")
    frame[:30].to_csv(workdir / "parts" / "p0.csv", index=False)
    frame[30:].to_parquet(workdir / "parts" / "p1.parquet")
    common = ("--features", "x1,x2", "--loss", "cross-entropy", "--activation", "tanh", "--hidden", "3", "--epochs", "40",
              "--tol", "0", "--standardize", "-q")
    succeeded(invoke("train", "all.csv", *common, "--model", "memory.json"))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, silence_logs=50) as cluster:
        succeeded(invoke("train", "parts", *common, "--model", "dask.json", f"--dask={cluster.scheduler_address}"))
        (workdir / "parts" / "p0.csv").write_text("x1,x2,y\n1,2,a\n3,4,d\n")
        before = fingerprint(workdir)
        o = invoke("train", "parts", "--resume", "dask.json", "--epochs", "5", "--model", "more.json",
                   f"--dask={cluster.scheduler_address}")
        refused(o, 1, ["p0.csv, row 2, column y: 'd' is not one of the model's classes (a, b, c)"], root=workdir,
                before=before, train=True)
    memory, dask = load_model("memory.json"), load_model("dask.json")
    assert dask.classes == memory.classes == Classes(("a", "b", "c"))
    # each epoch's sums over the rows taken partition by partition: n eps apart, 40 stable steps keep them within 1e-12
    assert np.max(np.abs(dask.params.vector - memory.params.vector)) <= 1e-12 * np.max(np.abs(memory.params.vector))


def test_the_library_door_words_a_classifier_s_conflict_with_python_s_names():
    from fwdback.errors import ClassifierConflict, RunConflict
    from fwdback.run import NetworkSettings, classifier_network

    with pytest.raises(ClassifierConflict) as conflict:
        classifier_network(NetworkSettings(output_activation="tanh"), "cross-entropy")
    assert isinstance(conflict.value, RunConflict) and isinstance(conflict.value, ValueError)
    assert str(conflict.value) == ("loss='cross-entropy' computes its probabilities with a softmax output, and "
                                   "output_activation='tanh' contradicts it: leave out output_activation (the softmax "
                                   "is then the output's activation)")
    kept = classifier_network(NetworkSettings(output_activation="sigmoid"), "bce", Classes((0, 1)))
    assert (kept.output_activation, kept.architecture.n_outputs) == ("sigmoid", 1)
    assert classifier_network(NetworkSettings(), "cross-entropy", Classes(("a", "b", "c"))).architecture.n_outputs == 3
    assert classifier_network(NetworkSettings(output_activation="tanh"), "mse") == NetworkSettings(output_activation="tanh")


def test_the_report_gives_the_share_of_rows_whose_most_probable_class_is_theirs(workdir, invoke, two):
    o = invoke("train", "two.csv", "--features", "x1,x2", "--loss", "bce", "--epochs", "3", "--format", "json")
    succeeded(o)
    document = json.loads(o.stdout)
    w, X = document["weights"], _rows()
    truth = X.sum(axis=1) > 0                                  # the rows labelled yes, the second class
    logits = [w["w5"] * (w["w1"] * a + w["w2"] * b + w["b1"]) + w["w6"] * (w["w3"] * a + w["w4"] * b + w["b2"]) + w["b3"]
              for a, b in X.tolist()]
    predicted = np.array([_sigmoid(a) > 0.5 for a in logits])  # yes where P(yes) beats P(no); a tie is no's
    assert document["classes"] == ["no", "yes"] and document["fit"] is None
    assert document["accuracy"] == pytest.approx(np.mean(predicted == truth), abs=1e-15)


def test_predict_refuses_data_that_has_a_column_of_a_probability_it_would_add(workdir, invoke, two):
    succeeded(invoke("train", "two.csv", "--features", "x1,x2", "--loss", "bce", "--epochs", "3", "-q"))
    (workdir / "new.csv").write_text("x1,x2,y_prob_yes\n1,2,0.5\n")
    before = fingerprint(workdir)
    refused(invoke("predict", "new.csv"), 1, ["new.csv: already has a y_prob_yes column"], root=workdir, before=before)


@pytest.mark.parametrize(("cell", "others", "problem"), [
    ("inf", ("0", "1"), "is infinite or beyond the float64 range"),     # read as a number: its text is gone
    ("-inf", ("0", "1"), "is infinite or beyond the float64 range"),
    ("1e400", ("0", "1"), "is infinite or beyond the float64 range"),
    ("Infinity", ("cat", "dog"), "'Infinity' is infinite"),  # among text: the text is named
    ("nan", ("0", "1"), "'nan' is a missing value"),
    ("NaN", ("cat", "dog"), "'NaN' is a missing value"),
    ("-nan", ("0", "1"), "'-nan' is a missing value"),
])
def test_a_missing_or_infinite_class_label_is_refused_naming_its_row_in_every_door_and_reader(
        workdir, invoke, cell, others, problem):
    X = _rows(4)
    labels = [others[0], others[1], cell, others[0]]
    _write(workdir / "bad.csv", X, labels)
    (workdir / "parts").mkdir()
    _write(workdir / "parts" / "a.csv", X, [others[0], others[1], others[1], others[0]])
    _write(workdir / "parts" / "b.csv", X, labels)
    _write(workdir / "good.csv", X, [others[0], others[1], others[1], others[0]])
    succeeded(invoke("train", "good.csv", "--features", "x1,x2", "--loss", "bce", "--epochs", "2", "-q"))
    before = fingerprint(workdir)
    features = ("--features", "x1,x2")
    for command, place in [
        (["train", "bad.csv", *features, "--loss", "cross-entropy", "--model", "new.json"], "bad.csv, row 3"),
        (["explain", "bad.csv", *features, "--loss", "bce"], "bad.csv, row 3"),
        (["evaluate", "bad.csv", "--model", "model.json"], "bad.csv, row 3"),
        (["train", "parts", *features, "--loss", "bce", "--model", "new.json"], "parts/b.csv, row 3"),
        (["train", "parts", *features, "--loss", "bce", "--model", "new.json", "--chunksize", "1000"],
         "parts/b.csv, row 3"),
    ]:
        o = invoke(*command)
        refused(o, 1, [f"{place}, column y: the class label {problem}", "give the row's class or delete the row"],
                root=workdir, before=before, train=command[0] == "train")


@pytest.mark.parametrize("label", [float("inf"), float("nan"), "nan", "NaN", "", None])
def test_a_parquet_column_and_the_python_door_refuse_the_same_labels(workdir, invoke, label):
    import pandas as pd

    from fwdback import FwdbackClassifier

    X = _rows(4)
    numbers = isinstance(label, float)
    labels = [0, 1, label, 0] if numbers else ["a", "b", label, "a"]
    pd.DataFrame({"x1": X[:, 0], "x2": X[:, 1], "y": labels}).to_parquet(workdir / "bad.parquet")
    before = fingerprint(workdir)
    o = invoke("train", "bad.parquet", "--features", "x1,x2", "--loss", "bce", "--model", "new.json")
    refused(o, 1, ["bad.parquet, row 3, column y: the class label"], root=workdir, before=before, train=True)
    with pytest.raises(ValueError, match=r"^y\[2\] is .*, not a class label"):
        FwdbackClassifier(loss="bce").fit(X, labels)


@pytest.mark.parametrize("command", ["train", "explain", "gradcheck"])
def test_an_output_activation_given_must_be_the_losss_link_identity_included(workdir, invoke, two, three, command):
    before = fingerprint(workdir)
    for data, loss, link, other in [("two.csv", "bce", "sigmoid", "identity"),
                                    ("three.csv", "cross-entropy", "softmax", "identity"),
                                    ("three.csv", "cross-entropy", "softmax", "sigmoid")]:
        o = invoke(command, data, "--features", "x1,x2", "--loss", loss, "--output-activation", other)
        refused(o, 2, [f"--loss {loss} computes its probabilities with a {link} output",
                       f"--output-activation {other} contradicts it"], root=workdir, before=before,
                train=command == "train")
    succeeded(invoke(command, "two.csv", "--features", "x1,x2", "--loss", "bce", "--output-activation", "sigmoid",
                     *(["--epochs", "2", "-q"] if command == "train" else [])))


def test_text_in_a_regressors_target_points_at_a_classifiers_loss_and_only_there(workdir, invoke):
    import pandas as pd

    X = _rows(3)
    _write(workdir / "pets.csv", X, ["cat", "dog", "cat"], header="x1,x2,animal")
    pd.DataFrame({"x1": X[:, 0], "x2": X[:, 1], "animal": ["cat", "dog", "cat"]}).to_parquet(workdir / "pets.parquet")
    (workdir / "text.csv").write_text("x1,x2,y\n1,cat,0\n2,dog,1\n3,cat,0\n")
    hint = "for class labels, give --loss cross-entropy (or --loss bce for two classes)"
    before = fingerprint(workdir)
    for command in (["train", "pets.csv", "--model", "new.json"], ["train", "pets.csv", "--chunksize", "1000"],
                    ["train", "pets.parquet", "--model", "new.json"], ["explain", "pets.csv"]):
        o = invoke(*command, "--features", "x1,x2", "--target", "animal")
        refused(o, 1, [f"{command[1]}, row 1, column animal: 'cat' is not a number", hint], root=workdir, before=before,
                train=command[0] == "train")
    o = invoke("train", "text.csv", "--features", "x1,x2", "--model", "new.json")  # a feature: no labels there
    refused(o, 1, ["text.csv, row 1, column x2: 'cat' is not a number"], ["--loss"], root=workdir, before=before, train=True)
    o = invoke("train", "text.csv", "--features", "x1,x2", "--loss", "bce", "--model", "new.json")  # a classifier
    refused(o, 1, ["text.csv, row 1, column x2: 'cat' is not a number"], ["--loss"], root=workdir, before=before, train=True)


def test_an_init_model_with_other_outputs_than_a_classifier_needs_says_what_each_is(workdir, invoke, two, three):
    X = _rows(4)
    _write(workdir / "reg.csv", X, [0.5, 1.5, 2.5, 3.5])
    for data, loss, model in [("two.csv", "bce", "bce.json"), ("three.csv", "cross-entropy", "ce.json"),
                              ("reg.csv", "mse", "reg.json")]:
        succeeded(invoke("train", data, "--features", "x1,x2", "--loss", loss, "--epochs", "2", "-q", "--model", model))
    before = fingerprint(workdir)
    for data, loss, init, fragments in [
        ("three.csv", "cross-entropy", "bce.json",
         ["bce.json: is a bce classifier of the 2 classes no, yes, with 1 output",
          "this run's --loss cross-entropy of the 3 classes a, b, c needs 3 outputs", "leave out --init"]),
        ("two.csv", "bce", "ce.json",
         ["ce.json: is a cross-entropy classifier of the 3 classes a, b, c, with 3 outputs",
          "this run's --loss bce of the 2 classes no, yes needs 1 output"]),
        ("two.csv", "cross-entropy", "bce.json",
         ["this run's --loss cross-entropy of the 2 classes no, yes needs 2 outputs", "train with its loss (--loss bce)"]),
        ("reg.csv", "mse", "ce.json", ["this run's regression of 1 target needs 1 output"]),
        ("three.csv", "cross-entropy", "reg.json", ["reg.json: is a regressor of y, with 1 output"]),
    ]:
        o = invoke("train", data, "--features", "x1,x2", "--loss", loss, "--init", init, "--model", "new.json")
        refused(o, 1, fragments, ["--target"], root=workdir, before=before, train=True)


def test_too_few_classes_are_met_by_advice_of_the_number_the_loss_needs(workdir, invoke):
    from fwdback import FwdbackClassifier

    (workdir / "one.csv").write_text("x1,x2,y\n1,2,yes\n3,4,yes\n")
    before = fingerprint(workdir)
    for loss, need in [("bce", "exactly 2 classes"), ("cross-entropy", "at least 2 classes")]:
        advice = need.replace("2", "two")
        o = invoke("train", "one.csv", "--features", "x1,x2", "--loss", loss, "--model", "new.json")
        refused(o, 1, [f"one.csv, column y: --loss {loss} needs {need}", f"give rows of {advice}"], root=workdir,
                before=before, train=True)
        with pytest.raises(ClassCount, match=f"loss='{loss}' needs {need}.*give rows of {advice}"):
            FwdbackClassifier(loss=loss).fit(np.array([[1.0, 2.0], [3.0, 4.0]]), ["yes", "yes"])


def test_the_python_door_refuses_pandas_missing_labels_as_missing():
    import pandas as pd

    from fwdback import FwdbackClassifier

    X = _rows(4)
    for labels in (pd.Series(["a", "b", None, "a"], dtype="string"), pd.Series([0, 1, None, 0], dtype="Int64")):
        with pytest.raises(ValueError, match=r"^y\[2\] is (<NA>|nan), not a class label"):
            FwdbackClassifier(loss="bce").fit(X, labels)
