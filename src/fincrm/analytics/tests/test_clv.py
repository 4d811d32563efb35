"""Tests for ``fincrm.analytics.clv`` (BG/NBD + Gamma-Gamma customer lifetime value).

Four kinds of evidence:

1. Published estimates on the CDNOW sample (Fader, Hardie & Lee 2005a/b), data vendored from
   the MIT-licensed ``lifetimes`` package (see ``data/README.txt``).
2. Parameter recovery on data simulated from known parameters, judged against the standard
   errors from the observed information matrix of the same fit.
3. Log-likelihoods written out by hand from the papers' closed forms (and, for BG/NBD, checked
   against direct numerical integration over the latent rate and drop-out probability).
4. Properties: P(alive) == 1 without repeats, monotonicity, discounting, input validation.
"""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.optimize import check_grad
from scipy.special import hyp2f1

from fincrm.analytics import clv as m

DATA = Path(__file__).parent / "data"

# Fader, Hardie & Lee (2005a), "Counting your customers the easy way".
CDNOW_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
CDNOW_BGNBD_LL = -9582.4
# Fader, Hardie & Lee (2005b) / Fader & Hardie (2013), gamma-gamma on the 946 repeaters.
CDNOW_GG = {"p": 6.25, "q": 3.74, "v": 15.44}


# --------------------------------------------------------------------------------------------
# fixtures and helpers
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cdnow():
    d = np.genfromtxt(
        DATA / "cdnow_customers_summary_with_transactions.csv", delimiter=",", names=True
    )
    return {"x": d["x"], "t_x": d["t_x"], "T": d["T"], "zbar": d["zbar"]}


@pytest.fixture(scope="module")
def cdnow_bgnbd(cdnow):
    return m.fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"])


def _log_params(params, names):
    return np.log([params[n] for n in names])


def _numerical_hessian(f, theta, h=1e-3):
    """Central-difference Hessian of a scalar function."""
    k = theta.size
    eye = np.eye(k) * h
    hess = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            hess[i, j] = hess[j, i] = (
                f(theta + eye[i] + eye[j])
                - f(theta + eye[i] - eye[j])
                - f(theta - eye[i] + eye[j])
                + f(theta - eye[i] - eye[j])
            ) / (4 * h * h)
    return hess


def _log_scale_standard_errors(loglik, fitted, names):
    """Standard errors of log(parameter) from the observed information at the MLE."""
    theta = _log_params(fitted, names)
    hess = _numerical_hessian(lambda lp: loglik(dict(zip(names, np.exp(lp), strict=True))), theta)
    return np.sqrt(np.diag(np.linalg.inv(-hess)))


def _simulate_bgnbd(rng, n, r, alpha, a, b, horizon):
    """Simulate BG/NBD customers; also return the counts in the ``horizon`` after ``T``.

    lambda ~ Gamma(r, rate alpha), p ~ Beta(a, b). Repeat purchases arrive as a Poisson process
    with rate lambda; after the j-th repeat purchase the customer drops out with probability p,
    so the customer makes at most J ~ Geometric(p) (support 1, 2, ...) repeat purchases in all.
    With N(T) Poisson arrivals in (0, T], x = min(N(T), J); given N(T) = n the arrival times are
    uniform order statistics, so the x-th one is T * Beta(x, n - x + 1).
    """
    age = rng.uniform(26.0, 78.0, n)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    n_obs = rng.poisson(lam * age)
    n_future = n_obs + rng.poisson(lam * horizon)
    j = rng.geometric(p)
    x = np.minimum(n_obs, j)
    t_x = np.zeros(n)
    rep = x > 0
    t_x[rep] = age[rep] * rng.beta(x[rep], n_obs[rep] - x[rep] + 1)
    future = np.minimum(n_future, j) - x
    alive = j > n_obs
    return x.astype(float), t_x, age, future.astype(float), alive


# --------------------------------------------------------------------------------------------
# 1. CDNOW: published estimates
# --------------------------------------------------------------------------------------------


def test_vendored_cdnow_files_agree():
    summary = np.genfromtxt(DATA / "cdnow_customers_summary.csv", delimiter=",", names=True)
    full = np.genfromtxt(
        DATA / "cdnow_customers_summary_with_transactions.csv", delimiter=",", names=True
    )
    assert summary.size == full.size == 2357
    np.testing.assert_array_equal(summary["frequency"], full["x"])
    np.testing.assert_array_equal(summary["recency"], full["t_x"])
    np.testing.assert_array_equal(summary["T"], full["T"])
    assert int((full["x"] > 0).sum()) == 946


