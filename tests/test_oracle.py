"""The oracle (tests/oracle.py) against numbers worked by hand: the lecture's network of
lecture-notes.txt for one epoch on two rows, each other convention's factor, each update rule's
first steps, and its chain rule against its own central differences."""

import math
import warnings

import numpy as np
import pytest

from oracle import (DIVISORS, LOG_LOSSES, U, Shape, Update, central_differences, forward, gradients, loss, loss_rounding,
                    minibatch_epoch, probabilities)

# The lecture's network on two rows, worked by hand (as in lecture-notes.txt: N1 = w1 x1 + w2 x2
# + w3 x3 + b1, N2 = w4 x1 + w5 x2 + w6 x3 + b2, yhat = w7 N1 + w8 N2 + b3, L = (1/n) sum (y - yhat)^2).
X = np.array([[1.0, 2.0, 3.0], [2.0, 0.0, -1.0]])
Y = np.array([1.0, 2.0])
W = {"w1": 0.5, "w2": -1.0, "w3": 0.0, "w4": 1.0, "w5": 0.5, "w6": -0.5, "w7": 2.0, "w8": -1.0,
     "b1": 0.5, "b2": 0.0, "b3": 0.5}  # fmt: skip
# Row 1: N1 = 0.5 - 2 + 0 + 0.5 = -1, N2 = 1 + 1 - 1.5 = 0.5, yhat = -2 - 0.5 + 0.5 = -2.
# Row 2: N1 = 1 + 0 + 0 + 0.5 = 1.5, N2 = 2 + 0 + 0.5 = 2.5, yhat = 3 - 2.5 + 0.5 = 1.
# L = ((1 + 2)^2 + (2 - 1)^2) / 2 = 5; dL/dyhat = -(2/2)(y - yhat) = (-3, -1);
# dL/dN1 = dL/dyhat w7 = (-6, -2), dL/dN2 = dL/dyhat w8 = (3, 1).
HAND_GRADIENTS = {
    "w1": -6 * 1 + -2 * 2, "w2": -6 * 2 + -2 * 0, "w3": -6 * 3 + -2 * -1,
    "w4": 3 * 1 + 1 * 2, "w5": 3 * 2 + 1 * 0, "w6": 3 * 3 + 1 * -1,
    "w7": -3 * -1 + -1 * 1.5, "w8": -3 * 0.5 + -1 * 2.5,
    "b1": -6 + -2, "b2": 3 + 1, "b3": -3 + -1,
}  # fmt: skip


def test_the_lecture_s_epoch_by_hand():
    fwd = forward(W, X)
    assert fwd.N.tolist() == [[-1.0, 0.5], [1.5, 2.5]]
    assert fwd.yhat.ravel().tolist() == [-2.0, 1.0]
    assert loss(W, X, Y) == 5.0
    assert gradients(W, X, Y) == HAND_GRADIENTS
    stepped = Update("gd", 0.05).step(W, HAND_GRADIENTS)
    assert stepped == {name: W[name] - 0.05 * HAND_GRADIENTS[name] for name in W}
    assert stepped["w1"] == 0.5 + 0.05 * 10 and stepped["b3"] == 0.5 + 0.05 * 4


@pytest.mark.parametrize("convention, factor", [("mse", 1 / 2), ("half-mse", 1 / 4), ("sse", 1), ("half-sse", 1 / 2)])
def test_each_loss_convention_divides_the_same_squares(convention, factor):
    """Sum of squares 10 on 2 rows: /n, /2n, /1, /2; the gradients scale alike (dL/db3 = -8 * factor)."""
    assert loss(W, X, Y, convention=convention) == 10 * factor
    assert gradients(W, X, Y, convention=convention)["b3"] == -8 * factor


