"""The classifier's losses against independent references: a 2-2-1 sigmoid network worked by hand
at 50 digits; the oracle (tests/oracle.py's plain-Python classifier, which test_oracle.py checks
against its definitions) for network.py's gradients and for whole training runs, by
training.fit_rows and by FwdbackClassifier, across the regressor's options; the exact loss
(mpmath) for rounding.LossRounding's bound of the log losses; and logits of +-1000.

PyTorch (BCEWithLogitsLoss, CrossEntropyLoss) is not among the test extras and cannot be installed
here: the references are the worked example, mpmath and the oracle's plain-Python loop.
"""

import dataclasses
import math
import warnings

import mpmath
import numpy as np
import pytest

import oracle
from cases import slow_after
from fwdback.estimator import FwdbackClassifier
from fwdback.network import Parameters, backward, forward, init_parameters, loss, update
from fwdback.plan import TrainingPlan
from fwdback.rounding import LossRounding
from fwdback.training import fit_rows, prepare

U = oracle.U
LINK = oracle.LOG_LOSSES  # each loss's output activation

# --- a 2-2-1 network with sigmoid units and a sigmoid output, worked by hand -----------------
#
#   z1 = w1 x1 + w2 x2 + b1,  N1 = sigmoid(z1)      z2 = w3 x1 + w4 x2 + b2,  N2 = sigmoid(z2)
#   a = w5 N1 + w6 N2 + b3,   yhat = sigmoid(a)     L = -(1/2) sum_i (y_i log yhat_i + (1 - y_i) log(1 - yhat_i))
#
# Weights and inputs are round binary fractions, so every z is exact in float64 and the only
# roundings are in the sigmoid, the logs and what follows them.
HAND = {"w1": 0.25, "w2": -0.5, "w3": 0.75, "w4": 0.5, "w5": 1.0, "w6": -1.0, "b1": 0.5, "b2": -0.25, "b3": 0.25}
HAND_X = np.array([[1.0, 0.5], [-0.5, 1.0]])
HAND_Y = np.array([1.0, 0.0])
HAND_LR = 0.5


@mpmath.workdps(50)
def worked_by_hand(absolute: bool = False) -> dict:
    """The student's worksheet at 50 digits: every quantity of one epoch, each written out.

    With `absolute`, each entry is instead the size its float64 computation is made of: the
    magnitudes of what enters it, with each earlier quantity's size in place of its value (a
    sigmoid passes an error in its argument on with slope <= 1/4 and is at most 1, so its size is
    1 plus its argument's). Every quantity is at most CHAIN roundings from the data, each a
    relative error of U of such magnitudes, so float64 lands within CHAIN U of its size.
    """
    sig = lambda t: 1 / (1 + mpmath.exp(-t))  # noqa: E731
    w = {name: mpmath.mpf(value) for name, value in HAND.items()}
    n, sheet = len(HAND_X), {}
    dL_da, dL_dz1, dL_dz2, N1s, N2s, loss_total = [], [], [], [], [], mpmath.mpf(0)
    for (x1, x2), y in zip(HAND_X.tolist(), HAND_Y.tolist()):
        # Row 1: z1 = 0.25 - 0.25 + 0.5 = 0.5, z2 = 0.75 + 0.25 - 0.25 = 0.75.
        # Row 2: z1 = -0.125 - 0.5 + 0.5 = -0.125, z2 = -0.375 + 0.5 - 0.25 = -0.125.
        z1, z2 = w["w1"] * x1 + w["w2"] * x2 + w["b1"], w["w3"] * x1 + w["w4"] * x2 + w["b2"]
        N1, N2 = sig(z1), sig(z2)
        a = w["w5"] * N1 + w["w6"] * N2 + w["b3"]
        yhat = sig(a)
        # The loss term and the chain rule as the student writes it, no cancellation:
        # dL/dyhat = -(1/n) (y / yhat - (1 - y) / (1 - yhat)), dyhat/da = yhat (1 - yhat).
        term = -(y * mpmath.log(yhat) + (1 - y) * mpmath.log(1 - yhat))
        d_a = -(y / yhat - (1 - y) / (1 - yhat)) / n * (yhat * (1 - yhat))
        d_z1, d_z2 = d_a * w["w5"] * N1 * (1 - N1), d_a * w["w6"] * N2 * (1 - N2)
        if absolute:
            z1 = abs(w["w1"] * x1) + abs(w["w2"] * x2) + abs(w["b1"])
            z2 = abs(w["w3"] * x1) + abs(w["w4"] * x2) + abs(w["b2"])
            N1, N2 = 1 + z1, 1 + z2
            a = abs(w["w5"]) * N1 + abs(w["w6"]) * N2 + abs(w["b3"])
            yhat = 1 + a
            term = abs(term) + 2 * a  # log(1 + exp(a)) - y a: each piece at most |a| + log 2, and a's error passes on
            d_a = (abs(d_a) * n + yhat) / n  # (yhat - y) / n, yhat's own rounding included
            d_z1, d_z2 = d_a * abs(w["w5"]) * N1 * (1 + N1), d_a * abs(w["w6"]) * N2 * (1 + N2)
            x1, x2 = abs(x1), abs(x2)
        sheet.setdefault("z", []).append((z1, z2))
        sheet.setdefault("N", []).append((N1, N2))
        sheet.setdefault("a", []).append(a)
        sheet.setdefault("yhat", []).append(yhat)
        loss_total += term
        dL_da.append(d_a)
        dL_dz1.append((d_z1, x1, x2))
        dL_dz2.append((d_z2, x1, x2))
        N1s.append(N1)
        N2s.append(N2)
    sheet["loss"] = loss_total / n
    sheet["dL_da"] = dL_da
    sheet["gradients"] = {
        "w1": sum(d * x1 for d, x1, _ in dL_dz1), "w2": sum(d * x2 for d, _, x2 in dL_dz1),
        "w3": sum(d * x1 for d, x1, _ in dL_dz2), "w4": sum(d * x2 for d, _, x2 in dL_dz2),
        "w5": sum(d * N for d, N in zip(dL_da, N1s)), "w6": sum(d * N for d, N in zip(dL_da, N2s)),
        "b1": sum(d for d, _, _ in dL_dz1), "b2": sum(d for d, _, _ in dL_dz2), "b3": sum(dL_da),
    }  # fmt: skip
    return sheet