def test_bgnbd_cdnow_matches_published_estimates(cdnow, cdnow_bgnbd):
    # Published to 3 decimals: allow the rounding (5e-4) plus as much again for optimiser slack.
    for name, published in CDNOW_BGNBD.items():
        assert cdnow_bgnbd[name] == pytest.approx(published, abs=1e-3), name
    ll = m.bgnbd_log_likelihood(cdnow_bgnbd, cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert ll == pytest.approx(CDNOW_BGNBD_LL, abs=0.1)
    # The published (rounded) point is no better than ours, and only just worse.
    ll_published = m.bgnbd_log_likelihood(CDNOW_BGNBD, cdnow["x"], cdnow["t_x"], cdnow["T"])
    assert ll_published <= ll + 1e-9
    assert ll - ll_published < 0.01


def test_bgnbd_fit_does_not_depend_on_starting_values(cdnow, cdnow_bgnbd):
    start = {"r": 2.0, "alpha": 0.5, "a": 0.1, "b": 10.0}
    other = m.fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"], initial=start)
    for name in m.BGNBD_PARAMS:
        assert other[name] == pytest.approx(cdnow_bgnbd[name], rel=1e-4)


def test_bgnbd_cdnow_conditional_expectation_matches_paper(cdnow_bgnbd):
    # Worked example in the BG/NBD paper: a customer with x=2, t_x=30.43, T=38.86 (weeks) is
    # expected to make 1.226 purchases in the next 39 weeks.
    assert m.expected_purchases(cdnow_bgnbd, 39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=1e-3)


def test_gamma_gamma_cdnow_matches_published_estimates(cdnow):
    fitted = m.fit_gamma_gamma(cdnow["x"], cdnow["zbar"])
    # Published to 3-4 significant figures.
    for name, published in CDNOW_GG.items():
        assert fitted[name] == pytest.approx(published, rel=2e-3), name
    ll = m.gamma_gamma_log_likelihood(fitted, cdnow["x"], cdnow["zbar"])
    ll_published = m.gamma_gamma_log_likelihood(CDNOW_GG, cdnow["x"], cdnow["zbar"])
    assert ll_published <= ll + 1e-9
    assert ll - ll_published < 0.01
    # Zero-frequency customers are ignored by the fit and the likelihood.
    rep = cdnow["x"] > 0
    assert m.gamma_gamma_log_likelihood(fitted, cdnow["x"][rep], cdnow["zbar"][rep]) == ll


def test_cdnow_clv_is_sane(cdnow, cdnow_bgnbd):
    gg = m.fit_gamma_gamma(cdnow["x"], cdnow["zbar"])
    weekly = 1.10 ** (1 / 52) - 1  # 10 % a year
    values = m.clv(
        cdnow_bgnbd,
        gg,
        cdnow["x"],
        cdnow["t_x"],
        cdnow["T"],
        cdnow["zbar"],
        horizon=52,
        discount_rate=weekly,
    )
    assert values.shape == (2357,)
    assert np.all(values > 0)
    # Bounded above by undiscounted purchases times expected spend.
    upper = m.expected_purchases(
        cdnow_bgnbd, 52, cdnow["x"], cdnow["t_x"], cdnow["T"]
    ) * m.expected_average_value(gg, cdnow["x"], cdnow["zbar"])
    assert np.all(values <= upper)
    assert np.all(values >= upper / 1.10)


# --------------------------------------------------------------------------------------------
# 2. Simulation: parameter recovery
# --------------------------------------------------------------------------------------------

# Tolerance: each estimate must lie within 4 standard errors of the truth, on the log scale
# where the fit is done and the MLE is closest to normal. The standard errors come from the
# observed information of the same fit, so the check adapts to how well each parameter is
# identified (with 5000 customers: about 3 % for r, 5 % for alpha, 11 % for a, 15 % for b,
# 10 % for p, 3 % for q, 14 % for v). Across 20 seeds the z-scores had mean ~0 and sd ~1, so
# 4 SE is a false-alarm rate of ~6e-5 per parameter; the fixed seed makes the test
# deterministic anyway. The SEs are also capped, so the check cannot pass vacuously.
Z_MAX = 4.0


def test_bgnbd_recovers_simulated_parameters():
    truth = {"r": 0.25, "alpha": 4.0, "a": 0.8, "b": 2.5}
    rng = np.random.default_rng(20050101)
    x, t_x, age, future, alive = _simulate_bgnbd(rng, 5000, **truth, horizon=26.0)
    fitted = m.fit_bgnbd(x, t_x, age)
    se = _log_scale_standard_errors(
        lambda params: m.bgnbd_log_likelihood(params, x, t_x, age), fitted, m.BGNBD_PARAMS
    )
    assert np.all(se < 0.25)
    z = (_log_params(fitted, m.BGNBD_PARAMS) - _log_params(truth, m.BGNBD_PARAMS)) / se
    assert np.all(np.abs(z) < Z_MAX), dict(zip(m.BGNBD_PARAMS, z, strict=True))

    # With the true parameters, predictions must match what the simulated customers did:
    # the mean of (outcome - prediction) is zero in expectation; allow 4 standard errors.
    def assert_calibrated(outcome, prediction):
        diff = outcome - prediction
        assert abs(diff.mean()) < Z_MAX * diff.std(ddof=1) / math.sqrt(diff.size)

    assert_calibrated(alive.astype(float), m.prob_alive(truth, x, t_x, age))
    assert_calibrated(future, m.expected_purchases(truth, 26.0, x, t_x, age))


def test_gamma_gamma_recovers_simulated_parameters():
    truth = {"p": 6.0, "q": 4.0, "v": 15.0}
    rng = np.random.default_rng(20130101)
    n = 5000
    x = 1.0 + rng.poisson(2.0, n)
    nu = rng.gamma(truth["q"], 1.0 / truth["v"], n)  # per-customer rate of spend
    # The mean of x Gamma(p, rate nu) transactions is Gamma(p x, rate nu x).
    monetary = rng.gamma(truth["p"] * x, 1.0 / (nu * x))
    # Zero-frequency customers (with any monetary value) must not change the fit.
    x_all = np.concatenate([x, np.zeros(100)])
    m_all = np.concatenate([monetary, np.zeros(100)])
    fitted = m.fit_gamma_gamma(x_all, m_all)
    se = _log_scale_standard_errors(
        lambda params: m.gamma_gamma_log_likelihood(params, x, monetary),
        fitted,
        m.GAMMA_GAMMA_PARAMS,
    )
    assert np.all(se < 0.25)
    z = (_log_params(fitted, m.GAMMA_GAMMA_PARAMS) - _log_params(truth, m.GAMMA_GAMMA_PARAMS)) / se
    assert np.all(np.abs(z) < Z_MAX), dict(zip(m.GAMMA_GAMMA_PARAMS, z, strict=True))
    # The population mean spend p v / (q - 1) is much better identified than p, q, v: 3 %.
    pop_mean = fitted["p"] * fitted["v"] / (fitted["q"] - 1)
    assert pop_mean == pytest.approx(truth["p"] * truth["v"] / (truth["q"] - 1), rel=0.03)


# --------------------------------------------------------------------------------------------
# 3. Likelihoods by hand
# --------------------------------------------------------------------------------------------

HAND_BGNBD = {"r": 0.7, "alpha": 3.0, "a": 1.4, "b": 2.2}
# (x, t_x, T): no repeat purchase, one repeat, several repeats.
HAND_CUSTOMERS = [(0, 0.0, 5.0), (1, 2.0, 5.0), (3, 4.5, 6.0)]


def _log_beta(p, q):
    return math.lgamma(p) + math.lgamma(q) - math.lgamma(p + q)


def _bgnbd_likelihood_by_hand(r, alpha, a, b, x, t_x, T):
    """Eq. 6 of Fader, Hardie & Lee (2005a), term by term with math.lgamma:

    L = B(a, b + x) / B(a, b) * Gamma(r + x) alpha^r / (Gamma(r) (alpha + T)^(r + x))
        + [x > 0] B(a + 1, b + x - 1) / B(a, b) * Gamma(r + x) alpha^r
          / (Gamma(r) (alpha + t_x)^(r + x))
    """
    gamma_part = math.exp(math.lgamma(r + x) - math.lgamma(r)) * alpha**r
    alive = math.exp(_log_beta(a, b + x) - _log_beta(a, b)) * gamma_part / (alpha + T) ** (r + x)
    dead = 0.0
    if x > 0:
        dead = (
            math.exp(_log_beta(a + 1, b + x - 1) - _log_beta(a, b))
            * gamma_part
            / (alpha + t_x) ** (r + x)
        )
    return alive + dead


def _bgnbd_likelihood_by_integration(r, alpha, a, b, x, t_x, T):
    """The individual likelihood before integrating out lambda and p, integrated numerically:

    L(lambda, p) = (1 - p)^x lambda^x e^(-lambda T) + [x > 0] p (1 - p)^(x - 1) lambda^x
    e^(-lambda t_x), averaged over lambda ~ Gamma(r, alpha) and p ~ Beta(a, b) (it factorises).
    """
    g = stats.gamma(r, scale=1 / alpha).pdf
    f = stats.beta(a, b).pdf
    opts = {"epsabs": 0, "epsrel": 1e-12, "limit": 200}

    def lam_moment(t):
        integrand = lambda lam: lam**x * math.exp(-lam * t) * g(lam)  # noqa: E731
        return integrate.quad(integrand, 0, np.inf, **opts)[0]

    alive = integrate.quad(lambda p: (1 - p) ** x * f(p), 0, 1, **opts)[0] * lam_moment(T)
    dead = 0.0
    if x > 0:
        dead = integrate.quad(lambda p: p * (1 - p) ** (x - 1) * f(p), 0, 1, **opts)[0]
        dead *= lam_moment(t_x)
    return alive + dead


@pytest.mark.parametrize("customer", HAND_CUSTOMERS)
def test_bgnbd_log_likelihood_matches_hand_computation(customer):
    x, t_x, T = customer
    expected = math.log(_bgnbd_likelihood_by_hand(*HAND_BGNBD.values(), x, t_x, T))
    got = m.bgnbd_log_likelihood(HAND_BGNBD, [x], [t_x], [T])
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)
    # The closed form itself, against the model's definition integrated numerically.
    integrated = math.log(_bgnbd_likelihood_by_integration(*HAND_BGNBD.values(), x, t_x, T))
    assert got == pytest.approx(integrated, abs=1e-7)


