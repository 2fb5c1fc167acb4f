"""The expression grammar (docs/reliability.md): what it reads, what it refuses, and that it
never executes anything -- unit tests and hypothesis properties over every parser."""

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from metricflow.cli.ntk import _sympy_number
from metricflow.cy.hypersurface import from_sympy
from metricflow.errors import InvalidInputError
from metricflow.symbolic import ntk as symbolic_ntk
from metricflow.symbolic.grammar import FUNCTIONS, LIMITS
from metricflow.symbolic.kahler import ComplexCoordinates
from metricflow.symbolic.parsing import parse_coords, parse_matrix, parse_scalar

XY = parse_coords("x y")
x, y = XY


def scalar(text, **kw):
    return parse_scalar(text, XY, "metric", **kw)


# ------------------------------------------------------------------ what is read
@pytest.mark.parametrize("text, expected", [
    ("x**2 + 3*y - 1", x**2 + 3 * y - 1),
    ("x^2 - 1", x**2 - 1),                     # ^ is power, with the precedence of **
    ("2^3^2", sp.Integer(2) ** 9),             # right associative, as **
    ("-x**2", -(x**2)),
    ("+x", x),
    ("1/3 + 0.5", sp.Rational(1, 3) + sp.Float("0.5")),
    ("x \u2212 y", x - y),                    # a minus sign pasted from a paper
    ("sin(x)*cos(y) + tan(x) + exp(x) + log(y) + sqrt(x) + sinh(x) + cosh(y) + tanh(x)",
     sp.sin(x) * sp.cos(y) + sp.tan(x) + sp.exp(x) + sp.log(y) + sp.sqrt(x) + sp.sinh(x) + sp.cosh(y)
     + sp.tanh(x)),
    ("asin(x) + acos(x) + atan(x) + log(x, 2)", sp.asin(x) + sp.acos(x) + sp.atan(x) + sp.log(x, 2)),
    ("u(x, y)**2", sp.Function("u")(x, y) ** 2),
    ("M*a + Q*S*N*beta + gamma*zeta + O", sp.Symbol("M") * sp.Symbol("a") + sp.Symbol("Q") * sp.Symbol("S")
     * sp.Symbol("N") * sp.Symbol("beta") + sp.Symbol("gamma") * sp.Symbol("zeta") + sp.Symbol("O")),
    ("pi*E", sp.pi * sp.E),                    # undeclared pi and E are the constants
    ("0x10 + 1_000", sp.Integer(1016)),
])
def test_accepted_expressions(text, expected):
    assert scalar(text) == expected


def test_declared_names_win_over_constants():
    E, phi = parse_coords("E phi")
    assert parse_scalar("sin(E)**2", (E, phi)) == sp.sin(E) ** 2 and sp.sin(E).has(E)
    coords = parse_coords("I pi S N Q beta gamma zeta")
    expr = parse_scalar("I + pi + S*N*Q*beta*gamma*zeta", coords)
    assert expr.free_symbols == set(coords)
    assert parse_scalar("E*x", XY, params=["E"]) == sp.Symbol("E") * x


def test_imaginary_unit_only_in_complex_input():
    with pytest.raises(InvalidInputError, match="imaginary unit"):
        scalar("I*x")
    assert scalar("I*x", allow_complex=True) == sp.I * x


@pytest.mark.parametrize("text, token, column", [
    ("x + __import__('os').system('touch pwned')", "__import__", 5),
    ("x + ().__class__", "().__class__", 5),
    ("x.y", "x.y", 1),
    ("1 + (lambda: 1)", "lambda: 1", 6),
    ("x[0]", "x[0]", 1),
    ("'abc'", "'abc'", 1),
    ("f(x=1)", "x=1", 3),
    ("f(*x)", "*x", 3),
    ("x // 2", "//", 3),
    ("x^2 % 3", "%", 5),
    ("x < y", "x < y", 1),
    ("[x for x in y]", "[x for x in y]", 1),
    ("x if y else 1", "x if y else 1", 1),
    ("2j", "2j", 1),
    ("1e999", "1e999", 1),
    ("sin", "sin", 1),
    ("sin(x, y)", "sin(x, y)", 1),
    ("x(y)", "x", 1),
    ("pi(x)", "pi", 1),
    ("u(x) + u", "u", 1),
    ("f()", "f()", 1),
    ("1/0", "1/0", 1),
    ("9**9**9", "9**9**9", 1),
    ("x**1001", "x**1001", 1),
    ("(x**600)**2", "(x**600)**2", 1),
    ("2**400", "2**400", 1),
    ("1" * 101, "1" * 20 + "…", 1),
    ("a__b", "a__b", 1),
    ("True", "True", 1),
])
def test_refusals_name_the_token_and_the_column(text, token, column):
    with pytest.raises(InvalidInputError) as exc:
        scalar(text)
    assert exc.value.argument == "metric"
    assert f"{token!r} at column {column}" in exc.value.message, exc.value.message
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("text, needle", [
    ("", "empty"),
    ("x +", "cannot parse"),
    ("import os", "cannot parse"),
    ("x; y", "cannot parse"),
    ("(" * 300 + "x" + ")" * 300, "cannot parse"),
    ("-" * 5000 + "x", "nests"),
    ("sin(" * 70 + "x" + ")" * 70, "nests more than"),
    ("+".join(["x"] * 4000), "nests too deeply for Python's parser"),
    ("x" * (LIMITS.max_length + 1), "characters"),
])
def test_limits_and_syntax_errors(text, needle):
    with pytest.raises(InvalidInputError, match=needle):
        scalar(text)


