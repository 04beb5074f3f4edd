"""BG/NBD and Gamma-Gamma against the published CDNOW results and simulated data.

Published (Fader, Hardie & Lee 2005): BG/NBD r = 0.243, α = 4.414, a = 0.793, b = 2.426 with
log-likelihood −9582.4 (eq. 6, time in weeks, 39-week calibration); Gamma-Gamma on the 946
repeat buyers p = 6.25, q = 3.74, γ = 15.44 ("RFM and CLV"); Hardie's worked
E[Y(39) | x = 2, tₓ = 30.43, T = 38.86] = 1.226. "Within rounding": our estimate rounds to the
printed digit.
"""

import numpy as np
import pytest

from salesloop.analytics.clv import bgnbd, gammagamma

PUBLISHED_BGNBD = bgnbd.BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)


def test_bgnbd_fit_on_cdnow_reproduces_the_published_estimates(cdnow):
    fit = bgnbd.fit(cdnow.x, cdnow.t_x, cdnow.T)

    assert fit.converged, fit.message
    assert fit.n_customers == 2357
    p = fit.params
    assert (round(p.r, 3), round(p.alpha, 3), round(p.a, 3), round(p.b, 3)) == (
        0.243,
        4.414,
        0.793,
        2.426,
    )
    assert round(fit.log_likelihood, 1) == -9582.4


def test_equation_6_at_the_published_estimates_gives_the_published_log_likelihood(cdnow):
    ll = bgnbd.log_likelihood(PUBLISHED_BGNBD, cdnow.x, cdnow.t_x, cdnow.T)

    assert round(ll, 1) == -9582.4


def test_hardies_worked_conditional_expectation():
    expected = bgnbd.conditional_expected_purchases(PUBLISHED_BGNBD, 39, [2.0], [30.43], [38.86])

    assert round(float(expected[0]), 3) == 1.226


def test_p_alive_is_one_without_repeat_purchases_and_falls_with_a_long_silence():
    p = bgnbd.p_alive(PUBLISHED_BGNBD, [0, 2, 2], [0, 30.43, 5.0], [38.86, 38.86, 38.86])

    assert p[0] == 1.0
    assert 0 < p[2] < p[1] < 1


def test_gamma_gamma_on_cdnow_repeat_buyers_reproduces_the_published_estimates(cdnow):
    x, spend = cdnow.repeat_buyers()

    fit = gammagamma.fit(x, spend)

    assert len(x) == 946
    p = fit.params
    assert (round(p.p, 2), round(p.q, 2), round(p.gamma, 2)) == (6.25, 3.74, 15.44)


def test_bgnbd_recovers_the_parameters_it_was_simulated_from():
    """20,000 customers from known (r, α, a, b), observed 26–52 weeks: the estimate lies within
    four standard errors of the truth, and the errors are small enough for that to mean
    something."""
    truth = bgnbd.BgNbdParams(r=0.35, alpha=5.0, a=0.7, b=2.8)
    rng = np.random.default_rng(20050101)
    T = rng.uniform(26, 52, size=20000).round(2)
    x, t_x = bgnbd.simulate(truth, T, rng)

    fit = bgnbd.fit(x, t_x, T)
    se = bgnbd.standard_errors(fit, x, t_x, T)

    for name in bgnbd.PARAMS:
        estimate, true, error = getattr(fit.params, name), getattr(truth, name), getattr(se, name)
        assert error < 0.2 * true, f"{name}: standard error {error:.3f} too large to test"
        assert abs(estimate - true) < 4 * error, (
            f"{name}: {estimate:.3f} vs {true} (SE {error:.3f})"
        )


def test_gamma_gamma_recovers_the_parameters_it_was_simulated_from():
    truth = gammagamma.GammaGammaParams(p=6.0, q=3.5, gamma=15.0)
    rng = np.random.default_rng(1999)
    x = rng.integers(1, 10, size=5000)
    spend = gammagamma.simulate(truth, x, rng)

    fit = gammagamma.fit(x, spend)
    se = gammagamma.standard_errors(fit, x, spend)

    for name in ("p", "q", "gamma"):
        estimate, true, error = getattr(fit.params, name), getattr(truth, name), getattr(se, name)
        assert error < 0.2 * true
        assert abs(estimate - true) < 4 * error, (
            f"{name}: {estimate:.3f} vs {true} (SE {error:.3f})"
        )


def test_simulated_mean_purchases_match_the_models_own_expectation():
    """E[X(t)] (eq. 9) against the average of 50,000 simulated customers observed for t = 39."""
    rng = np.random.default_rng(3)
    T = np.full(50000, 39.0)
    x, _t_x = bgnbd.simulate(PUBLISHED_BGNBD, T, rng)

    assert float(x.mean()) == pytest.approx(
        float(bgnbd.expected_purchases(PUBLISHED_BGNBD, 39.0)), rel=0.03
    )


@pytest.mark.parametrize(
    "x, t_x, T",
    [([-1], [0], [1]), ([1.5], [1], [2]), ([1], [3], [2]), ([0], [1], [2])],
    ids=["negative", "fractional", "t_x-after-T", "t_x-without-repeat"],
)
def test_impossible_histories_are_refused(x, t_x, T):
    with pytest.raises(ValueError):
        bgnbd.fit(x, t_x, T)