# The longest chain of roundings from the data to a quantity: z (3 terms), the sigmoid (tanh,
# within 2 ulp, and two more), a (3), the sigmoid again (4), yhat - y and 1/n (2), the slope
# N (1 - N) and its products (4), the products with x or N and the sum over 2 rows (3), and the
# update's product and difference (2): 3 + 4 + 3 + 4 + 2 + 4 + 3 + 2 = 25, rounded up.
CHAIN = 30


def hand_parameters() -> Parameters:
    return Parameters.from_dict(HAND, 2, 2, "sigmoid", output_activation="sigmoid")


def test_the_worked_example_s_forward_pass_loss_and_gradients():
    sheet, size = worked_by_hand(), worked_by_hand(absolute=True)
    # The z's are exact (binary fractions): the worksheet's and network.py's alike.
    assert [[float(z) for z in row] for row in sheet["z"]] == [[0.5, 0.75], [-0.125, -0.125]]
    fwd = forward(hand_parameters(), HAND_X)
    assert fwd.Z.T.tolist() == [[0.5, 0.75], [-0.125, -0.125]]
    for i in range(2):
        for h in range(2):
            assert abs(fwd.N[h, i] - sheet["N"][i][h]) <= CHAIN * U * size["N"][i][h]
        assert abs(fwd.A[0, i] - sheet["a"][i]) <= CHAIN * U * size["a"][i]
        assert abs(fwd.Yhat[0, i] - sheet["yhat"][i]) <= CHAIN * U * size["yhat"][i]
    assert abs(loss(HAND_Y, fwd, "bce") - sheet["loss"]) <= CHAIN * U * size["loss"]
    back = backward(hand_parameters(), HAND_X, HAND_Y, fwd, "bce")
    for i in range(2):
        assert abs(back.dL_dA[0, i] - sheet["dL_da"][i]) <= CHAIN * U * size["dL_da"][i]
    computed = back.gradients.as_dict()
    for name, exact in sheet["gradients"].items():
        assert abs(computed[name] - exact) <= CHAIN * U * size["gradients"][name], name
    # The check has teeth: the tolerances are below a millionth of the gradients.
    assert max(CHAIN * U * size["gradients"][name] for name in HAND) < 1e-6 * min(abs(g) for g in sheet["gradients"].values())
    # At 50 digits L = 0.713554354596911634..., yhat = (0.548170291543742614..., 0.562176500885798104...),
    # and the chain through yhat gives what the cancellation says: dL/db3 = (yhat1 - 1 + yhat2) / 2.
    with mpmath.workdps(50):
        assert abs(sheet["gradients"]["b3"] - (sheet["yhat"][0] - 1 + sheet["yhat"][1]) / 2) < 1e-45


def test_the_worked_example_s_update_by_network_py_and_by_training():
    """w <- w - 0.5 dL/dw: network.update, and one epoch of training.fit_rows (bce, gd, lr 0.5)
    whose recorded loss is the first epoch's and whose weights are the updated ones."""
    sheet, size = worked_by_hand(), worked_by_hand(absolute=True)
    expected = {name: HAND[name] - HAND_LR * sheet["gradients"][name] for name in HAND}
    tolerance = {name: CHAIN * U * (HAND_LR * size["gradients"][name] + abs(HAND[name])) for name in HAND}
    params = hand_parameters()
    fwd = forward(params, HAND_X)
    stepped = update(params, backward(params, HAND_X, HAND_Y, fwd, "bce").gradients, HAND_LR).as_dict()
    plan = TrainingPlan(epochs=1, lr=HAND_LR, tol=0, standardize=False, loss="bce")
    result = fit_rows(prepare(HAND_X, HAND_Y, plan), params, plan).result
    trained = result.final.as_dict()
    for name in HAND:
        assert abs(stepped[name] - expected[name]) <= tolerance[name], name
        assert abs(trained[name] - expected[name]) <= tolerance[name], name
    assert abs(result.losses[0] - sheet["loss"]) <= CHAIN * U * size["loss"]


