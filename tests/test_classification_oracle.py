"""The classifier's losses against independent references: a 2-2-1 sigmoid network worked by hand
at 50 digits, and the oracle (tests/oracle.py's plain-Python classifier, which test_oracle.py
checks against its definitions) for whole training runs across the regressor's options.

PyTorch (BCEWithLogitsLoss, CrossEntropyLoss) is not among the test extras: the references here
are the worked example and the oracle's plain-Python loop.
"""

import math
import warnings

import mpmath
import numpy as np
import pytest

import oracle
from fwdback.network import Parameters, backward, forward, loss, update
from fwdback.plan import TrainingPlan
from fwdback.training import fit_rows, prepare

U = oracle.U

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
