"""The activations: each one's function, its derivative beside it, how explain writes them and
what the fast engines compute, declared once (ACTIVATIONS); nothing else compares their names.

    identity  N = z                          dN/dz = 1                  (the lecture's)
    tanh      N = tanh(z)                    dN/dz = 1 - N^2
    relu      N = max(0, z)                  dN/dz = 1 if z > 0, else 0
    sigmoid   N = 1 / (1 + exp(-z))          dN/dz = N (1 - N)

Each derivative is written from z and N = act(z), shape (H, n) both, so the backward pass
reuses what the forward pass computed. numpy is imported inside the kernels, and the notation
inside the functions that write it, so that the command line lists the names without either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .notation import Expr, Raw


@dataclass(frozen=True)
class Activation:
    """One activation, z -> N, as the network, explain and the engines use it.

    function    act(Z) for Z of any shape; None for the identity, whose N is Z itself
    derivative  dN/dz from (Z, N), the same shape; None for the identity, where it is 1
    into        act(Z) written into `out` (the engines' work arrays, which may be Z itself): into(Z, out),
                network.py's values bit for bit
    slope_into  dN/dz from N written into `out` (which may be N itself): slope_into(N, out)
    of_negated  act(z) from -z, in place, for an engine that negates z in its product (exactly, by
                negating the weights), where that takes fewer passes than into: the sigmoid's
                definition 1 / (1 + exp(-z)) (exp costs half of tanh); None elsewhere. Within a few
                units in the last place of `function` (not bit for bit), and it silences exp's
                overflow, which costs a microsecond a call: for large blocks, not mini-batches
    plain, latex, mathml   act(argument) in each view, "{}" standing for the argument
    slope       dN/dz in notation, from N's and z's expressions: 1 - N1^2 for tanh
    defined_as  the function's definition, where its name does not say it (sigmoid's), in the three
                views (plain, LaTeX, MathML): `definition` in notation
    kink        N is z on one side of z = 0 and 0 on the other (relu), so dN/dz jumps there: explain
                says which side z is on, gradcheck holds each row's side (N = z [z > 0])
    roundings   the roundings act adds to z (rounding.py's bound of the loss's error)
    bounded     N is within [0, 1], not within |z| (the sigmoid: N = 1/2 at z = 0): rounding.py bounds
                its size by 1
    across_outputs  each output's value depends on every output's a (softmax), not on its own alone
    """

    name: str
    function: Callable | None
    derivative: Callable | None
    into: Callable | None
    slope_into: Callable | None
    plain: str
    latex: str
    mathml: str
    slope: Callable[[Expr, Expr], Expr]
    defined_as: tuple[str, str, str] | None = None
    of_negated: Callable | None = None
    kink: bool = False
    roundings: int = 0
    bounded: bool = False
    across_outputs: bool = False

    @property
    def identity(self) -> bool:
        """Whether N is z itself (no activation)."""
        return self.function is None

    def written(self, view: str, argument: str) -> str:
        """act(argument) in one view ("plain", "latex" or "mathml")."""
        return getattr(self, view).replace("{}", argument)

    @property
    def definition(self) -> Raw | None:
        """The function's definition in notation, where its name does not say it."""
        from .notation import Raw

        return None if self.defined_as is None else Raw(*self.defined_as)


def _tanh(Z):
    import numpy as np

    return np.tanh(Z)


def _tanh_into(Z, out):
    import numpy as np

    np.tanh(Z, out=out)


def _one_minus_square_into(N, out):
    import numpy as np

    np.multiply(N, N, out=out)
    np.subtract(1.0, out, out=out)


def _relu(Z):
    import numpy as np

    return np.maximum(Z, 0.0)


# From about this many elements on, numpy's maximum runs faster against a row of zeros than against
# 0.0, and greater's float64 result faster through a byte mask (16 x 1,024: 6.9 us against 8.2,
# 5.8 against 6.3; 16 x 5,698: 26 against 42, 27 against 32); below it, the extra array costs
# more than it saves (a mini-batch of 32 rows: 1.4 us against 0.9).
_ROW_LOOP_ELEMENTS = 16384


def _relu_into(Z, out):
    import numpy as np

    np.maximum(Z, np.zeros(Z.shape[-1]) if Z.size >= _ROW_LOOP_ELEMENTS else 0.0, out=out)


def _step(Z, N):
    import numpy as np

    return (Z > 0).astype(np.float64)


def _step_into(N, out):
    import numpy as np

    # 1 where N > 0, exactly where z > 0; 0 elsewhere (np.sign: ten times as long)
    if N.size >= _ROW_LOOP_ELEMENTS:
        np.copyto(out, np.greater(N, 0.0).view(np.uint8))
    else:
        np.greater(N, 0.0, out=out)


def _sigmoid(Z):
    import numpy as np

    return 0.5 * (1.0 + np.tanh(0.5 * Z))  # = 1 / (1 + exp(-z)), without overflow


def _softmax(A):
    import numpy as np

    shifted = np.exp(A - A.max(axis=0))  # exp(a_j - max_j a_j) <= 1: no overflow
    return shifted / shifted.sum(axis=0)