# --- network.py's backward pass against the oracle's chain rule and central differences -------

BACKWARD_SHAPES = [(loss_name, activation, H, bias) for loss_name in ("bce", "cross-entropy")
                   for activation, H, bias in (("identity", 2, True), ("tanh", 3, True), ("relu", 4, False), ("sigmoid", 1, True))]


@pytest.mark.parametrize("loss_name, activation, H, bias", BACKWARD_SHAPES)
def test_network_py_s_gradients_are_the_oracle_s_chain_rule_and_central_differences(loss_name, activation, H, bias):
    """network.backward's gradients (the cancellation dL/da = (yhat - y)/n) against the oracle's
    chain through yhat, within 4 (n + 10) U of the terms' magnitudes (test_engines.oracle_values),
    and against the oracle's central differences within their error bound; the loss within both
    computations' rounding (oracle.loss_rounding, twice)."""
    m = 1 if loss_name == "bce" else 4
    rng = np.random.default_rng([H, m])
    X = rng.normal(size=(7, 3))
    labels = np.arange(7) % max(m, 2)
    Y = labels.astype(float) if m == 1 else np.eye(m)[labels]
    params = init_parameters(rng, 3, H, activation, n_outputs=m, output_activation=LINK[loss_name], bias=bias)
    params = params.like(2.0 * rng.normal(size=params.vector.size))
    shape, p = oracle.Shape(3, H, m, activation, LINK[loss_name], bias), params.as_dict()
    if activation == "relu":
        assert np.abs(oracle.forward(p, X, shape).Z).min() > 1e-3  # clear of the kink
    fwd = forward(params, X)
    rounding = oracle.loss_rounding(p, X, Y, shape, loss_name)
    assert abs(loss(Y, fwd, loss_name) - oracle.loss(p, X, Y, shape, loss_name)) <= 2 * rounding
    computed = backward(params, X, Y, fwd, loss_name).gradients.as_dict()
    chain = oracle.gradients(p, X, Y, shape, loss_name)
    size = oracle.gradients(p, X, Y, shape, loss_name, absolute=True)
    numeric, bound = oracle.central_differences(p, X, Y, shape, loss_name)
    for name in params.names:
        assert abs(computed[name] - chain[name]) <= 4 * (len(X) + 10) * U * size[name], name
        assert abs(computed[name] - numeric[name]) <= bound[name] + 4 * (len(X) + 10) * U * size[name], name
        assert bound[name] < 1e-6 * max(1.0, abs(chain[name]))  # the check has teeth


# --- whole training runs against the oracle, across the regressor's options --------------------
#
# Each run is a few epochs of training.fit_rows from drawn weights; the oracle repeats it in plain
# Python (its own forward pass, log loss and chain rule through yhat, update rules as their papers
# write them, split, z-scores and early stopping from their documented rules).
#
# The tolerance follows the arithmetic. At each update the two computations' gradients differ by
# at most 4 (rows + 10) U times the sum of the gradient's terms' magnitudes (oracle.gradients
# absolute=True; test_engines.oracle_values derives it), and the updates' own arithmetic by a few
# U of the weights and the step: the weights take in at most lr (that) / (1 - mu) with momentum
# (a velocity's error is added to the weights again mu + mu^2 + ... times), and with adam its step's
# sensitivity to g, at most 2 lr / (sqrt(shat) + eps) per unit of g. Later updates carry an error
# in the weights on, amplified by at most `growth`: the oracle's run again from weights one unit
# in the last place away, its largest departure over the run in units of that nudge. So the
# weights after update s differ by at most growth times the sum of the injected errors so far,
# and an epoch's loss, taken before its updates, by the loss's slope times that plus both
# computations' rounding of the loss (oracle.loss_rounding, twice).

def classification_rows(loss_name: str, n: int, k: int, seed: int, offset: float = 0.0, spread: float = 1.0):
    """n rows of k features (mean `offset`, scale `spread`) and their classes as the network's
    targets: 0/1 for bce, one-hot over 3 classes for cross-entropy; classes follow the features
    with noise, so that training moves the weights; cross-entropy's classes are the score's thirds."""
    rng = np.random.default_rng([seed, n, k])
    X = rng.normal(size=(n, k))
    score = X @ np.linspace(1.0, -0.5, k) + 0.7 * rng.normal(size=n)
    if loss_name == "bce":
        Y = (score > 0).astype(float)
    else:
        Y = np.eye(3)[np.digitize(score, np.quantile(score, [1 / 3, 2 / 3]))]  # every class present
    return offset + spread * X, Y