def test_activations_by_hand():
    """One unit, one input: z = w1 x + b1; yhat = w2 N + b2. At z = 0: tanh 0, slope 1;
    sigmoid 1/2, slope 1/4; relu 0, slope 0 (0 is not > 0)."""
    shape = Shape(k=1, H=1)
    p = {"w1": 1.0, "w2": 1.0, "b1": 0.0, "b2": 0.0}
    for activation, N, slope in [("tanh", 0.0, 1.0), ("sigmoid", 0.5, 0.25), ("relu", 0.0, 0.0), ("identity", 0.0, 1.0)]:
        s = Shape(k=1, H=1, hidden=activation)
        assert forward(p, [[0.0]], s).N[0, 0] == N
        # y = 0 and w2 = 1, b2 = 0: dL/dyhat = 2 yhat = 2 N, so dL/db1 = 2 N * w2 * slope.
        assert gradients(p, [[0.0]], [0.0], s)["b1"] == 2 * N * slope
    assert shape.names == ["w1", "w2", "b1", "b2"]


def test_several_outputs_without_biases_are_named_and_computed_by_the_rule():
    """2-1-2, no biases: N = w1 x1 + w2 x2; yhat1 = w3 N, yhat2 = w4 N."""
    shape = Shape(k=2, H=1, m=2, bias=False)
    assert shape.names == ["w1", "w2", "w3", "w4"]
    p = {"w1": 1.0, "w2": 2.0, "w3": 3.0, "w4": -1.0}
    assert forward(p, [[1.0, 1.0]], shape).yhat.tolist() == [[9.0, -3.0]]
    # y = (10, -1): errors (1, 2), L = 5 (one row, mse over rows); dL/dw3 = -2 * 1 * N = -6, dL/dw4 = -2 * 2 * 3 = -12.
    g = gradients(p, [[1.0, 1.0]], [[10.0, -1.0]], shape)
    assert loss(p, [[1.0, 1.0]], [[10.0, -1.0]], shape) == 5.0
    assert (g["w3"], g["w4"]) == (-6.0, -12.0)
    assert g["w1"] == -2 * 1 * 3 + -2 * 2 * -1  # dL/dN = sum_o dL/dyhat_o w(o) = -6 + 4


def test_update_rules_by_hand():
    g = {"w": 2.0}
    momentum = Update("momentum", 0.1, mu=0.5)
    assert momentum.step({"w": 1.0}, g) == {"w": 1.0 - 0.2}  # v = -0.2
    assert momentum.step({"w": 0.8}, g)["w"] == pytest.approx(0.8 - 0.1 - 0.2)  # v = 0.5 * -0.2 - 0.2
    nesterov = Update("nesterov", 0.1, mu=0.5)
    assert nesterov.step({"w": 1.0}, g)["w"] == pytest.approx(1.0 + 0.5 * -0.2 - 0.2)
    adam = Update("adam", 0.1, eps=0.0)  # first step: mhat = g, shat = g^2, so eta * sign(g)
    assert adam.step({"w": 1.0}, g)["w"] == pytest.approx(0.9, rel=1e-15)
    frozen = Update("gd", 0.1, frozen=frozenset({"w"}))
    assert frozen.step({"w": 1.0}, g) == {"w": 1.0}


SHAPES = [Shape(), Shape(2, 3, 1, "tanh"), Shape(3, 2, 2, "sigmoid", "sigmoid"), Shape(2, 2, 1, "relu", bias=False),
          Shape(1, 2, 3, "identity", "tanh")]


@pytest.mark.parametrize("convention", [name for name in DIVISORS if name not in LOG_LOSSES])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_the_chain_rule_equals_central_differences(shape, convention):
    rng = np.random.default_rng(len(shape.names))
    X, Y = rng.normal(size=(6, shape.k)), rng.normal(size=(6, shape.m))
    p = dict(zip(shape.names, rng.normal(size=len(shape.names))))
    if shape.hidden == "relu":
        assert np.abs(forward(p, X, shape).Z).min() > 1e-3  # clear of the kink
    numeric, bound = central_differences(p, X, Y, shape, convention)
    analytic = gradients(p, X, Y, shape, convention)
    for name in shape.names:
        assert abs(analytic[name] - numeric[name]) <= bound[name], name
        assert bound[name] < 1e-6 * max(1.0, abs(analytic[name]))  # the check has teeth