def test_bgnbd_log_likelihood_sums_customers():
    x, t_x, T = (np.array(col, dtype=float) for col in zip(*HAND_CUSTOMERS, strict=True))
    expected = sum(
        math.log(_bgnbd_likelihood_by_hand(*HAND_BGNBD.values(), *c)) for c in HAND_CUSTOMERS
    )
    assert m.bgnbd_log_likelihood(HAND_BGNBD, x, t_x, T) == pytest.approx(expected, abs=1e-9)
    # A sequence in (r, alpha, a, b) order is accepted too.
    assert m.bgnbd_log_likelihood(tuple(HAND_BGNBD.values()), x, t_x, T) == pytest.approx(
        expected, abs=1e-9
    )


def test_gamma_gamma_log_likelihood_matches_hand_computation():
    p, q, v = 2.5, 3.5, 12.0
    customers = [(1, 20.0), (2, 35.5), (5, 8.25)]
    expected = 0.0
    for x, mbar in customers:
        # Density of the mean of x Gamma(p, nu) values, nu ~ Gamma(q, v) integrated out.
        expected += (
            math.lgamma(p * x + q)
            - math.lgamma(p * x)
            - math.lgamma(q)
            + q * math.log(v)
            + (p * x - 1) * math.log(mbar)
            + p * x * math.log(x)
            - (p * x + q) * math.log(v + x * mbar)
        )
    x, mbar = (np.array(col) for col in zip(*customers, strict=True))
    got = m.gamma_gamma_log_likelihood({"p": p, "q": q, "v": v}, x, mbar)
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_analytic_gradients_match_finite_differences(cdnow):
    x, t_x, T, zbar = cdnow["x"], cdnow["t_x"], cdnow["T"], cdnow["zbar"]
    w = np.ones_like(x)
    theta = np.log([0.5, 3.0, 1.2, 2.0])
    err = check_grad(
        lambda lp: m._bgnbd_neg_ll_and_grad(lp, x, t_x, T, w)[0],
        lambda lp: m._bgnbd_neg_ll_and_grad(lp, x, t_x, T, w)[1],
        theta,
    )
    assert err < 1e-6
    rep = x > 0
    err = check_grad(
        lambda lp: m._gg_neg_ll_and_grad(lp, x[rep], zbar[rep])[0],
        lambda lp: m._gg_neg_ll_and_grad(lp, x[rep], zbar[rep])[1],
        np.log([3.0, 2.0, 10.0]),
    )
    assert err < 1e-6