class OracleRun:
    """One run of the oracle: `weights[e]` the weights after epoch e's updates (weights[0] the
    initial), `losses[e]` epoch e + 1's loss before its updates, `val_losses` likewise on the held
    rows; `injected[s]` the largest error update s can add to the weights (module comment),
    `slopes[e]` the sum of epoch e + 1's loss's gradient magnitudes and `roundings[e]` its
    rounding bound (val_slopes and val_roundings the validation loss's)."""

    def __init__(self, p: dict, X, Y, shape: oracle.Shape, plan: TrainingPlan, epochs: int, val=None):
        rule = oracle.Update(plan.optimizer, plan.lr, mu=plan.momentum, beta1=plan.beta1, beta2=plan.beta2,
                             eps=plan.epsilon, frozen=frozenset(plan.freeze))
        n = len(X)
        self.weights, self.losses, self.injected, self.slopes, self.roundings = [p], [], [], [], []
        self.val_losses, self.val_slopes, self.val_roundings = [], [], []
        for epoch in range(1, epochs + 1):
            if val is not None:
                self.val_losses.append(oracle.loss(p, *val, shape, plan.loss))
                self.val_slopes.append(sum(oracle.gradients(p, *val, shape, plan.loss, absolute=True).values()))
                self.val_roundings.append(oracle.loss_rounding(p, *val, shape, plan.loss))
            if plan.batch_size is None:
                batches = [np.arange(n)]
            else:
                order = np.random.default_rng([1, plan.seed, epoch]).permutation(n) if plan.shuffle else np.arange(n)
                batches = [order[i : i + plan.batch_size] for i in range(0, n, plan.batch_size)]
            total, slope, rounding = 0.0, 0.0, 0.0
            for rows in batches:
                share = len(rows) / n  # a mean's d(b) / d(n)
                total += share * oracle.loss(p, X[rows], Y[rows], shape, plan.loss)
                rounding += share * oracle.loss_rounding(p, X[rows], Y[rows], shape, plan.loss)
                g = oracle.gradients(p, X[rows], Y[rows], shape, plan.loss)
                size = oracle.gradients(p, X[rows], Y[rows], shape, plan.loss, absolute=True)
                slope += share * sum(size.values())
                dg = {name: 4 * (len(rows) + 10) * U * size[name] for name in shape.names}
                new = rule.step(p, g)
                self.injected.append(max(self._sensitivity(rule, name) * dg[name]
                                         + 4 * U * (abs(new[name]) + abs(new[name] - p[name]))
                                         for name in shape.names if name not in rule.frozen))
                p = new
            self.losses.append(total)
            self.slopes.append(slope)
            self.roundings.append(rounding)
            self.weights.append(p)

    @staticmethod
    def _sensitivity(rule: oracle.Update, name: str) -> float:
        """How far one unit of error in g moves the weights, over the updates to come (module comment)."""
        if rule.rule == "adam":
            return 2 * rule.eta / (math.sqrt(rule.s[name] / (1 - rule.beta2**rule.t)) + rule.eps)
        if rule.rule in ("momentum", "nesterov"):
            return rule.eta / (1 - rule.mu)
        return rule.eta

    def vectors(self, names) -> np.ndarray:
        return np.array([[w[name] for name in names] for w in self.weights])


def growth(p: dict, X, Y, shape, plan, epochs: int, val=None) -> float:
    """How much the oracle's run amplifies a rounding of its weights (module comment): at least 1."""
    signs = np.where(np.random.default_rng(0).random(len(p)) < 0.5, -np.inf, np.inf)
    nudged = {name: float(np.nextafter(value, sign)) for (name, value), sign in zip(p.items(), signs)}
    nudge = max(abs(nudged[name] - p[name]) for name in p)
    names = list(p)
    base = OracleRun(p, X, Y, shape, plan, epochs, val).vectors(names)
    again = OracleRun(nudged, X, Y, shape, plan, epochs, val).vectors(names)
    return max(1.0, float(np.abs(again - base).max() / nudge))


def split_rows(n: int, plan: TrainingPlan):
    """(held, kept) by the documented rule: round(val_split n) rows held, the first of a seeded
    permutation (numpy's default_rng([2, seed])), each side in the data's order."""
    held = round(plan.val_split * n)
    order = np.random.default_rng([2, plan.seed]).permutation(n)
    return np.sort(order[:held]), np.sort(order[held:])