def _sigmoid_into(Z, out):
    import numpy as np

    np.multiply(Z, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5


def _sigmoid_of_negated(Z):
    import numpy as np

    with np.errstate(over="ignore"):  # exp(-z) = inf below z = -709.78: N = 1 / inf = 0, as it should
        np.exp(Z, out=Z)
    Z += 1.0
    np.divide(1.0, Z, out=Z)


def _sigmoid_slope_into(N, out):
    import numpy as np

    np.multiply(N, np.subtract(1.0, N), out=out)


def _unit_slope(N, z):
    from .notation import Num

    return Num(1)


def _tanh_slope(N, z):
    from .notation import Num, Square, Sub

    return Sub(Num(1), Square(N))


def _relu_slope(N, z):
    from .notation import Step

    return Step(z)


def _sigmoid_slope(N, z):
    from .notation import Num, Paren, Sub, mul

    return mul(N, Paren(Sub(Num(1), N)))


def _softmax_slope(N, z):
    from .notation import Raw

    return Raw("softmax'", r"\operatorname{softmax}'", "<mi>softmax'</mi>")


_IDENTITY = Activation("identity", None, None, None, None, "{}", "{}", "{}", _unit_slope)
_TANH = Activation(
    "tanh", _tanh, lambda Z, N: 1.0 - N * N, _tanh_into, _one_minus_square_into,
    "tanh({})", r"\tanh({})", "<mrow><mi>tanh</mi><mo>&#x2061;</mo><mo>(</mo>{}<mo>)</mo></mrow>",
    _tanh_slope, roundings=2,  # libm's tanh, within 2 ulp
)
_RELU = Activation(
    "relu", _relu, _step, _relu_into, _step_into,
    "max(0, {})", r"\max(0, {})", "<mrow><mi>max</mi><mo>(</mo><mn>0</mn><mo>,</mo>{}<mo>)</mo></mrow>",
    _relu_slope, kink=True,
)
_SIGMOID = Activation(
    "sigmoid", _sigmoid, lambda Z, N: N * (1.0 - N), _sigmoid_into, _sigmoid_slope_into,
    "sigmoid({})", r"\sigma({})", "<mrow><mi>σ</mi><mo>&#x2061;</mo><mo>(</mo>{}<mo>)</mo></mrow>",
    _sigmoid_slope,
    defined_as=("sigmoid(z) = 1/(1 + exp(-z))", r"\sigma(z) = \frac{1}{1 + e^{-z}}",
                "<mrow><mi>σ</mi><mo>(</mo><mi>z</mi><mo>)</mo><mo>=</mo><mfrac><mn>1</mn><mrow><mn>1</mn>"
                "<mo>+</mo><msup><mi>e</mi><mrow><mo>-</mo><mi>z</mi></mrow></msup></mrow></mfrac></mrow>"),
    roundings=4,  # tanh's 2, the halving, adding 1 and halving again (of_negated's: exp's 2, adding 1, dividing)
    of_negated=_sigmoid_of_negated, bounded=True,
)

# softmax: yhat_j = exp(a_j) / sum_l exp(a_l), across the outputs (axis 0 of A, shape (m, n)),
# not element by element: the output of the cross-entropy loss alone (losses.py's "link"), whose
# backward pass takes dL/da = yhat - y at once, so it has no element-wise derivative.
_SOFTMAX = Activation(
    "softmax", _softmax, None, None, None,
    "softmax({})", r"\operatorname{softmax}({})",
    "<mrow><mi>softmax</mi><mo>&#x2061;</mo><mo>(</mo>{}<mo>)</mo></mrow>",
    _softmax_slope,
    defined_as=("softmax(a)_j = exp(a_j) / sum_l exp(a_l)",
                r"\operatorname{softmax}(a)_j = \frac{e^{a_j}}{\sum_l e^{a_l}}",
                "<mrow><mi>softmax</mi><msub><mrow><mo>(</mo><mi>a</mi><mo>)</mo></mrow><mi>j</mi></msub><mo>=</mo>"
                "<mfrac><msup><mi>e</mi><msub><mi>a</mi><mi>j</mi></msub></msup><mrow><msub><mo>&#x2211;</mo><mi>l</mi>"
                "</msub><msup><mi>e</mi><msub><mi>a</mi><mi>l</mi></msub></msup></mrow></mfrac></mrow>"),
    roundings=4,  # the shift, exp, the sum's and the division's
    across_outputs=True,
)

# Every activation by name, the lecture's first; those the hidden layer and the outputs offer
# (yhat = act(a)), in the order the command line lists them. softmax comes with --loss cross-entropy.
ACTIVATIONS = {a.name: a for a in (_IDENTITY, _TANH, _RELU, _SIGMOID, _SOFTMAX)}
ACTIVATION_NAMES = ("identity", "tanh", "relu", "sigmoid")
OUTPUT_ACTIVATION_NAMES = ("identity", "sigmoid", "tanh")
# The outputs a loss can put on the network (losses.Loss.link): a model's output activation is one of these.
NETWORK_OUTPUT_ACTIVATIONS = OUTPUT_ACTIVATION_NAMES + ("softmax",)
