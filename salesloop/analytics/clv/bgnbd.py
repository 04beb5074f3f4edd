"""BG/NBD: beta-geometric / negative-binomial model of repeat buying.

Source: P. S. Fader, B. G. S. Hardie, K. L. Lee (2005), "'Counting Your Customers' the Easy Way:
An Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), 275–284, and Hardie's
note "Implementing the BG/NBD Model" (conditional expectation, eq. 10 of the paper).

Per customer we observe ``x`` repeat purchases (purchases after the first one), ``t_x`` the time
of the last purchase and ``T`` the length of observation, both measured from the first purchase.
While active a customer buys at Poisson rate λ ~ Gamma(r, α); after each repeat purchase they
drop out with probability p ~ Beta(a, b).

Time is in whatever unit the caller uses; ``salesloop.custops`` uses weeks (7 days) so that the
parameters are on the scale of the literature (α is a time scale, r, a, b are unitless).
The log-likelihood is the paper's equation 6 *in the caller's time unit*: changing the unit shifts
it by ``-Σx·ln(scale)``, which is why a library that rescales time internally reports another
number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

#: Parameter order everywhere in this module.
PARAMS = ("r", "alpha", "a", "b")


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float

    def as_array(self) -> np.ndarray:
        return np.array([self.r, self.alpha, self.a, self.b], dtype=float)


@dataclass(frozen=True)
class BgNbdFit:
    params: BgNbdParams
    log_likelihood: float
    n_customers: int
    n_distinct: int
    converged: bool
    iterations: int
    message: str


@dataclass(frozen=True)
class Aggregated:
    """Distinct ``(x, t_x, T)`` rows and how many customers share each (``weight``).

    Fitting on distinct rows gives the same likelihood as on all customers at a fraction of the
    cost: at scale most customers are one-time buyers observed for one of a few hundred ``T``s.
    """

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    weight: np.ndarray


def aggregate(x, t_x, T) -> Aggregated:
    data = np.column_stack([np.asarray(x, float), np.asarray(t_x, float), np.asarray(T, float)])
    if data.size == 0:
        empty = np.zeros(0)
        return Aggregated(empty, empty, empty, empty)
    rows, counts = np.unique(data, axis=0, return_counts=True)
    return Aggregated(rows[:, 0], rows[:, 1], rows[:, 2], counts.astype(float))


def validate_inputs(x, t_x, T) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if not (x.shape == t_x.shape == T.shape):
        raise ValueError("x, t_x and T must have the same length")
    if np.any(x < 0) or np.any(x != np.floor(x)):
        raise ValueError("x must be a non-negative whole number of repeat purchases")
    if np.any(t_x < 0) or np.any(T < t_x):
        raise ValueError("need 0 <= t_x <= T")
    if np.any((x == 0) & (t_x != 0)):
        raise ValueError("t_x must be 0 when x is 0")
    return x, t_x, T


def _terms(theta: np.ndarray, x, t_x, T):
    """The pieces of eq. 6 on the log scale: A1 + A2 + log(exp(A3) + δ·exp(A4))."""
    r, alpha, a, b = theta
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = (
        special.gammaln(a + b)
        + special.gammaln(b + x)
        - special.gammaln(b)
        - special.gammaln(a + b + x)
    )
    a3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    a4 = np.full_like(x, -np.inf)
    a4[repeat] = (
        np.log(a) - np.log(b + x[repeat] - 1) - (r + x[repeat]) * np.log(alpha + t_x[repeat])
    )
    return a1, a2, a3, a4, repeat


def log_likelihood_per_row(theta, x, t_x, T) -> np.ndarray:
    a1, a2, a3, a4, _repeat = _terms(np.asarray(theta, float), x, t_x, T)
    return a1 + a2 + np.logaddexp(a3, a4)


def log_likelihood(params: BgNbdParams, x, t_x, T, weight=None) -> float:
    """The sample log-likelihood, equation 6 of the paper summed over customers."""
    x, t_x, T = validate_inputs(x, t_x, T)
    w = np.ones_like(x) if weight is None else np.asarray(weight, float)
    return float(np.sum(w * log_likelihood_per_row(params.as_array(), x, t_x, T)))


def _negative_ll_and_gradient(log_theta: np.ndarray, x, t_x, T, w) -> tuple[float, np.ndarray]:
    theta = np.exp(log_theta)
    r, alpha, a, b = theta
    a1, a2, a3, a4, repeat = _terms(theta, x, t_x, T)
    d = np.logaddexp(a3, a4)
    w3 = np.exp(a3 - d)
    w4 = np.exp(a4 - d)  # zero where x == 0
    ll = np.sum(w * (a1 + a2 + d))

    b_x1 = np.where(repeat, b + x - 1, 1.0)
    d_r = (
        special.digamma(r + x)
        - special.digamma(r)
        + np.log(alpha)
        - w3 * np.log(alpha + T)
        - w4 * np.log(alpha + t_x)
    )
    d_alpha = r / alpha - w3 * (r + x) / (alpha + T) - w4 * (r + x) / (alpha + t_x)
    d_a = special.digamma(a + b) - special.digamma(a + b + x) + w4 / a
    d_b = (
        special.digamma(a + b)
        + special.digamma(b + x)
        - special.digamma(b)
        - special.digamma(a + b + x)
        - w4 / b_x1
    )
    grad = (
        np.array([np.sum(w * d_r), np.sum(w * d_alpha), np.sum(w * d_a), np.sum(w * d_b)]) * theta
    )
    return -ll, -grad


#: Log-parameters beyond this are at the optimiser's bounds (±12): the estimate is not an
#: interior maximum and the model is not identified on the data (no heterogeneity to estimate).
LOG_BOUND = 11.5


def is_interior(converged: bool, params: np.ndarray) -> bool:
    """A fit worth using: the optimiser converged and no parameter ran off to its bound."""
    return converged and bool(np.all(np.abs(np.log(np.asarray(params, float))) < LOG_BOUND))


def fit(
    x, t_x, T, *, weight=None, start: BgNbdParams | None = None, tol: float = 1e-10
) -> BgNbdFit:
    """Maximum-likelihood estimates of (r, α, a, b) by L-BFGS-B on the log parameters.

    Rows may be pre-aggregated (``weight`` = customers per row); otherwise they are aggregated
    here. The analytic gradient keeps the fit tight enough to reproduce published estimates to
    their printed rounding.
    """
    x, t_x, T = validate_inputs(x, t_x, T)
    if weight is None:
        agg = aggregate(x, t_x, T)
    else:
        agg = Aggregated(x, t_x, T, np.asarray(weight, float))
    n = int(round(agg.weight.sum()))
    if n == 0:
        raise ValueError("no customers to fit")
    if start is None:
        # α is a time scale: start it at the typical observation length.
        start = BgNbdParams(
            r=1.0, alpha=max(float(np.average(agg.T, weights=agg.weight)), 1e-3), a=1.0, b=1.0
        )
    result = optimize.minimize(
        _negative_ll_and_gradient,
        np.log(start.as_array()),
        args=(agg.x, agg.t_x, agg.T, agg.weight),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-12.0, 12.0)] * 4,
        options={"maxiter": 2000, "ftol": tol, "gtol": 1e-8},
    )
    r, alpha, a, b = np.exp(result.x)
    params = BgNbdParams(float(r), float(alpha), float(a), float(b))
    return BgNbdFit(
        params=params,
        log_likelihood=float(-result.fun),
        n_customers=n,
        n_distinct=int(agg.x.size),
        converged=bool(result.success),
        iterations=int(result.nit),
        message=str(result.message),
    )


def p_alive(params: BgNbdParams, x, t_x, T) -> np.ndarray:
    """P(still active at T | x, t_x, T) (paper, eq. 11 / Hardie's note).

    Customers with no repeat purchase are alive by the model's assumption (dropout happens only
    after a repeat purchase), so their probability is 1.
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    r, alpha, a, b = params.as_array()
    out = np.ones_like(x)
    repeat = x > 0
    xr = x[repeat]
    log_ratio = (
        np.log(a)
        - np.log(b + xr - 1)
        + (r + xr) * (np.log(alpha + T[repeat]) - np.log(alpha + t_x[repeat]))
    )
    out[repeat] = 1.0 / (1.0 + np.exp(log_ratio))
    return out


