"""The lecture's notation as trees: each written out by hand, in plain text and in LaTeX."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fwdback.activations import ACTIVATIONS
from fwdback.notation import (
    Call, Dots, Frac, Neg, Num, Paren, Partial, Scaled, Square, Step, Sub, SumOver, Sym, add, equation, grad, mul,
    number, seq,
)


@pytest.mark.parametrize("expr, plain, latex", [
    (Sym("w1"), "w1", "w_1"),
    (Sym("w10"), "w10", "w_{10}"),
    (Sym("yhat", "i"), "yhat_i", r"\hat{y}_i"),
    (Sym("N1", "i"), "N1_i", "N_{1,i}"),
    (Sym("eta"), "eta", r"\eta"),
    (Sym("L", "before"), "L_before", r"L_{\text{before}}"),
    (grad("w1"), "dL/dw1", r"\frac{\partial L}{\partial w_1}"),
    (Partial(Sym("N1", "i"), Sym("z1", "i")), "dN1_i/dz1_i", r"\frac{\partial N_{1,i}}{\partial z_{1,i}}"),
    (mul(Sym("w1"), Sym("x1")), "w1*x1", "w_1 x_1"),
    (mul(grad("yhat", "i"), Sym("N1", "i")), "dL/dyhat_i * N1_i", r"\frac{\partial L}{\partial \hat{y}_i} N_{1,i}"),
    (mul(Num(0.5), Num(-2)), "0.5*(-2)", r"0.5 \cdot (-2)"),
    (mul(Sym("N1"), Paren(Sub(Num(1), Sym("N1")))), "N1*(1 - N1)", "N_1 (1 - N_1)"),
    (add(Num(1), Num(-2), Dots()), "1 + (-2) + ...", r"1 + (-2) + \cdots"),
    (Sub(Num(-1), Num(-3)), "-1 - (-3)", "-1 - (-3)"),
    (Square(Num(-2.5)), "(-2.5)^2", "(-2.5)^2"),
    (Square(Num(1e-7)), "(1e-07)^2", "(1e-07)^2"),
    (Square(Paren(Sub(Sym("y", "i"), Sym("yhat", "i")))), "(y_i - yhat_i)^2", r"(y_i - \hat{y}_i)^2"),
    (seq(Frac(Num(1), Sym("n")), SumOver(Sym("x1", "i"))), "(1/n) sum_i x1_i", r"\frac{1}{n} \sum_{i=1}^{n} x_{1,i}"),
    (Neg(Frac(Num(2), Num(4))), "-(2/4)", r"-\frac{2}{4}"),
    (Scaled(Frac(Num(1), Num(2)), Paren(add(Num(3), Num(4)), big=True)), "(1/2)*(3 + 4)", r"\frac{1}{2} \left( 3 + 4 \right)"),
    (Call(ACTIVATIONS["tanh"], Sym("z1")), "tanh(z1)", r"\tanh(z_1)"),
    (Call(ACTIVATIONS["relu"], Sym("z1")), "max(0, z1)", r"\max(0, z_1)"),
    (Call(ACTIVATIONS["sigmoid"], Num(-1)), "sigmoid(-1)", r"\sigma(-1)"),
    (Step(Sym("z1", "i")), "1 if z1_i > 0, else 0", r"1 \text{ if } z_{1,i} > 0 \text{, else } 0"),
    (equation(Sym("w1"), Sub(Sym("w1"), mul(Sym("eta"), grad("w1"))), Num(1.5), relations=("<-",)),
     "w1 <- w1 - eta * dL/dw1 = 1.5", r"w_1 \leftarrow w_1 - \eta \frac{\partial L}{\partial w_1} = 1.5"),
    (equation(grad("z1"), Num(-0.5), note=equation(Sym("z1"), Num(-2), Num(0), relations=("=", "<="))),
     "dL/dz1 = -0.5   (z1 = -2 <= 0)", r"\frac{\partial L}{\partial z_1} = -0.5 \quad (z_1 = -2 \le 0)"),
])  # fmt: skip
def test_each_piece_reads_as_the_lecture_writes_it(expr, plain, latex):
    assert expr.plain(alone=True) == plain
    assert expr.latex(alone=True) == latex


def test_a_negative_number_takes_parentheses_only_inside_an_expression():
    assert Num(-2.5).plain() == "(-2.5)" and Num(-2.5).plain(alone=True) == "-2.5"
    assert equation(Sym("b1"), Num(-2.5)).plain() == "b1 = -2.5"


def test_numbers_are_copyable():
    assert number(1.234567891e-5) == "1.23457e-05"
    assert number(0.1 + 0.2) == "0.3"
    assert number(-0.0) == "0"
    assert number(1234567.0) == "1.23457e+06"


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_reads_back_to_6_significant_digits(value):
    text = number(value)
    assert "times" not in text and "^" not in text and " " not in text
    assert math.isclose(float(text), value, rel_tol=5e-6, abs_tol=0.0) or value == 0.0