TRAJECTORY_OPTIONS = {  # each option of the regressor, from a base of 3 tanh units, full batches, gd
    "tanh": {},
    "identity": dict(activation="identity"),
    "relu": dict(activation="relu"),
    "sigmoid": dict(activation="sigmoid"),
    "one unit": dict(H=1),
    "six units": dict(H=6),
    "batches shuffled": dict(batch_size=5),
    "batches in file order": dict(batch_size=5, shuffle=False),
    "momentum": dict(optimizer="momentum", momentum=0.8),
    "nesterov": dict(optimizer="nesterov", momentum=0.8),
    "adam": dict(optimizer="adam", lr=0.05),
    "adam, batches": dict(optimizer="adam", lr=0.05, batch_size=6),
    "frozen w1 and b1": dict(freeze=("w1", "b1")),
    "no biases": dict(bias=False),
    "standardized": dict(standardize=True),
    # keeps epoch 8's weights (bce) or 6's, and stops 2 epochs later
    "early stopping": dict(val_split=0.25, patience=2, min_delta=0.02, epochs=12, seed=1),
}
SHAPE_OPTIONS = ("H", "activation", "bias")


def case(loss_name: str, option: str):
    """The rows, initial weights, plan and oracle shape of a trajectory case: TRAJECTORY_OPTIONS's
    option on a base of 3 tanh units, 6 epochs of gd at lr 1, 16 rows of 2 features (of mean 3 and
    scale 5 where standardised); the plan's seed draws the initial weights (as run.initial_weights
    does), the shuffles and the split."""
    settings = TRAJECTORY_OPTIONS[option]
    network = {"H": 3, "activation": "tanh", "bias": True} | {key: settings[key] for key in SHAPE_OPTIONS if key in settings}
    plan = TrainingPlan(**{"epochs": 6, "lr": 1.0, "tol": 0, "standardize": False, "loss": loss_name, "seed": len(option)}
                        | {key: value for key, value in settings.items() if key not in SHAPE_OPTIONS})
    m = 1 if loss_name == "bce" else 3
    X, Y = classification_rows(loss_name, 16, 2, seed=plan.seed, **(dict(offset=3.0, spread=5.0) if plan.standardize else {}))
    initial = init_parameters(np.random.default_rng(plan.seed), 2, network["H"], network["activation"], n_outputs=m,
                              output_activation=LINK[loss_name], bias=network["bias"])
    return X, Y, initial, plan, oracle.Shape(2, network["H"], m, network["activation"], LINK[loss_name], network["bias"])


def assert_follows_the_oracle(X, Y, initial, plan, shape, losses, val_losses, final, best_epoch) -> tuple[dict, float, np.ndarray]:
    """A run's losses (and validation losses), final weights and best epoch (early stopping's)
    against the oracle's run of the same plan from `initial` on rows X, Y (module comment).
    Returns the oracle's final weights, their tolerance, and the rows they apply to (z-scores
    where standardised) for further checks."""
    train_X, train_Y, val = X, Y, None
    if plan.val_split:
        held, kept = split_rows(len(X), plan)
        train_X, train_Y, val = X[kept], Y[kept], (X[held], Y[held])
    mean, std = (train_X.mean(axis=0), train_X.std(axis=0)) if plan.standardize else (0.0, 1.0)
    train_X = (train_X - mean) / std
    val = None if val is None else ((val[0] - mean) / std, val[1])
    p, names = initial.as_dict(), list(initial.names)
    run = OracleRun(p, train_X, train_Y, shape, plan, plan.epochs, val)
    if shape.hidden == "relu":  # clear of the kink all run, where the two could take different sides
        assert min(np.abs(oracle.forward(w, train_X, shape).Z).min() for w in run.weights) > 1e-6
    amplification = growth(p, train_X, train_Y, shape, plan, plan.epochs, val)
    steps_per_epoch = len(run.injected) // plan.epochs
    weight_tolerance = [amplification * sum(run.injected[: e * steps_per_epoch]) for e in range(plan.epochs + 1)]

    epochs, kept_epoch = plan.epochs, plan.epochs
    if plan.patience is not None:  # the documented rule: a best while the monitored loss improves by more than min_delta
        best, waited = None, 0
        for epoch, monitored in enumerate(run.val_losses, start=1):
            if best is None or monitored < best - plan.min_delta:
                assert best is None or abs(monitored - (best - plan.min_delta)) > 1e-4
                best, kept_epoch, waited = monitored, epoch - 1, 0  # the weights the epoch started from
                continue
            assert abs(monitored - (best - plan.min_delta)) > 1e-4  # a decision rounding cannot flip
            waited += 1
            if waited >= plan.patience:
                epochs = epoch
                break
        assert epochs < plan.epochs, "the run stops early"
        assert best_epoch == kept_epoch + 1
    if val is not None:  # taken at each epoch's starting weights
        val_tolerance = [weight_tolerance[e] * run.val_slopes[e] + 2 * run.val_roundings[e] for e in range(epochs)]
        assert np.all(np.abs(np.asarray(val_losses) - run.val_losses[:epochs]) <= val_tolerance)
    expected = run.weights[kept_epoch]
    for name in plan.freeze:
        assert final[name] == p[name]
    assert all(abs(final[name] - expected[name]) <= weight_tolerance[kept_epoch] for name in names)
    assert len(losses) == epochs
    # an epoch's batches are taken at weights up to the epoch's last update's: the tolerance after it
    loss_tolerance = [weight_tolerance[e + 1] * run.slopes[e] + 2 * run.roundings[e] for e in range(epochs)]
    assert np.all(np.abs(np.asarray(losses) - run.losses[:epochs]) <= loss_tolerance)
    # The check has teeth: the runs move the weights far more than the tolerance.
    moved = max(abs(run.weights[epochs][name] - p[name]) for name in names)
    assert weight_tolerance[epochs] < 1e-9 * moved
    return expected, weight_tolerance[kept_epoch], (X - mean) / std