def expected_purchases_if_alive(params: BgNbdParams, t: float, x, t_x, T) -> np.ndarray:
    """E[purchases in (T, T+t] | x, t_x, T, still active at T] — the numerator of eq. 10."""
    x, T = np.asarray(x, dtype=float), np.asarray(T, dtype=float)
    r, alpha, a, b = params.as_array()
    z = t / (alpha + T + t)
    hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
    first = (a + b + x - 1) / (a - 1)
    return first * (1.0 - np.exp((r + x) * np.log((alpha + T) / (alpha + T + t))) * hyp)


def conditional_expected_purchases(params: BgNbdParams, t: float, x, t_x, T) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: expected purchases in the next ``t`` time units (paper, eq. 10)."""
    return p_alive(params, x, t_x, T) * expected_purchases_if_alive(params, t, x, t_x, T)


def expected_purchases(params: BgNbdParams, t) -> np.ndarray:
    """E[X(t)] for a customer who has just made a first purchase (paper, eq. 9)."""
    t = np.asarray(t, dtype=float)
    r, alpha, a, b = params.as_array()
    hyp = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
    return (a + b - 1) / (a - 1) * (1.0 - (alpha / (alpha + t)) ** r * hyp)


def simulate(params: BgNbdParams, T, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``(x, t_x)`` for customers observed for ``T`` after their first purchase.

    Exactly the model's story: λ ~ Gamma(r, rate α), p ~ Beta(a, b); purchases arrive at rate λ
    and after each repeat purchase the customer drops out with probability p. Used by the
    parameter-recovery test and the benchmark's synthetic check.
    """
    T = np.asarray(T, dtype=float)
    n = T.size
    lam = rng.gamma(shape=params.r, scale=1.0 / params.alpha, size=n)
    p = rng.beta(params.a, params.b, size=n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    clock = np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        clock[idx] += rng.exponential(1.0 / lam[idx])
        within = clock[idx] <= T[idx]
        bought = idx[within]
        x[bought] += 1
        t_x[bought] = clock[bought]
        active[idx[~within]] = False
        drops = bought[rng.random(bought.size) < p[bought]]
        active[drops] = False
    return x, t_x


def standard_errors(fit_result: BgNbdFit, x, t_x, T, *, weight=None) -> BgNbdParams:
    """Asymptotic standard errors of (r, α, a, b) from the observed information matrix.

    The Hessian of the log-likelihood in the log parameters is taken by central differences of
    the analytic gradient; the delta method maps it back (SE(θ) = θ · SE(log θ)).
    """
    x, t_x, T = validate_inputs(x, t_x, T)
    agg = (
        aggregate(x, t_x, T) if weight is None else Aggregated(x, t_x, T, np.asarray(weight, float))
    )
    theta = fit_result.params.as_array()
    cov = _inverse_hessian(
        lambda z: _negative_ll_and_gradient(z, agg.x, agg.t_x, agg.T, agg.weight)[1], np.log(theta)
    )
    return BgNbdParams(*(theta * np.sqrt(np.diag(cov))))


def _inverse_hessian(gradient, at: np.ndarray, step: float = 1e-5) -> np.ndarray:
    k = at.size
    hessian = np.empty((k, k))
    for j in range(k):
        shift = np.zeros(k)
        shift[j] = step
        hessian[:, j] = (gradient(at + shift) - gradient(at - shift)) / (2 * step)
    hessian = (hessian + hessian.T) / 2
    return np.linalg.inv(hessian)
