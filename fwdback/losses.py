"""The loss conventions: L = (sum of squared errors) / d(n) over n rows, declared once (LOSSES);
nothing else compares their names.

    mse       d(n) = n     L = (1/n) sum (y - yhat)^2      dL/dyhat = -(2/n) (y - yhat)   (the lecture's)
    half-mse  d(n) = 2n    L = (1/2n) sum (y - yhat)^2     dL/dyhat = -(1/n) (y - yhat)
    sse       d(n) = 1     L = sum (y - yhat)^2            dL/dyhat = -2 (y - yhat)
    half-sse  d(n) = 2     L = (1/2) sum (y - yhat)^2      dL/dyhat = -(y - yhat)

Each is (1 or 1/2) times (the mean or the sum): `halved` and `mean` say which, and the divisor,
the derivative factor 2/d(n) and explain's notation all follow from those two. The sums run
over the outputs too.
"""

from __future__ import annotations

from dataclasses import dataclass

from .notation import Expr, Frac, Num, Raw, Sym


@dataclass(frozen=True)
class Loss:
    """One loss convention: d(n) = (2 if halved else 1) * (n if mean else 1).

    formula      L written out, as the training report shows it
    description  what L is, in words, as explain says it
    """

    name: str
    halved: bool
    mean: bool
    formula: str
    description: str

    def divisor(self, n: int) -> float:
        """d(n): L = (sum of squared errors) / d(n) over n rows."""
        return float((2 if self.halved else 1) * (n if self.mean else 1))

    def factor(self, n: int) -> float:
        """2/d(n), the derivative's factor: dL/dyhat_i = -(2/d(n)) (y_i - yhat_i)."""
        return 2.0 / self.divisor(n)

    @property
    def divisor_words(self) -> str:
        """d(n) as the page's stepper writes it: n, 2n, 1, 2."""
        return ("2" if self.halved else "") + ("n" if self.mean else "") or "1"

    @property
    def lecture(self) -> bool:
        """Whether this is the lecture's MSE, (1/n) sum (y - yhat)^2."""
        return self.mean and not self.halved

    def scale_expression(self, n: int | None = None) -> Expr | None:
        """c(n) = 1/d(n) of L = c(n) sum (y - yhat)^2 in notation: 1/n, 1/(2n), none for sse, 1/2;
        with `n`, its value for n rows."""
        if not self.mean:
            return Frac(Num(1), Num(2)) if self.halved else None
        if n is not None:
            return Frac(Num(1), Num(2 * n if self.halved else n))
        if self.halved:
            return Raw("(1/(2n))", r"\frac{1}{2n}", "<mfrac><mn>1</mn><mrow><mn>2</mn><mi>n</mi></mrow></mfrac>")
        return Frac(Num(1), Sym("n"))

    def factor_expression(self, n: int | None = None) -> Expr:
        """The derivative factor 2/d(n) in notation: 2/n, 1/n, 2, 1; with `n`, n's value in it."""
        top = Num(1 if self.halved else 2)
        return Frac(top, Sym("n") if n is None else Num(n)) if self.mean else top


LOSSES = {
    loss.name: loss
    for loss in (
        Loss("mse", False, True, "(1/n) sum (y - yhat)^2", "the mean of the squared errors"),
        Loss("half-mse", True, True, "(1/2n) sum (y - yhat)^2", "half the mean of the squared errors"),
        Loss("sse", False, False, "sum (y - yhat)^2", "the sum of the squared errors"),
        Loss("half-sse", True, False, "(1/2) sum (y - yhat)^2", "half the sum of the squared errors"),
    )
}
LOSS_NAMES = tuple(LOSSES)