@pytest.mark.parametrize("option", list(TRAJECTORY_OPTIONS))
@pytest.mark.parametrize("loss_name", ["bce", "cross-entropy"])
def test_training_follows_the_oracle_s_trajectory(loss_name, option):
    """training.fit_rows, the run every door takes, with warnings as errors."""
    X, Y, initial, plan, shape = case(loss_name, option)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = fit_rows(prepare(X, Y, plan), initial, plan).result
    assert_follows_the_oracle(X, Y, initial, plan, shape, result.losses, result.val_losses, result.final.as_dict(),
                              result.best_epoch)


ESTIMATOR_OPTIONS = slow_after(4, ["tanh", "standardized", "early stopping", "adam, batches", "relu", "no biases",
                                   "frozen w1 and b1", "nesterov", "batches in file order", "six units"])


@pytest.mark.parametrize("option", ESTIMATOR_OPTIONS)
@pytest.mark.parametrize("loss_name", ["bce", "cross-entropy"])
def test_the_classifier_estimator_follows_the_oracle_s_trajectory_and_probabilities(loss_name, option):
    """FwdbackClassifier on string labels named out of their sorted order: its loss_curve_,
    validation_loss_curve_ and params_ are the oracle's run on the labels' sorted classes, and
    predict_proba the oracle's probabilities at its final weights, within the weights' tolerance
    carried through the logits: logit o moves by at most sum_h |N_h| + 1 + sum_h |w_oh| (sum_j |x_j|
    + 1) times the largest weight's error (every activation's slope is at most 1), a probability by
    at most the largest logit's move (sigmoid' <= 1/4; sum_l |dyhat_o/da_l| = 2 yhat_o (1 - yhat_o)
    <= 1/2), so by at most the sum of the outputs' reaches times it, plus a few roundings."""
    X, Y, initial, plan, shape = case(loss_name, option)
    names = np.array(["zebra", "ant", "moth"])  # sorted: ant, moth, zebra
    sorted_names = np.sort(names[: shape.m if shape.m > 1 else 2])
    labels = sorted_names[Y.astype(int) if Y.ndim == 1 else Y.argmax(axis=1)]
    settings = {name: getattr(plan, name) for name in ("epochs", "lr", "tol", "standardize", "loss", "batch_size", "val_split",
                                                       "patience", "min_delta", "shuffle", "freeze", "optimizer", "momentum")}
    estimator = FwdbackClassifier(hidden=shape.H, activation=shape.hidden, bias=shape.bias, random_state=plan.seed, **settings)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        estimator.fit(X, labels)
        probabilities = estimator.predict_proba(X)
    assert estimator.classes_.tolist() == sorted_names.tolist()
    assert estimator.params_.vector.tolist() != initial.vector.tolist()
    expected, tolerance, rows = assert_follows_the_oracle(
        X, Y, initial, plan, shape, estimator.loss_curve_, estimator.validation_loss_curve_, estimator.params_.as_dict(),
        estimator.best_epoch_)
    fwd = oracle.forward(expected, rows, dataclasses.replace(shape, out="identity"))
    reach = sum(np.abs(fwd.N).sum(axis=1) + 1 + sum(abs(expected[shape.output_weight(o, h)]) for h in range(shape.H))
                * (np.abs(rows).sum(axis=1) + 1) for o in range(shape.m))
    # the weights' tolerance, and each side's rounding of the z-scores and the logits (k + H + 10 of U)
    bound = (tolerance + 20 * U) * reach + 8 * U
    expected_probabilities = np.array(oracle.probabilities(expected, rows, shape, plan.loss))
    columns = probabilities[:, 1:] if shape.m == 1 else probabilities
    assert np.all(np.abs(columns - expected_probabilities) <= bound[:, None])
    if shape.m == 1:
        assert np.all(probabilities[:, 0] == 1.0 - probabilities[:, 1])


# --- rounding.LossRounding's bound of the log losses, against their exact value -----------------

MP_ACT = {"identity": lambda z: z, "tanh": mpmath.tanh, "relu": lambda z: max(z, 0), "sigmoid": lambda z: 1 / (1 + mpmath.exp(-z))}