def test_a_mini_batch_epoch_of_one_batch_is_one_full_batch_step():
    p, total, g = minibatch_epoch(W, X, Y, [np.arange(2)], Update("gd", 0.05))
    assert total == 5.0 and g == HAND_GRADIENTS
    assert p == Update("gd", 0.05).step(W, HAND_GRADIENTS)
    # Two batches of one row: the loss is their mean, each taken at its own weights.
    _, total, _ = minibatch_epoch(W, X, Y, [np.array([0]), np.array([1])], Update("gd", 0.0))
    assert math.isclose(total, (9 + 1) / 2)


def quadratic_gradient(w):
    """The gradient of an uneven quadratic, 0.5 sum c_i (w_i - 1)^2: each coordinate its own curvature."""
    return np.linspace(0.5, 3.0, len(w)) * (w - 1.0)


def oracle_steps(rule: Update, w0: np.ndarray, steps: int) -> np.ndarray:
    names = [f"p{i}" for i in range(len(w0))]
    w = dict(zip(names, w0))
    for _ in range(steps):
        w = rule.step(w, dict(zip(names, quadratic_gradient(np.array(list(w.values()))))))
    return np.array(list(w.values()))


W0 = np.linspace(-1.0, 1.0, 11)


def test_momentum_is_the_heavy_ball():
    w, v = W0.copy(), np.zeros(11)
    for _ in range(6):
        v = 0.8 * v - 0.1 * quadratic_gradient(w)
        w = w + v
    np.testing.assert_allclose(oracle_steps(Update("momentum", 0.1, mu=0.8), W0, 6), w, rtol=1e-15)


def test_nesterov_is_sutskever_s_look_ahead_written_at_the_current_weights():
    """Sutskever et al. 2013: v <- mu v - eta g(theta + mu v), theta <- theta + v. The oracle
    keeps w = theta + mu v, the look-ahead point, where the gradient is taken: the two agree there."""
    theta, v, mu, eta = W0.copy(), np.zeros(11), 0.7, 0.1
    for _ in range(5):
        v = mu * v - eta * quadratic_gradient(theta + mu * v)
        theta = theta + v
    np.testing.assert_allclose(oracle_steps(Update("nesterov", eta, mu=mu), W0, 5), theta + mu * v, rtol=1e-13)


def test_adam_is_kingma_and_ba_s_with_bias_correction():
    w, m, s = W0.copy(), np.zeros(11), np.zeros(11)
    b1, b2, eps, eta = 0.9, 0.999, 1e-8, 0.05
    for t in range(1, 8):
        g = quadratic_gradient(w)
        m = b1 * m + (1 - b1) * g
        s = b2 * s + (1 - b2) * g**2
        w = w - eta * (m / (1 - b1**t)) / (np.sqrt(s / (1 - b2**t)) + eps)
    np.testing.assert_allclose(oracle_steps(Update("adam", eta), W0, 7), w, rtol=1e-14)


# --- the classifier's losses: the oracle against its definitions at 40 digits and by hand ------

mpmath = pytest.importorskip("mpmath")
MP_ACTIVATIONS = {"identity": lambda z: z, "tanh": mpmath.tanh, "relu": lambda z: z if z > 0 else mpmath.mpf(0),
                  "sigmoid": lambda z: 1 / (1 + mpmath.exp(-z))}


def exact_log_loss(p: dict, X, Y, shape: Shape, loss_name: str):
    """L = -(1/n) sum_i sum_o y_io log yhat_io (bce: y log yhat + (1 - y) log(1 - yhat)) in mpmath at
    the caller's precision, from the definitions: the probabilities first, then their logs, as a
    textbook writes it. The weights and rows are taken as the exact values of their floats."""
    total = mpmath.mpf(0)
    for x, y in zip(np.asarray(X, float).tolist(), np.asarray(Y, float).reshape(len(X), -1).tolist()):
        N = [MP_ACTIVATIONS[shape.hidden](mpmath.fsum(mpmath.mpf(p[shape.hidden_weight(h, j)]) * x[j] for j in range(shape.k))
                                          + (mpmath.mpf(p[f"b{h + 1}"]) if shape.bias else 0)) for h in range(shape.H)]
        a = [mpmath.fsum(mpmath.mpf(p[shape.output_weight(o, h)]) * N[h] for h in range(shape.H))
             + (mpmath.mpf(p[f"b{shape.H + o + 1}"]) if shape.bias else 0) for o in range(shape.m)]
        if loss_name == "bce":
            yhat = 1 / (1 + mpmath.exp(-a[0]))
            total -= y[0] * mpmath.log(yhat) + (1 - y[0]) * mpmath.log(1 - yhat)
        else:
            exps = [mpmath.exp(value) for value in a]
            total -= mpmath.fsum(t * mpmath.log(e / mpmath.fsum(exps)) for t, e in zip(y, exps))
    return total / len(X)


