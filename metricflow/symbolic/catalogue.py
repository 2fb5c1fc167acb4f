"""Textbook metrics as strings of the expression grammar (docs/reliability.md): the inputs of
the catalogue tests and of ``benchmarks/kerr_ricci.py``.

Coordinates ``t r theta phi`` (Boyer–Lindquist), signature (−+++), pass ``lorentzian=True``.
Kerr is in geometric units (G = c = 1); Reissner–Nordström and Kerr–Newman are in SI units
with the parameters ``G, M, a, c, Q, epsilon0``, the charge entering through
``r_Q² = G Q²/(4π ε₀ c⁴)`` -- the form that made the exact engine slow before its
parameters were compressed (:mod:`metricflow.symbolic._constants`).
"""

BOYER_LINDQUIST = "t r theta phi"

KERR = ("[[-(1-2*M*r/(r**2+a**2*cos(theta)**2)),0,0,-2*M*a*r*sin(theta)**2/(r**2+a**2*cos(theta)**2)],"
        "[0,(r**2+a**2*cos(theta)**2)/(r**2-2*M*r+a**2),0,0],[0,0,r**2+a**2*cos(theta)**2,0],"
        "[-2*M*a*r*sin(theta)**2/(r**2+a**2*cos(theta)**2),0,0,"
        "(r**2+a**2+2*M*r*a**2*sin(theta)**2/(r**2+a**2*cos(theta)**2))*sin(theta)**2]]")

_SIGMA = "(r**2 + a**2*cos(theta)**2)"
_DELTA = "(r**2 - 2*G*M*r/c**2 + a**2 + G*Q**2/(4*pi*epsilon0*c**4))"

#: ds² = −(Δ/Σ)(c dt − a sin²θ dφ)² + (sin²θ/Σ)((r² + a²) dφ − a c dt)² + (Σ/Δ) dr² + Σ dθ²
KERR_NEWMAN = (
    f"[[-c**2*({_DELTA} - a**2*sin(theta)**2)/{_SIGMA}, 0, 0, a*c*sin(theta)**2*({_DELTA} - r**2 - a**2)/{_SIGMA}],"
    f" [0, {_SIGMA}/{_DELTA}, 0, 0], [0, 0, {_SIGMA}, 0],"
    f" [a*c*sin(theta)**2*({_DELTA} - r**2 - a**2)/{_SIGMA}, 0, 0,"
    f"  sin(theta)**2*((r**2 + a**2)**2 - {_DELTA}*a**2*sin(theta)**2)/{_SIGMA}]]")

_F_RN = "(1 - 2*G*M/(c**2*r) + G*Q**2/(4*pi*epsilon0*c**4*r**2))"

#: ds² = −f c² dt² + dr²/f + r² dΩ², f = 1 − 2GM/(c² r) + G Q²/(4π ε₀ c⁴ r²)
REISSNER_NORDSTROM = f"[[-c**2*{_F_RN},0,0,0],[0,1/{_F_RN},0,0],[0,0,r**2,0],[0,0,0,r**2*sin(theta)**2]]"