# --------------------------------------------------------------------------------------------
# 4. Properties
# --------------------------------------------------------------------------------------------


def test_prob_alive_is_one_without_repeat_purchases(cdnow, cdnow_bgnbd):
    x, t_x, T = cdnow["x"], cdnow["t_x"], cdnow["T"]
    alive = m.prob_alive(cdnow_bgnbd, x, t_x, T)
    assert np.all(alive[x == 0] == 1.0)
    assert np.all((alive[x > 0] > 0) & (alive[x > 0] < 1))
    assert m.prob_alive(cdnow_bgnbd, 0, 0.0, 30.0) == 1.0
    # A long silence since the last purchase lowers P(alive).
    assert m.prob_alive(cdnow_bgnbd, 3, 35.0, 38.0) > m.prob_alive(cdnow_bgnbd, 3, 5.0, 38.0)


def test_expected_purchases_increases_with_horizon(cdnow_bgnbd):
    customers = [(0, 0.0, 30.0), (2, 30.43, 38.86), (7, 10.0, 38.0)]
    horizons = np.array([0.0, 0.5, 1.0, 4.0, 13.0, 26.0, 52.0, 104.0, 520.0])
    for x, t_x, T in customers:
        n = horizons.size
        values = m.expected_purchases(
            cdnow_bgnbd, horizons, np.full(n, x), np.full(n, t_x), np.full(n, T)
        )
        assert values[0] == 0.0
        assert np.all(np.diff(values) > 0), (x, values)