def exact_log_loss_gradients(p: dict, X, Y, shape: Shape, loss_name: str) -> dict:
    """dL/d(name) of exact_log_loss by mpmath's numerical differentiation at 40 digits (its step
    and extrapolation leave far fewer than 1e-25 of error at these sizes)."""
    with mpmath.workdps(40):
        return {name: float(mpmath.diff(lambda t: exact_log_loss(dict(p, **{name: t}), X, Y, shape, loss_name),
                                        mpmath.mpf(p[name]))) for name in shape.names}


CLASSIFIER_SHAPES = [("bce", Shape(2, 2, 1, "tanh", "sigmoid")), ("bce", Shape(3, 3, 1, "relu", "sigmoid", bias=False)),
                     ("cross-entropy", Shape(2, 3, 3, "sigmoid", "softmax")),
                     ("cross-entropy", Shape(1, 2, 4, "identity", "softmax"))]


def classifier_case(loss_name: str, shape: Shape, seed: int, scale: float = 1.0):
    """Six rows of k features, their 0/1 or one-hot targets, and weights `scale` times normal draws."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(6, shape.k))
    classes = rng.integers(0, max(shape.m, 2), size=6)
    Y = classes.astype(float) if loss_name == "bce" else np.eye(shape.m)[classes]
    return X, Y, dict(zip(shape.names, scale * rng.normal(size=len(shape.names))))


@pytest.mark.parametrize("loss_name, shape", CLASSIFIER_SHAPES, ids=lambda v: str(v))
def test_the_classifier_s_loss_and_chain_rule_equal_their_definitions_at_40_digits(loss_name, shape):
    """The oracle's loss is within its loss_rounding of the definition's exact value; its gradients
    (the chain through yhat) within 4 (n + 10) U of their terms' magnitudes (gradients(absolute=True):
    each a sum of n products, a few roundings each, and a's own rounding through the link's slope)."""
    X, Y, p = classifier_case(loss_name, shape, seed=len(shape.names))
    if shape.hidden == "relu":
        assert np.abs(forward(p, X, shape).Z).min() > 1e-3  # clear of the kink, where mpmath.diff would straddle it
    with mpmath.workdps(40):
        exact = float(exact_log_loss(p, X, Y, shape, loss_name))
    assert abs(loss(p, X, Y, shape, loss_name) - exact) <= loss_rounding(p, X, Y, shape, loss_name)
    analytic = gradients(p, X, Y, shape, loss_name)
    size = gradients(p, X, Y, shape, loss_name, absolute=True)
    expected = exact_log_loss_gradients(p, X, Y, shape, loss_name)
    for name in shape.names:
        assert abs(analytic[name] - expected[name]) <= 4 * (len(X) + 10) * U * size[name], name
    numeric, bound = central_differences(p, X, Y, shape, loss_name)
    for name in shape.names:
        assert abs(analytic[name] - numeric[name]) <= bound[name], name
        assert bound[name] < 1e-6 * max(1.0, abs(analytic[name]))  # the check has teeth


def test_the_classifier_s_losses_by_hand():
    """Logits 0: sigmoid(0) = 1/2, so each row's bce is log 2 and dL/da = (1/2 - y)/n; equal logits
    over m classes: yhat_o = 1/m, each row's cross-entropy log m and dL/da_o = (1/m - y_o)/n.
    With a = log 3: sigmoid = 3/4, the bce of y = 1 is log(4/3), of y = 0 log 4."""
    zero = Shape(1, 1, 1, "identity", "sigmoid")
    p = {"w1": 0.0, "w2": 0.0, "b1": 0.0, "b2": 0.0}
    assert loss(p, [[1.0], [2.0]], [1.0, 0.0], zero, "bce") == math.log(2)
    assert gradients(p, [[1.0], [2.0]], [1.0, 0.0], zero, "bce")["b2"] == (-0.5 + 0.5) / 2
    assert gradients(p, [[1.0]], [1.0], zero, "bce")["b2"] == -0.5
    p3 = dict(p, b2=math.log(3))
    assert probabilities(p3, [[1.0]], zero, "bce")[0][0] == pytest.approx(0.75, rel=2 * U)
    assert loss(p3, [[1.0], [1.0]], [1.0, 0.0], zero, "bce") == pytest.approx((math.log(4 / 3) + math.log(4)) / 2, rel=8 * U)
    three = Shape(1, 1, 3, "identity", "softmax")
    q = dict.fromkeys(three.names, 0.0)
    assert loss(q, [[1.0]], [[0.0, 1.0, 0.0]], three, "cross-entropy") == pytest.approx(math.log(3), rel=4 * U)
    g = gradients(q, [[1.0]], [[0.0, 1.0, 0.0]], three, "cross-entropy")
    assert [g["b2"], g["b3"], g["b4"]] == pytest.approx([1 / 3, 1 / 3 - 1, 1 / 3], abs=4 * U)


@pytest.mark.parametrize("a", [1000.0, -1000.0, 40.0, -40.0, 745.0, -745.0])
def test_the_oracle_is_finite_at_huge_logits_and_takes_the_limits(a):
    """bce at logit a: softplus(-a) for y = 1, softplus(a) for y = 0: the loss is |a| on the wrong
    side (to within log(1 + e^-|a|) < 5e-18 |a|'s unit for |a| >= 40) and e^-|a| on the right, the
    gradient yhat - y: -1 or 1 on the wrong side, -+e^-|a| on the right. Cross-entropy of logits
    (a, 0, -a) alike: the loss is |a| + log(1 + e^-|a| + e^-2|a|) or its right-side limit, 0."""
    shape = Shape(1, 1, 1, "identity", "sigmoid")
    p = {"w1": 0.0, "w2": 0.0, "b1": 0.0, "b2": a}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        right, wrong = (1.0, 0.0) if a > 0 else (0.0, 1.0)
        assert loss(p, [[0.0]], [wrong], shape, "bce") == pytest.approx(abs(a), rel=U)
        assert loss(p, [[0.0]], [right], shape, "bce") == pytest.approx(math.exp(-abs(a)), rel=4 * U, abs=5e-324)
        assert gradients(p, [[0.0]], [wrong], shape, "bce")["b2"] == pytest.approx(right - wrong, rel=U)
        right_slope = math.copysign(math.exp(-abs(a)), -a)  # yhat - y on the right side
        assert gradients(p, [[0.0]], [right], shape, "bce")["b2"] == pytest.approx(right_slope, rel=8 * U, abs=5e-324)
        three = Shape(1, 1, 3, "identity", "softmax")
        q = {"w1": 0.0, "w2": 0.0, "w3": 0.0, "w4": 0.0, "b1": 0.0, "b2": a, "b3": 0.0, "b4": -a}
        last, first = [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]
        wrong_class, right_class = (last, first) if a > 0 else (first, last)
        assert loss(q, [[0.0]], [wrong_class], three, "cross-entropy") == pytest.approx(2 * abs(a), rel=U)
        assert loss(q, [[0.0]], [right_class], three, "cross-entropy") == pytest.approx(math.exp(-abs(a)), rel=4 * U, abs=5e-324)
        g = gradients(q, [[0.0]], [wrong_class], three, "cross-entropy")
        limit = np.array(right_class) - np.array(wrong_class)  # yhat -> the largest logit's class
        assert [g["b2"], g["b3"], g["b4"]] == pytest.approx(limit, abs=2 * math.exp(-abs(a)) + U)