def test_node_limit():
    with pytest.raises(InvalidInputError, match="syntax nodes"):
        parse_matrix("[[" + ",".join(["-x"] * 3000) + "]]", XY)


def test_a_long_sum_is_one_level_of_nesting():
    assert scalar(" + ".join(["x"] * 1000)) == 1000 * x


def test_matrices_and_coordinates():
    assert parse_matrix("[[1, 0], [0, sin(x)^2]]", XY) == sp.Matrix([[1, 0], [0, sp.sin(x) ** 2]])
    assert parse_matrix("((1, x), (x, 1))", XY) == sp.Matrix([[1, x], [x, 1]])
    with pytest.raises(InvalidInputError, match="list of rows"):
        parse_matrix("Matrix([[1, 0], [0, 1]])", XY)
    with pytest.raises(InvalidInputError, match="only allowed as the rows"):
        parse_matrix("[[1, [0]], [0, 1]]", XY)
    for bad, needle in [("x sin", "function sin"), ("x a__b", "reserved"), ("x lambda", "not a valid"),
                        ("x 1y", "not a valid")]:
        with pytest.raises(InvalidInputError, match=needle):
            parse_coords(bad)


def test_every_listed_function_is_callable():
    a = sp.Symbol("a")  # no assumptions: re(a), im(a) stay unevaluated
    for name, (_, arities) in FUNCTIONS.items():
        args = ", ".join(["a"] * arities[0])
        assert scalar(f"{name}({args})", allow_complex=True).has(a)


# ------------------------------------------------------------------ hostile input, every parser
SENTINEL = "SENTINEL_PATH"  # replaced by a file path in a fresh directory (the `sentinel` fixture)
PAYLOADS = [
    f"__import__('os').system('touch {SENTINEL}')",
    f"open('{SENTINEL}', 'w')",
    f"__import__('pathlib').Path('{SENTINEL}').touch()",
    f"exec(\"open('{SENTINEL}', 'w')\")",
    f"eval(\"open('{SENTINEL}', 'w')\")",
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__.__mro__",
    "getattr(x, '__class__')",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "lambda: __import__('os')",
    "Symbol('x')",
    "Function('f')(x)",
    "(lambda f: f(f))(lambda f: f(f))",
    f"sp.sympify(\"open('{SENTINEL}', 'w')\")",
]
TOKENS = ["x", "y", "z0", "z1", "sin", "exp", "u", "E", "I", "pi", "Q", "__import__", "__class__", "os",
          "system", "lambda", "for", "in", "if", "else", "not", "and", "import", "0", "1", "9", ".5", "1e999",
          "2j", "0x", "99999999999999999999", "+", "-", "*", "/", "**", "^", "//", "%", "@", "<", "==", "~",
          ":=", "(", ")", "[", "]", "{", "}", ",", ".", ":", ";", "'", '"', "\\", "\n", " ", "#", "$", "\u2212",
          "\x00", "θ", "'touch pwned'"]
expressions = st.recursive(
    st.sampled_from(["x", "y", "z0", "2", "pi", "E", "I", "u(x, y)", "1e308", "0.5"]),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**", "^"]), inner).map(
            lambda t: f"({t[0]}){t[1]}({t[2]})"),
        st.tuples(st.sampled_from(["sin", "exp", "log", "sqrt", "conjugate", "f"]), inner).map(
            lambda t: f"{t[0]}({t[1]})"),
        inner.map(lambda s: f"-({s})")),
    max_leaves=8)