def test_expected_purchases_initial_slope_is_alive_times_posterior_rate(cdnow_bgnbd):
    # d/dt E[Y(t)] at t=0 is P(alive) * E[lambda | data] = P(alive) * (r + x) / (alpha + T).
    r, alpha = cdnow_bgnbd["r"], cdnow_bgnbd["alpha"]
    for x, t_x, T in [(0, 0.0, 30.0), (2, 30.43, 38.86), (7, 10.0, 38.0)]:
        h = 1e-6
        slope = m.expected_purchases(cdnow_bgnbd, h, x, t_x, T) / h
        expected = m.prob_alive(cdnow_bgnbd, x, t_x, T) * (r + x) / (alpha + T)
        assert slope == pytest.approx(expected, rel=1e-4)


def test_expected_purchases_matches_literal_eq10(cdnow, cdnow_bgnbd):
    # The module evaluates eq. 10 through Euler's transformation of 2F1; check it against eq. 10
    # exactly as printed in the paper on all CDNOW customers, where the literal form is
    # well-conditioned.
    r, alpha, a, b = (cdnow_bgnbd[k] for k in m.BGNBD_PARAMS)
    x, t_x, T = cdnow["x"], cdnow["t_x"], cdnow["T"]
    t = 39.0
    z = t / (alpha + T + t)
    bracket = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(
        r + x, b + x, a + b + x - 1, z
    )
    expected = (a + b + x - 1) / (a - 1) * bracket * m.prob_alive(cdnow_bgnbd, x, t_x, T)
    np.testing.assert_allclose(m.expected_purchases(cdnow_bgnbd, t, x, t_x, T), expected, rtol=1e-9)


@pytest.mark.parametrize(
    ("customer", "reference"),
    [
        ((500, 269.0, 270.0, 3650.0), 1676.7119328112758),
        ((500, 10.0, 270.0, 3650.0), 1.8875921439941745e-432),  # underflows to 0.0
        ((0, 0.0, 270.0, 3650.0), 1.5224695351770465),
        ((20, 200.0, 270.0, 36500.0), 19.233803389815377),
    ],
)
def test_expected_purchases_is_stable_for_extreme_customers(customer, reference):
    # Daily-scale data with a very frequent customer and long horizons, where the literal
    # eq. 10 evaluates 0 * inf. References: eq. 10 in 50-digit arithmetic (mpmath.hyp2f1).
    x, t_x, T, t = customer
    params = {"r": 0.25, "alpha": 30.0, "a": 0.8, "b": 2.5}
    got = m.expected_purchases(params, t, x, t_x, T)
    assert math.isfinite(got)
    assert got == pytest.approx(reference, rel=1e-9, abs=1e-300)