@mpmath.workdps(60)
def exact_mean_log_loss(params: Parameters, X, Y, counts, loss_name: str):
    """The log loss of these float weights on the distinct rows X, Y, row i repeated counts[i]
    times, to 60 digits: log(1 + e^a) - y a, or log sum_o e^(a_o) - sum_o y_o a_o, exactly."""
    W, W_out, b, b_out = (layer.tolist() for layer in params.layers)
    total = mpmath.mpf(0)
    for x, y, count in zip(X.tolist(), np.asarray(Y).reshape(len(X), -1).tolist(), counts):
        N = [MP_ACT[params.activation](mpmath.fsum(mpmath.mpf(w) * v for w, v in zip(unit, x)) + bias) for unit, bias in zip(W, b)]
        A = [mpmath.fsum(mpmath.mpf(w) * h for w, h in zip(weights, N)) + bias for weights, bias in zip(W_out, b_out)]
        if loss_name == "bce":
            term = mpmath.log(1 + mpmath.exp(A[0])) - y[0] * A[0]
        else:
            term = mpmath.log(mpmath.fsum(mpmath.exp(a) for a in A)) - mpmath.fsum(t * a for t, a in zip(y, A))
        total += count * term
    return total / sum(counts)


def drawn(loss_name, k, H, m, activation, scale, rows, seed):
    rng = np.random.default_rng(seed)
    architecture = dict(n_outputs=m, output_activation=LINK[loss_name])
    params = init_parameters(rng, k, H, activation, **architecture)
    params = params.like(scale * rng.normal(size=params.vector.size))
    labels = rng.integers(0, max(m, 2), size=rows)
    return params, rng.normal(size=(rows, k)), labels.astype(float) if loss_name == "bce" else np.eye(m)[labels]


def saturated(loss_name, a):
    """A network whose logits are b3 = a (bce) or (a, 0, -a) (cross-entropy) for any row; its rows
    one on the right side (the class the largest logit picks) and one on the wrong."""
    if loss_name == "bce":
        return Parameters([0.0] * 6 + [a], 1, 2, "identity", output_activation="sigmoid"), np.zeros((2, 1)), np.array([1.0, 0.0])
    params = Parameters([0.0] * 10 + [a, 0.0, -a], 1, 2, "identity", n_outputs=3, output_activation="softmax")
    return params, np.zeros((2, 1)), np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


ROUNDING_CASES = {  # name -> (loss, params, distinct rows X, Y, each row's copies)
    **{f"{loss_name} {activation} weights x{scale:g}": (loss_name, *drawn(loss_name, 3, 4, m, activation, scale, 5, 7), [1] * 5)
       for loss_name, m in (("bce", 1), ("cross-entropy", 3)) for activation in ("identity", "tanh", "relu", "sigmoid")
       for scale in (0.5, 50.0)},
    **{f"{loss_name} logits +-{a:g}": (loss_name, *saturated(loss_name, a), [1, 1])
       for loss_name in ("bce", "cross-entropy") for a in (20.0, 40.0, 1000.0, 1e15)},
    "bce, 200,000 rows": ("bce", *drawn("bce", 2, 3, 1, "tanh", 1.0, 4, 8), [50_000] * 4),
    "cross-entropy, 200,000 rows": ("cross-entropy", *drawn("cross-entropy", 2, 3, 4, "sigmoid", 1.0, 4, 9), [50_000] * 4),
    "cross-entropy, 50 classes, 60,000 rows": ("cross-entropy", *drawn("cross-entropy", 2, 3, 50, "tanh", 0.3, 6, 10),
                                               [10_000] * 6),
    "bce, hidden weights that cancel": ("bce", Parameters([1e8, -1e8, 1.0, 1.0, 1.0, -1.0, 0.0, 0.0, 0.5], 2, 2, "tanh",
                                                          output_activation="sigmoid"),
                                       np.array([[1.0, 1.0 + 1e-9], [0.3, 0.3], [1e-5, 2e-5]]), np.array([1.0, 0.0, 1.0]),
                                       [1, 1, 1]),
    "cross-entropy, one huge row among small": ("cross-entropy", *drawn("cross-entropy", 2, 3, 3, "identity", 1.0, 3, 11)[:1],
                                                np.array([[1e6, -1e6], [1e-3, 1e-3], [0.1, 0.2]]), np.eye(3), [1, 10_000, 10_000]),
}


MANY_ROWS = ("bce, 200,000 rows", "cross-entropy, 200,000 rows", "cross-entropy, 50 classes, 60,000 rows")


@pytest.mark.parametrize("case_name", [pytest.param(name, marks=pytest.mark.slow) if name in MANY_ROWS else name
                                       for name in ROUNDING_CASES])