fragments = st.one_of(
    st.sampled_from(PAYLOADS),
    st.lists(st.sampled_from(TOKENS), max_size=30).map("".join),
    st.tuples(expressions, st.sampled_from(PAYLOADS), expressions).map(lambda t: f"{t[0]} + {t[1]}*{t[2]}"),
    st.tuples(expressions, st.sampled_from(["__class__", "__dict__", "real", "func", "args", "subs"])).map(
        lambda t: f"({t[0]}).{t[1]}"),
    st.tuples(expressions, expressions).map(lambda t: f"lambda x: {t[0]}*{t[1]}"),
    st.tuples(expressions, expressions).map(lambda t: f"[{t[0]} for x in {t[1]}]"),
    st.tuples(expressions, st.integers(0, 3)).map(lambda t: f"({t[0]})[{t[1]}]"),
    st.integers(10**80, 10**400).map(str),
    st.tuples(st.integers(2, 99), st.integers(2, 99), st.integers(2, 99)).map(lambda t: "{}**{}**{}".format(*t)),
    st.tuples(st.sampled_from(["(", "[", "sin(", "-", "+", "exp(", "u("]), st.integers(1, 400)).map(
        lambda t: t[0] * t[1] + "x" + {"(": ")", "[": "]", "sin(": ")", "exp(": ")", "u(": ")"}.get(t[0], "")
        * t[1]),
    st.text(max_size=60),
    expressions,
    st.lists(st.lists(expressions, min_size=1, max_size=3), min_size=1, max_size=3).map(
        lambda rows: "[" + ",".join("[" + ",".join(r) + "]" for r in rows) + "]"),
)

PARSERS = {
    "scalar": lambda t: parse_scalar(t, XY, "metric"),
    "matrix": lambda t: parse_matrix(t, XY, "metric"),
    "kahler": lambda t: ComplexCoordinates("z1 z2").parse(t),
    "poly": lambda t: from_sympy(t, check_smooth=False),
    "sigma_cli": lambda t: _sympy_number(t, "sigma_w"),
    "sigma_api": lambda t: symbolic_ntk._check_sigma(t),
}


@pytest.fixture(scope="module")
def sentinel(tmp_path_factory):
    """A path that any executed payload would create."""
    return tmp_path_factory.mktemp("grammar") / "pwned"


@pytest.mark.parametrize("parser", sorted(PARSERS))
@given(text=fragments)
def test_hostile_text_never_executes_and_only_raises_invalid_input(parser, text, sentinel):
    text = text.replace(SENTINEL, str(sentinel))
    try:
        PARSERS[parser](text)
    except InvalidInputError as exc:
        assert "\n" not in str(exc)
    assert not sentinel.exists(), f"{text!r} created the sentinel file"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_known_payloads_are_refused_by_every_parser(payload, sentinel):
    for name, parse in PARSERS.items():
        with pytest.raises(InvalidInputError):
            parse(payload.replace(SENTINEL, str(sentinel)))
        assert not sentinel.exists(), name


# ------------------------------------------------------------------ round trip against a reference construction
NAMES = {"x": x, "y": y, "a": sp.Symbol("a"), "Q": sp.Symbol("Q"), "S": sp.Symbol("S"), "N": sp.Symbol("N"),
         "beta": sp.Symbol("beta"), "gamma": sp.Symbol("gamma"), "pi": sp.pi, "E": sp.E}
U = sp.Function("u")
leaves = st.one_of(st.sampled_from(sorted(NAMES)).map(lambda n: (n, NAMES[n])),
                   st.integers(0, 9).map(lambda k: (str(k), sp.Integer(k))),
                   st.sampled_from(["0.5", "2.25"]).map(lambda s: (s, sp.Float(s))))
powered = st.one_of(leaves, st.tuples(leaves, st.sampled_from([-2, -1, 2, 3])).map(
    lambda t: (f"({t[0][0]})**({t[1]})", t[0][1] ** t[1])))
FUNCS = {"sin": sp.sin, "cos": sp.cos, "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "sinh": sp.sinh,
         "atan": sp.atan, "Abs": sp.Abs}


def _binary(t):
    (ta, ea), op, (tb, eb) = t
    ref = {"+": lambda: ea + eb, "-": lambda: ea - eb, "*": lambda: ea * eb, "/": lambda: ea / eb}[op]()
    return f"({ta}) {op} ({tb})", ref


valid = st.recursive(powered, lambda inner: st.one_of(
    st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(_binary),
    st.tuples(st.sampled_from(sorted(FUNCS)), inner).map(lambda t: (f"{t[0]}({t[1][0]})", FUNCS[t[0]](t[1][1]))),
    st.tuples(inner, inner).map(lambda t: (f"u({t[0][0]}, {t[1][0]})", U(t[0][1], t[1][1]))),
    inner.map(lambda t: (f"-({t[0]})", -t[1]))), max_leaves=8)


@given(pair=valid)
def test_valid_expressions_round_trip_to_the_reference(pair):
    text, ref = pair
    if ref.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        with pytest.raises(InvalidInputError, match="infinite or undefined"):
            scalar(text)
        return
    assert scalar(text) == ref