def test_expected_average_value_shrinks_towards_population_mean():
    gg = {"p": 6.0, "q": 4.0, "v": 15.0}
    population = gg["p"] * gg["v"] / (gg["q"] - 1)  # 30
    assert m.expected_average_value(gg, 0, 0.0) == pytest.approx(population)
    assert m.expected_average_value(gg, 0, 99.0) == pytest.approx(population)
    for x in (1, 3, 30):
        for spend in (5.0, 300.0):
            value = m.expected_average_value(gg, x, spend)
            assert min(population, spend) < value < max(population, spend)
    # More transactions -> more weight on the customer's own average.
    assert m.expected_average_value(gg, 30, 300.0) > m.expected_average_value(gg, 1, 300.0)


def test_clv_decreases_with_discount_rate(cdnow, cdnow_bgnbd):
    gg = CDNOW_GG
    idx = slice(0, 200)
    args = (cdnow["x"][idx], cdnow["t_x"][idx], cdnow["T"][idx], cdnow["zbar"][idx])
    rates = [0.0, 0.001, 0.005, 0.02, 0.1]
    values = [m.clv(cdnow_bgnbd, gg, *args, horizon=52, discount_rate=d) for d in rates]
    for higher, lower in itertools.pairwise(values):
        assert np.all(lower < higher)


def test_clv_without_discounting_is_purchases_times_value(cdnow_bgnbd):
    gg = CDNOW_GG
    x = np.array([0, 2, 7])
    t_x = np.array([0, 30.43, 10])
    T = np.array([30, 38.86, 38])
    spend = np.array([0, 22.35, 40.0])
    expected = m.expected_purchases(cdnow_bgnbd, 52, x, t_x, T) * m.expected_average_value(
        gg, x, spend
    )
    for step in (1, 4, 5, 52):  # 5 does not divide 52: the last step is shorter
        got = m.clv(cdnow_bgnbd, gg, x, t_x, T, spend, horizon=52, discount_rate=0.0, step=step)
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_clv_single_step_discounts_at_the_horizon(cdnow_bgnbd):
    gg = CDNOW_GG
    undiscounted = m.clv(cdnow_bgnbd, gg, 2, 30.43, 38.86, 22.35, horizon=10, discount_rate=0.0)
    one_step = m.clv(
        cdnow_bgnbd, gg, 2, 30.43, 38.86, 22.35, horizon=10, discount_rate=0.01, step=10
    )
    assert isinstance(one_step, float)
    assert one_step == pytest.approx(undiscounted / 1.01**10, rel=1e-12)


GOOD = {"frequency": [0, 2], "recency": [0.0, 3.0], "T": [5.0, 5.0], "monetary": [0.0, 10.0]}
BAD_INPUTS = [
    ({"frequency": [0, 2, 1]}, "same length"),
    ({"frequency": [-1, 2]}, "non-negative"),
    ({"frequency": [0, 2.5]}, "integer"),
    ({"recency": [0.0, 6.0]}, "recency must be <= T"),
    ({"recency": [-1.0, 3.0]}, "recency must be non-negative"),
    ({"T": [-5.0, 5.0], "recency": [-6.0, 3.0]}, "non-negative"),
    ({"T": [5.0, np.nan]}, "NaN"),
    ({"T": [[5.0, 5.0]]}, "1-D"),
    ({"frequency": ["a", "b"]}, "numeric"),
]


@pytest.mark.parametrize(("change", "message"), BAD_INPUTS)
def test_bad_customer_summary_raises(cdnow_bgnbd, change, message):
    data = {**GOOD, **change}
    rfm = (data["frequency"], data["recency"], data["T"])
    with pytest.raises(ValueError, match=message):
        m.bgnbd_log_likelihood(cdnow_bgnbd, *rfm)
    with pytest.raises(ValueError, match=message):
        m.fit_bgnbd(*rfm)
    with pytest.raises(ValueError, match=message):
        m.prob_alive(cdnow_bgnbd, *rfm)
    with pytest.raises(ValueError, match=message):
        m.expected_purchases(cdnow_bgnbd, 10, *rfm)
    with pytest.raises(ValueError, match=message):
        m.clv(cdnow_bgnbd, CDNOW_GG, *rfm, data["monetary"], horizon=10, discount_rate=0.01)