def test_the_log_loss_rounding_bound_holds_against_the_exact_loss(case_name):
    """network.loss on the rows (copies included) is within LossRounding.of of the exact loss, on
    huge and saturated logits, many rows, many classes, cancelling weights and rows of unequal
    sizes; and the bound is no wider than 1e-7 of the loss or the largest logit (times the
    largest weight's reach, max |w| max |x|, where weights cancel)."""
    loss_name, params, X, Y, counts = ROUNDING_CASES[case_name]
    rows, targets = np.repeat(X, counts, axis=0), np.repeat(Y, counts, axis=0)
    fwd = forward(params, rows)
    computed = loss(targets, fwd, loss_name)
    bound = LossRounding.of_rows(rows, targets, loss_name).of(params, computed)
    exact = exact_mean_log_loss(params, X, Y, counts, loss_name)
    assert abs(computed - exact) <= bound
    weights_reach = max(1.0, float(np.abs(params.vector).max()) * max(1.0, float(np.abs(rows).max())))
    assert bound <= 1e-7 * max(1.0, computed, float(np.abs(fwd.A).max())) * weights_reach
    assert LossRounding.of_rows(rows, targets, loss_name).zero(params) <= bound


# --- stability: logits of +-1000 -------------------------------------------------------------


@pytest.mark.parametrize("a", [1000.0, -1000.0])
@pytest.mark.parametrize("loss_name", ["bce", "cross-entropy"])
def test_logits_of_a_thousand_give_finite_losses_and_the_limits_gradients(loss_name, a):
    """A 1-1-m identity network, x = 1, w1 = 1, b1 = 0 (N = 1), output weights (a) for bce and
    (a, 0, -a) for cross-entropy, no output bias: the probabilities are exactly 0 and 1 in float64
    (e^-1000 underflows), so the loss is exactly |a| (bce) or 2 |a| (cross-entropy) on a row of the
    wrong class and 0 on the right one, and dL/da = (yhat - y) / n exactly: with two rows, one each,
    dL/dw_out = dL/db_out = (sum of yhat - y) / 2 and dL/dw1 = dL/db1 = sum_o w_o dL/da_o. No warning,
    no floating-point error (numpy's underflow to 0 aside, which is the limit)."""
    m = 1 if loss_name == "bce" else 3
    logits = [a] if m == 1 else [a, 0.0, -a]
    params = Parameters([1.0, *logits, 0.0, *[0.0] * m], 1, 1, "identity", n_outputs=m, output_activation=LINK[loss_name])
    X = np.ones((2, 1))
    if m == 1:
        right, wrong = (1.0, 0.0) if a > 0 else (0.0, 1.0)
        Y, yhat = np.array([right, wrong]), np.array([[right]])
        wrong_loss = abs(a)
    else:
        right, wrong = ([1.0, 0.0, 0.0], [0.0, 0.0, 1.0]) if a > 0 else ([0.0, 0.0, 1.0], [1.0, 0.0, 0.0])
        Y, yhat = np.array([right, wrong]), np.array([right])
        wrong_loss = 2 * abs(a)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        fwd = forward(params, X)
        assert fwd.Yhat.T.tolist() == [yhat[0].tolist()] * 2
        assert loss(Y, fwd, loss_name) == wrong_loss / 2
        grads = backward(params, X, Y, fwd, loss_name).gradients.as_dict()
        dL_da = (np.vstack([yhat, yhat]) - Y.reshape(2, m)).sum(axis=0) / 2
        outputs = [f"w{o + 2}" for o in range(m)]
        assert [grads[name] for name in outputs] == dL_da.tolist()
        assert [grads[f"b{o + 2}"] for o in range(m)] == dL_da.tolist()
        assert grads["w1"] == grads["b1"] == float(np.dot(logits, dL_da))
        plan = TrainingPlan(epochs=3, lr=1e-4, tol=0, standardize=False, loss=loss_name)
        result = fit_rows(prepare(X, Y, plan), params, plan).result
    assert np.all(np.isfinite(result.losses)) and result.losses[0] == wrong_loss / 2


@pytest.mark.slow
@pytest.mark.parametrize("batch_size", [None, 3000])
@pytest.mark.parametrize("loss_name", ["bce", "cross-entropy"])
def test_a_classifier_above_the_fast_paths_thresholds_trains_as_the_oracle(loss_name, batch_size):
    """22,000 rows of a linear hidden layer (the Gram engine's kind from GRAM_MIN_ROWS rows, the
    blocked literal engine's from LECTURE_ROWS, the fast mini-batch steps'), 10,000 of them held
    out: a classifier's output takes network.py's passes all the same, and follows the oracle."""
    X, Y = classification_rows(loss_name, 22_000, 2, seed=3)
    m = 1 if loss_name == "bce" else 3
    plan = TrainingPlan(epochs=2, lr=1.0, tol=0, standardize=False, loss=loss_name, val_split=10 / 22,
                        batch_size=batch_size, seed=3)
    initial = init_parameters(np.random.default_rng(3), 2, 2, "identity", n_outputs=m, output_activation=LINK[loss_name])
    result = fit_rows(prepare(X, Y, plan), initial, plan).result
    assert result.engine in ("network", "mini-batch")
    assert_follows_the_oracle(X, Y, initial, plan, oracle.Shape(2, 2, m, "identity", LINK[loss_name]), result.losses,
                              result.val_losses, result.final.as_dict(), result.best_epoch)
