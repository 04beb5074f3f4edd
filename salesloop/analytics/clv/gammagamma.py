"""Gamma-Gamma model of spend per transaction.

Sources: P. S. Fader, B. G. S. Hardie, K. L. Lee (2005), "RFM and CLV: Using Iso-Value Curves for
Customer Base Analysis", *Journal of Marketing Research* 42(4), 415–430, after Colombo & Jiang
(1999); B. G. S. Hardie, "The Gamma-Gamma Model of Monetary Value" (2013).

A customer's transaction values z are Gamma(p, ν) with ν ~ Gamma(q, γ) across customers, so the
mean of x transactions, m̄, has the density

    f(m̄ | p, q, γ, x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q · x^{px} · m̄^{px−1} / (γ + m̄x)^{px+q}

and the expected value of the customer's next transaction is

    E[Z | p, q, γ, m̄, x] = (γ + m̄x) · p / (px + q − 1).

The model is fitted on repeat buyers only (x ≥ 1, m̄ = mean value of the repeat transactions),
as in the paper. Money is in the caller's currency unit (a float here; the Django side converts
``Decimal`` amounts of one currency).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float

    def as_array(self) -> np.ndarray:
        return np.array([self.p, self.q, self.gamma], dtype=float)

    @property
    def population_mean(self) -> float:
        """E[Z] for a customer with no spend history: γp/(q−1) (infinite when q ≤ 1)."""
        return self.gamma * self.p / (self.q - 1) if self.q > 1 else float("inf")


@dataclass(frozen=True)
class GammaGammaFit:
    params: GammaGammaParams
    log_likelihood: float
    n_customers: int
    converged: bool
    iterations: int
    message: str


def _validate(x, m) -> tuple[np.ndarray, np.ndarray]:
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    if x.shape != m.shape:
        raise ValueError("x and m must have the same length")
    if np.any(x < 1) or np.any(m <= 0):
        raise ValueError("Gamma-Gamma needs repeat buyers: x >= 1 and a positive mean spend")
    return x, m


def log_likelihood_per_row(theta, x, m) -> np.ndarray:
    p, q, g = theta
    px = p * x
    return (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(m * x)
        + np.log(x)
        - (px + q) * np.log(g + m * x)
    )


def log_likelihood(params: GammaGammaParams, x, m) -> float:
    x, m = _validate(x, m)
    return float(np.sum(log_likelihood_per_row(params.as_array(), x, m)))


def _negative_ll_and_gradient(log_theta, x, m) -> tuple[float, np.ndarray]:
    theta = np.exp(log_theta)
    p, q, g = theta
    px = p * x
    ll = np.sum(log_likelihood_per_row(theta, x, m))
    mx = m * x
    dig = special.digamma(px + q)
    d_p = np.sum(x * (dig - special.digamma(px) + np.log(mx) - np.log(g + mx)))
    d_q = np.sum(dig - special.digamma(q) + np.log(g) - np.log(g + mx))
    d_g = np.sum(q / g - (px + q) / (g + mx))
    return -ll, -np.array([d_p, d_q, d_g]) * theta


def fit(x, m, *, start: GammaGammaParams | None = None, tol: float = 1e-12) -> GammaGammaFit:
    """Maximum-likelihood (p, q, γ) on repeat buyers; ``m`` is each one's mean repeat spend."""
    x, m = _validate(x, m)
    if x.size == 0:
        raise ValueError("no repeat buyers to fit")
    if start is None:
        start = GammaGammaParams(p=1.0, q=2.0, gamma=float(np.mean(m)))
    result = optimize.minimize(
        _negative_ll_and_gradient,
        np.log(start.as_array()),
        args=(x, m),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-12.0, 12.0), (-12.0, 12.0), (-12.0, 30.0)],
        options={"maxiter": 2000, "ftol": tol, "gtol": 1e-9},
    )
    p, q, g = np.exp(result.x)
    return GammaGammaFit(
        params=GammaGammaParams(float(p), float(q), float(g)),
        log_likelihood=float(-result.fun),
        n_customers=int(x.size),
        converged=bool(result.success),
        iterations=int(result.nit),
        message=str(result.message),
    )


def conditional_expected_spend(params: GammaGammaParams, x, m) -> np.ndarray:
    """E[value of the next transaction | x, m̄]; for x = 0 this is the population mean."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    p, q, g = params.as_array()
    return (g + m * x) * p / (p * x + q - 1)


def standard_errors(fit_result: GammaGammaFit, x, m) -> GammaGammaParams:
    """Asymptotic standard errors of (p, q, γ) from the observed information (see ``bgnbd``)."""
    from salesloop.analytics.clv.bgnbd import _inverse_hessian

    x, m = _validate(x, m)
    theta = fit_result.params.as_array()
    cov = _inverse_hessian(lambda z: _negative_ll_and_gradient(z, x, m)[1], np.log(theta))
    return GammaGammaParams(*(theta * np.sqrt(np.diag(cov))))


def simulate(params: GammaGammaParams, x, rng: np.random.Generator) -> np.ndarray:
    """Mean spend of ``x`` transactions per customer drawn from the model (for recovery tests)."""
    x = np.asarray(x, dtype=int)
    nu = rng.gamma(shape=params.q, scale=1.0 / params.gamma, size=x.size)
    # The sum of x Gamma(p, ν) draws is Gamma(p·x, ν).
    totals = rng.gamma(shape=params.p * x, scale=1.0 / nu)
    return totals / x