@pytest.mark.parametrize(
    ("monetary", "message"),
    [
        ([0.0, 0.0], "> 0 for customers with frequency > 0"),
        ([-1.0, 10.0], "non-negative"),
        ([10.0], "same length"),
    ],
)
def test_bad_monetary_raises(monetary, message):
    with pytest.raises(ValueError, match=message):
        m.fit_gamma_gamma(GOOD["frequency"], monetary)
    with pytest.raises(ValueError, match=message):
        m.gamma_gamma_log_likelihood(CDNOW_GG, GOOD["frequency"], monetary)
    with pytest.raises(ValueError, match=message):
        m.expected_average_value(CDNOW_GG, GOOD["frequency"], monetary)


def test_bad_parameters_and_options_raise(cdnow_bgnbd):
    rfm = (GOOD["frequency"], GOOD["recency"], GOOD["T"])
    with pytest.raises(ValueError, match="'alpha' must be finite and > 0"):
        m.prob_alive({**cdnow_bgnbd, "alpha": -1.0}, *rfm)
    with pytest.raises(ValueError, match="missing"):
        m.prob_alive({"r": 1.0, "alpha": 1.0, "a": 1.0}, *rfm)
    with pytest.raises(ValueError, match="4 values"):
        m.bgnbd_log_likelihood((1.0, 2.0, 3.0), *rfm)
    with pytest.raises(ValueError, match="t must be non-negative"):
        m.expected_purchases(cdnow_bgnbd, -1.0, *rfm)
    with pytest.raises(ValueError, match="one value per customer"):
        m.expected_purchases(cdnow_bgnbd, [1.0, 2.0, 3.0], *rfm)
    with pytest.raises(ValueError, match="q > 1"):
        m.expected_average_value({"p": 1.0, "q": 0.5, "v": 1.0}, [1], [10.0])
    with pytest.raises(ValueError, match="frequency > 0"):
        m.fit_gamma_gamma([0, 0], [0.0, 0.0])
    with pytest.raises(ValueError, match="empty"):
        m.fit_bgnbd([], [], [])
    for option, message in [
        ({"horizon": 0}, "horizon"),
        ({"discount_rate": -0.1}, "discount_rate"),
        ({"step": 0}, "step"),
        ({"horizon": math.inf}, "horizon"),
    ]:
        kwargs = {"horizon": 10, "discount_rate": 0.01, **option}
        with pytest.raises(ValueError, match=message):
            m.clv(cdnow_bgnbd, CDNOW_GG, *rfm, GOOD["monetary"], **kwargs)


def test_module_does_not_import_django_or_other_apps():
    code = (
        "import sys, fincrm.analytics.clv; "
        "bad = [n for n in sys.modules if n == 'django' or n.startswith('django.') "
        "or (n.startswith('fincrm.') and not n.startswith('fincrm.analytics'))]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_penalty_keeps_a_book_of_one_time_borrowers_finite():
    # 300 clients, only 20 of whom ever repeated: the plain fit runs off to huge a and b.
    rng = np.random.default_rng(3)
    frequency = np.r_[np.zeros(280), rng.integers(1, 3, 20)].astype(float)
    T = rng.uniform(5, 100, 300)
    recency = np.where(frequency > 0, T * rng.uniform(0.2, 0.9, 300), 0.0)
    params = m.fit_bgnbd(frequency, recency, T, penalizer=0.01)
    assert all(np.isfinite(list(params.values())))
    assert params["a"] < 100 and params["b"] < 100
    expected = m.expected_purchases(params, 52, frequency, recency, T)
    assert np.all(np.isfinite(expected)) and np.all(expected >= 0)
    plain = m.fit_bgnbd(frequency, recency, T)
    # The penalty only trades a little likelihood for it.
    ll = m.bgnbd_log_likelihood(params, frequency, recency, T)
    assert ll <= m.bgnbd_log_likelihood(plain, frequency, recency, T) + 1e-9
    with pytest.raises(ValueError):
        m.fit_bgnbd(frequency, recency, T, penalizer=-1)
