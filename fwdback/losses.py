"""The losses: L = (sum of the rows' terms) / d(n) over n rows, declared once (LOSSES); nothing
else compares their names. The regressor's are the squared error's conventions:

    mse       d(n) = n     L = (1/n) sum (y - yhat)^2      dL/dyhat = -(2/n) (y - yhat)   (the lecture's)
    half-mse  d(n) = 2n    L = (1/2n) sum (y - yhat)^2     dL/dyhat = -(1/n) (y - yhat)
    sse       d(n) = 1     L = sum (y - yhat)^2            dL/dyhat = -2 (y - yhat)
    half-sse  d(n) = 2     L = (1/2) sum (y - yhat)^2      dL/dyhat = -(y - yhat)

Each is (1 or 1/2) times (the mean or the sum): `halved` and `mean` say which, and the divisor,
the derivative factor 2/d(n) and explain's notation all follow from those two. The sums run
over the outputs too.

The classifier's pair a loss with the output it needs (`link`), and are computed from the
logits a = w7*N1 + w8*N2 + b3 (network.loss), so that no log(0) is taken:

    bce            yhat = sigmoid(a)    L = (1/n) sum -(y log yhat + (1 - y) log(1 - yhat))
                                          = (1/n) sum log(1 + exp(a)) - y a
    cross-entropy  yhat = softmax(a)    L = (1/n) sum_i -sum_j y_ij log yhat_ij
                                          = (1/n) sum_i log(sum_j exp(a_ij)) - sum_j y_ij a_ij

and for both, dL/da = (1/n) (yhat - y): the link's derivative cancels the loss's (network.backward).
The notation is imported inside the methods that write it, so that the command line lists the
names without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .notation import Expr


@dataclass(frozen=True)
class Loss:
    """One loss: d(n) = (2 if halved else 1) * (n if mean else 1).

    formula      L written out, as the training report shows it
    description  what L is, in words, as explain says it
    link         the output activation a classification loss comes with ("sigmoid" for bce,
                 "softmax" for cross-entropy), whose derivative cancels its own; "" for squared errors
    binary       one output for two classes, yhat = P(the second class) (bce), not one per class
    curvature    the largest second derivative of one row's term by its output (by yhat for a
                 squared error, 2; by the logit a for bce, sigmoid' <= 1/4; for cross-entropy the
                 softmax Jacobian's largest eigenvalue, <= 1/2): how steep a step it allows
    """

    name: str
    halved: bool
    mean: bool
    formula: str
    description: str
    link: str = ""
    binary: bool = False
    curvature: float = 2.0

    @property
    def classifies(self) -> bool:
        """Whether it is a classifier's loss, of class labels and probabilities."""
        return bool(self.link)

    def divisor(self, n: int) -> float:
        """d(n): L = (sum of the rows' terms) / d(n) over n rows."""
        return float((2 if self.halved else 1) * (n if self.mean else 1))

    def factor(self, n: int) -> float:
        """The derivative's factor: 2/d(n) for a squared error, dL/dyhat_i = -(2/d(n)) (y_i - yhat_i);
        1/d(n) for a classification loss, dL/da_i = (1/d(n)) (yhat_i - y_i)."""
        return (1.0 if self.classifies else 2.0) / self.divisor(n)

    def step_scale(self, rows: int) -> float:
        """Its largest stable step over the MSE's, for an update over `rows` rows: the MSE's
        curvature (2/n) over this loss's (curvature / d(n))."""
        return self.divisor(rows) / rows * 2.0 / self.curvature

    @property
    def divisor_words(self) -> str:
        """d(n) as the page's stepper writes it: n, 2n, 1, 2."""
        return ("2" if self.halved else "") + ("n" if self.mean else "") or "1"

    @property
    def lecture(self) -> bool:
        """Whether this is the lecture's MSE, (1/n) sum (y - yhat)^2."""
        return self.mean and not self.halved and not self.classifies

    def scale_expression(self, n: int | None = None) -> Expr | None:
        """c(n) = 1/d(n) of L = c(n) sum (y - yhat)^2 in notation: 1/n, 1/(2n), none for sse, 1/2;
        with `n`, its value for n rows."""
        from .notation import Frac, Num, Raw, Sym

        if not self.mean:
            return Frac(Num(1), Num(2)) if self.halved else None
        if n is not None:
            return Frac(Num(1), Num(2 * n if self.halved else n))
        if self.halved:
            return Raw("(1/(2n))", r"\frac{1}{2n}", "<mfrac><mn>1</mn><mrow><mn>2</mn><mi>n</mi></mrow></mfrac>")
        return Frac(Num(1), Sym("n"))

    def expression(self, outputs: int = 1) -> Expr:
        """L's right side in notation, over the rows i (and the outputs j of `outputs` > 1):
        (1/n) sum_i (y_i - yhat_i)^2, ..., (1/n) sum_i -sum_j y_j,i log yhat_j,i."""
        from .notation import Frac, Log, Neg, Num, Paren, Square, Sub, SumOver, Sym, add, mul, seq

        if self.binary:
            y, yhat = Sym("y", "i"), Sym("yhat", "i")
            term = Neg(Paren(add(mul(y, Log(yhat)), mul(Paren(Sub(Num(1), y)), Log(Sub(Num(1), yhat))))))
            return seq(Frac(Num(1), Sym("n")), SumOver(term))
        if self.classifies:
            return seq(Frac(Num(1), Sym("n")), SumOver(Neg(SumOver(mul(Sym("yj", "i"), Log(Sym("yhatj", "i"))), "j", "m"))))
        y, yhat = (Sym("yj", "i"), Sym("yhatj", "i")) if outputs > 1 else (Sym("y", "i"), Sym("yhat", "i"))
        body = SumOver(Square(Paren(Sub(y, yhat))))
        body = SumOver(SumOver(Square(Paren(Sub(y, yhat))), "j", "m")) if outputs > 1 else body
        scale = self.scale_expression()
        return body if scale is None else seq(scale, body)

    def factor_expression(self, n: int | None = None) -> Expr:
        """The derivative factor 2/d(n) in notation: 2/n, 1/n, 2, 1; with `n`, n's value in it."""
        from .notation import Frac, Num, Sym

        top = Num(1 if self.halved or self.classifies else 2)
        return Frac(top, Sym("n") if n is None else Num(n)) if self.mean else top


LOSSES = {
    loss.name: loss
    for loss in (
        Loss("mse", False, True, "(1/n) sum (y - yhat)^2", "the mean of the squared errors"),
        Loss("half-mse", True, True, "(1/2n) sum (y - yhat)^2", "half the mean of the squared errors"),
        Loss("sse", False, False, "sum (y - yhat)^2", "the sum of the squared errors"),
        Loss("half-sse", True, False, "(1/2) sum (y - yhat)^2", "half the sum of the squared errors"),
        Loss("bce", False, True, "(1/n) sum -(y log yhat + (1 - y) log(1 - yhat))", "the mean binary cross-entropy",
             link="sigmoid", binary=True, curvature=0.25),
        Loss("cross-entropy", False, True, "(1/n) sum -sum_j y_j log yhat_j", "the mean cross-entropy",
             link="softmax", curvature=0.5),
    )
}
LOSS_NAMES = tuple(LOSSES)
REGRESSION_LOSS_NAMES = tuple(name for name, loss in LOSSES.items() if not loss.classifies)
CLASSIFICATION_LOSS_NAMES = tuple(name for name, loss in LOSSES.items() if loss.classifies)
