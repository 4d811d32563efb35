"""Customer lifetime value: BG/NBD purchase counts times Gamma-Gamma spend.

Pure NumPy/SciPy, no Django. Two probability models are fitted by maximum likelihood to a
per-customer summary and combined into a discounted expected CLV:

* **BG/NBD** (Fader, Hardie & Lee 2005, "'Counting Your Customers' the Easy Way: An Alternative
  to the Pareto/NBD Model", *Marketing Science* 24(2)): while alive a customer transacts as a
  Poisson process with rate ``lambda ~ Gamma(r, alpha)`` (shape ``r``, rate ``alpha``); after
  each repeat transaction they drop out for good with probability ``p ~ Beta(a, b)``.
* **Gamma-Gamma** (Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value Curves for Customer
  Base Analysis", *Journal of Marketing Research* 42(4); Fader & Hardie 2013, "The Gamma-Gamma
  Model of Monetary Value"): each transaction value is ``Gamma(p, nu)`` with the customer's
  ``nu ~ Gamma(q, v)``, independent of the transaction process.

Data convention (the one used by the papers and by the ``lifetimes`` package)
---------------------------------------------------------------------------
For each customer, with time measured from their *first* transaction:

``frequency`` (``x``)
    Number of *repeat* transactions (total transactions minus one). Integer-valued, >= 0.
``recency`` (``t_x``)
    Time of the last repeat transaction; 0 when ``frequency == 0``. ``0 <= recency <= T``.
``T``
    Age of the customer: time from the first transaction to the end of the observation window.
``monetary`` (``m``)
    Average value of the *repeat* transactions (currency units, e.g. CNY); ignored where
    ``frequency == 0``.

``recency``, ``T``, the BG/NBD ``alpha`` and every horizon ``t`` share one time unit of the
caller's choosing (days, weeks, months...); ``alpha`` is then in that unit and ``lambda`` is
transactions per unit. Discount rates are per unit too. ``monetary``, the Gamma-Gamma ``v`` and
all values returned by :func:`expected_average_value` and :func:`clv` share a currency unit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import digamma, expit, gammaln, hyp2f1

__all__ = [
    "bgnbd_log_likelihood",
    "clv",
    "expected_average_value",
    "expected_purchases",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "gamma_gamma_log_likelihood",
    "prob_alive",
]

BGNBD_PARAMS: tuple[str, ...] = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMS: tuple[str, ...] = ("p", "q", "v")

ParamsLike = Mapping[str, float] | Sequence[float] | np.ndarray


# --------------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------------


def _params(params: ParamsLike, names: tuple[str, ...], model: str) -> tuple[float, ...]:
    """Return the model parameters as positive floats in ``names`` order."""
    if isinstance(params, Mapping):
        missing = [n for n in names if n not in params]
        if missing:
            raise ValueError(f"{model} parameters are missing {missing}; expected keys {names}")
        values = [params[n] for n in names]
    else:
        values = list(np.asarray(params, dtype=float).ravel())
        if len(values) != len(names):
            raise ValueError(
                f"{model} parameters must have {len(names)} values {names}, got {len(values)}"
            )
    out = []
    for name, value in zip(names, values, strict=True):
        value = float(value)
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"{model} parameter {name!r} must be finite and > 0, got {value}")
        out.append(value)
    return tuple(out)


def _array(value: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from exc
    if arr.ndim > 1:
        raise ValueError(f"{name} must be a scalar or a 1-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def _same_shape(arrays: dict[str, np.ndarray]) -> None:
    shapes = {name: arr.shape for name, arr in arrays.items()}
    if len(set(shapes.values())) > 1:
        detail = ", ".join(f"{n}: {s[0] if s else 'scalar'}" for n, s in shapes.items())
        raise ValueError(f"inputs must all have the same length ({detail})")


def _rfm(frequency: Any, recency: Any, T: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate a frequency/recency/T summary and return it as float arrays."""
    x = _array(frequency, "frequency")
    t_x = _array(recency, "recency")
    age = _array(T, "T")
    _same_shape({"frequency": x, "recency": t_x, "T": age})
    if np.any(x < 0):
        raise ValueError("frequency must be non-negative (it counts repeat transactions)")
    if np.any(x != np.round(x)):
        raise ValueError("frequency must be integer-valued (number of repeat transactions)")
    if np.any(t_x < 0):
        raise ValueError("recency must be non-negative")
    if np.any(age < 0):
        raise ValueError("T must be non-negative")
    if np.any(t_x > age):
        bad = int(np.flatnonzero(np.atleast_1d(t_x > age))[0])
        raise ValueError(
            f"recency must be <= T for every customer (first violation at index {bad}: "
            f"recency={np.atleast_1d(t_x)[bad]}, T={np.atleast_1d(age)[bad]})"
        )
    return x, t_x, age


def _monetary(frequency: Any, monetary: Any) -> tuple[np.ndarray, np.ndarray]:
    x = _array(frequency, "frequency")
    m = _array(monetary, "monetary")
    _same_shape({"frequency": x, "monetary": m})
    if np.any(x < 0):
        raise ValueError("frequency must be non-negative (it counts repeat transactions)")
    if np.any(x != np.round(x)):
        raise ValueError("frequency must be integer-valued (number of repeat transactions)")
    if np.any(m < 0):
        raise ValueError("monetary must be non-negative")
    if np.any((x > 0) & (m <= 0)):
        raise ValueError("monetary must be > 0 for customers with frequency > 0")
    return x, m


def _scalar_or_array(value: np.ndarray) -> np.ndarray | float:
    return float(value) if value.ndim == 0 else value


def _initial(initial: ParamsLike | None, names: tuple[str, ...], model: str) -> np.ndarray:
    if initial is None:
        return np.zeros(len(names))  # all parameters 1.0
    return np.log(np.array(_params(initial, names, model)))


def _minimize(fun, x0: np.ndarray, model: str) -> np.ndarray:
    """Minimise ``fun(log_params) -> (value, gradient)``; raise if it clearly failed."""
    result = minimize(fun, x0, jac=True, method="BFGS", options={"gtol": 1e-8, "maxiter": 2000})
    # BFGS often reports "precision loss" at an optimum; accept when the gradient is tiny.
    if not result.success and not np.max(np.abs(result.jac)) < 1e-4:
        raise RuntimeError(f"{model} fit did not converge: {result.message}")
    if not np.all(np.isfinite(result.x)) or np.any(np.abs(result.x) > 30):
        raise RuntimeError(
            f"{model} fit diverged (parameters {np.exp(result.x)}); the data may not identify "
            "the model"
        )
    return result.x


# --------------------------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------------------------


def _bgnbd_terms(r, alpha, a, b, x, t_x, age):
    """Per-customer log-likelihood pieces: ``ll = A1 + A2 + log(exp(A3) + [x>0] exp(A4))``."""
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + age)
    repeat = x > 0
    # log(a / (b + x - 1)) is only meaningful for x > 0; use a harmless placeholder elsewhere.
    a4 = np.where(
        repeat,
        np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return a1, a2, a3, a4, repeat


def _bgnbd_individual_ll(r, alpha, a, b, x, t_x, age) -> np.ndarray:
    a1, a2, a3, a4, _ = _bgnbd_terms(r, alpha, a, b, x, t_x, age)
    return a1 + a2 + np.logaddexp(a3, a4)


def bgnbd_log_likelihood(params: ParamsLike, frequency: Any, recency: Any, T: Any) -> float:
    """Total BG/NBD log-likelihood of a customer summary (Fader, Hardie & Lee 2005).

    Per customer::

        L = B(a, b + x) / B(a, b) * Gamma(r + x) alpha**r / (Gamma(r) (alpha + T)**(r + x))
            + [x > 0] * B(a + 1, b + x - 1) / B(a, b)
              * Gamma(r + x) alpha**r / (Gamma(r) (alpha + t_x)**(r + x))

    evaluated in log space (``gammaln``, ``logaddexp``).

    Parameters
    ----------
    params : mapping or sequence
        ``{"r", "alpha", "a", "b"}`` or the four values in that order, all > 0. ``alpha`` is in
        the time unit of ``recency`` and ``T``.
    frequency, recency, T : array_like
        Repeat transactions, time of the last repeat transaction and customer age (see the
        module docstring); same length, same time unit.

    Returns
    -------
    float
        Sum over customers of the log-likelihood (natural log).
    """
    r, alpha, a, b = _params(params, BGNBD_PARAMS, "BG/NBD")
    x, t_x, age = _rfm(frequency, recency, T)
    return float(np.sum(_bgnbd_individual_ll(r, alpha, a, b, x, t_x, age)))


def _bgnbd_neg_ll_and_grad(log_params, x, t_x, age, weights):
    r, alpha, a, b = np.exp(log_params)
    a1, a2, a3, a4, _ = _bgnbd_terms(r, alpha, a, b, x, t_x, age)
    tail = np.logaddexp(a3, a4)
    ll = a1 + a2 + tail
    w = np.exp(a4 - tail)  # share of the "dropped out after the last repeat" branch
    log_at = np.log(alpha + age)
    log_atx = np.log(alpha + t_x)
    d_r = digamma(r + x) - digamma(r) + np.log(alpha) - (1 - w) * log_at - w * log_atx
    d_alpha = r / alpha - (r + x) * ((1 - w) / (alpha + age) + w / (alpha + t_x))
    d_ab = digamma(a + b) - digamma(a + b + x)
    d_a = d_ab + w / a
    bx1 = np.where(x > 0, b + x - 1, 1.0)
    d_b = d_ab + digamma(b + x) - digamma(b) - w / bx1
    total = weights.sum()
    value = -np.dot(weights, ll) / total
    grad = np.array([np.dot(weights, d) for d in (d_r, d_alpha, d_a, d_b)])
    grad *= -np.array([r, alpha, a, b]) / total  # chain rule to log-parameters
    return value, grad


def fit_bgnbd(
    frequency: Any,
    recency: Any,
    T: Any,
    *,
    initial: ParamsLike | None = None,
    penalizer: float = 0.0,
) -> dict[str, float]:
    """Fit the BG/NBD model by maximum likelihood.

    The log-likelihood (see :func:`bgnbd_log_likelihood`) is maximised over the logarithms of
    the parameters with BFGS and an analytic gradient. Identical (frequency, recency, T) rows
    are collapsed and weighted, so large customer bases with coarse time grids fit quickly.

    Parameters
    ----------
    frequency : array_like of int
        Number of repeat transactions per customer (>= 0).
    recency : array_like of float
        Time of each customer's last repeat transaction since their first (0 if none).
    T : array_like of float
        Customer age at the end of the observation window, in the same time unit.
    initial : mapping or sequence, optional
        Starting values ``{"r", "alpha", "a", "b"}``; defaults to all ones.
    penalizer : float, default 0
        L2 penalty ``penalizer · Σ θ²`` added to the mean negative log-likelihood (as the
        ``lifetimes`` package's ``penalizer_coef``). On books where few clients ever repeat,
        the unpenalised optimum drifts to huge ``a`` and ``b`` (a drop-out probability known
        exactly), where the expectations overflow; a small penalty (0.001–0.1) keeps them
        finite. 0 gives the plain maximum-likelihood fit of the papers.

    Returns
    -------
    dict
        ``{"r", "alpha", "a", "b"}``. ``r`` and ``alpha`` are the shape and rate of the gamma
        distribution of transaction rates (mean rate ``r / alpha`` transactions per time unit);
        ``a`` and ``b`` are the beta parameters of the drop-out probability (mean
        ``a / (a + b)`` per transaction).

    Raises
    ------
    ValueError
        On invalid inputs (see module docstring).
    RuntimeError
        If the optimiser fails to converge.
    """
    x, t_x, age = _rfm(frequency, recency, T)
    x, t_x, age = np.atleast_1d(x), np.atleast_1d(t_x), np.atleast_1d(age)
    if x.size == 0:
        raise ValueError("cannot fit BG/NBD to an empty data set")
    rows, counts = np.unique(np.column_stack([x, t_x, age]), axis=0, return_counts=True)
    args = (rows[:, 0], rows[:, 1], rows[:, 2], counts.astype(float))
    if not (math.isfinite(penalizer) and penalizer >= 0):
        raise ValueError(f"penalizer must be finite and >= 0, got {penalizer}")

    def objective(lp):
        value, grad = _bgnbd_neg_ll_and_grad(lp, *args)
        params = np.exp(lp)
        return value + penalizer * np.sum(params**2), grad + 2 * penalizer * params**2

    log_params = _minimize(objective, _initial(initial, BGNBD_PARAMS, "BG/NBD"), "BG/NBD")
    return dict(zip(BGNBD_PARAMS, (float(v) for v in np.exp(log_params)), strict=True))


def prob_alive(params: ParamsLike, frequency: Any, recency: Any, T: Any) -> np.ndarray | float:
    """Probability that each customer is still alive at age ``T`` (BG/NBD).

    ``P(alive) = 1 / (1 + [x > 0] * a / (b + x - 1) * ((alpha + T) / (alpha + t_x))**(r + x))``;
    it is 1 for customers without repeat transactions because, in the BG/NBD model, drop-out
    can only happen right after a repeat transaction.

    Parameters
    ----------
    params : mapping or sequence
        Fitted BG/NBD parameters (see :func:`fit_bgnbd`).
    frequency, recency, T : array_like
        Customer summary in the same time unit as the one used for fitting.

    Returns
    -------
    ndarray or float
        Probabilities in [0, 1], one per customer (a float for scalar inputs).
    """
    r, alpha, a, b = _params(params, BGNBD_PARAMS, "BG/NBD")
    x, t_x, age = _rfm(frequency, recency, T)
    repeat = x > 0
    log_odds_dead = (
        np.log(a)
        - np.log(np.where(repeat, b + x - 1, 1.0))
        + (r + x) * (np.log(alpha + age) - np.log(alpha + t_x))
    )
    p = np.where(repeat, expit(-log_odds_dead), 1.0)
    return _scalar_or_array(np.asarray(p, dtype=float))


def expected_purchases(
    params: ParamsLike, t: Any, frequency: Any, recency: Any, T: Any
) -> np.ndarray | float:
    """Expected number of transactions in the next ``t`` time units (eq. 10 of the BG/NBD paper).

    ``E[Y(t) | x, t_x, T] = (a + b + x - 1) / (a - 1)
    * [1 - ((alpha + T) / (alpha + T + t))**(r + x) * 2F1(r + x, b + x; a + b + x - 1; z)]
    / (1 + [x > 0] * a / (b + x - 1) * ((alpha + T) / (alpha + t_x))**(r + x))``
    with ``z = t / (alpha + T + t)``, evaluated through Euler's transformation of ``2F1`` for
    numerical stability.

    Parameters
    ----------
    params : mapping or sequence
        Fitted BG/NBD parameters (see :func:`fit_bgnbd`). ``a == 1`` exactly is a removable
        singularity of the closed form and is not supported.
    t : float or array_like
        Forecast horizon(s) in the model's time unit, >= 0; a scalar or one per customer.
    frequency, recency, T : array_like
        Customer summary in the same time unit as the one used for fitting.

    Returns
    -------
    ndarray or float
        Expected repeat transactions in ``(T, T + t]``, one per customer.
    """
    r, alpha, a, b = _params(params, BGNBD_PARAMS, "BG/NBD")
    if a == 1.0:
        raise ValueError("expected_purchases is undefined for a == 1 exactly")
    x, t_x, age = _rfm(frequency, recency, T)
    horizon = _array(t, "t")
    if horizon.ndim == 1 and horizon.shape != x.shape:
        raise ValueError(
            f"t must be a scalar or have one value per customer ({horizon.shape[0]} != "
            f"{x.shape[0] if x.ndim else 'scalar'})"
        )
    if np.any(horizon < 0):
        raise ValueError("t must be non-negative")
    z = horizon / (alpha + age + horizon)
    log_ratio = np.log(alpha + age) - np.log(alpha + age + horizon)  # log(1 - z)
    # Euler's transformation 2F1(A, B; C; z) = (1 - z)**(C - A - B) 2F1(C - A, C - B; C; z)
    # turns (1 - z)**(r + x) 2F1(r + x, b + x; a + b + x - 1; z) into
    # (1 - z)**(a - 1) 2F1(a + b - r - 1, a - 1; a + b + x - 1; z): the same value, but it
    # avoids 0 * inf for frequent customers over long horizons (the literal form overflows).
    bracket = 1.0 - np.exp((a - 1) * log_ratio) * hyp2f1(a + b - r - 1, a - 1, a + b + x - 1, z)
    alive = np.asarray(prob_alive((r, alpha, a, b), x, t_x, age), dtype=float)
    out = (a + b + x - 1) / (a - 1) * bracket * alive
    return _scalar_or_array(np.asarray(out, dtype=float))


# --------------------------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------------------------


def _gg_individual_ll(p, q, v, x, m) -> np.ndarray:
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + x * m)
    )


def gamma_gamma_log_likelihood(params: ParamsLike, frequency: Any, monetary: Any) -> float:
    """Total Gamma-Gamma log-likelihood of the average spends of repeat customers.

    Customer ``i`` with ``x`` repeat transactions of average value ``m`` contributes the
    log-density of ``m`` (Fader & Hardie 2013)::

        log[ Gamma(px + q) / (Gamma(px) Gamma(q))
             * v**q * m**(px - 1) * x**(px) / (v + x m)**(px + q) ]

    Customers with ``frequency == 0`` carry no spend information and are skipped.

    Parameters
    ----------
    params : mapping or sequence
        ``{"p", "q", "v"}`` or the three values in that order, all > 0.
    frequency : array_like of int
        Number of repeat transactions (>= 0).
    monetary : array_like of float
        Average value of the repeat transactions, in currency units (> 0 where frequency > 0).

    Returns
    -------
    float
        Sum of the log-likelihood over customers with ``frequency > 0``.
    """
    p, q, v = _params(params, GAMMA_GAMMA_PARAMS, "Gamma-Gamma")
    x, m = _monetary(frequency, monetary)
    keep = x > 0
    return float(np.sum(_gg_individual_ll(p, q, v, x[keep], m[keep])))


def _gg_neg_ll_and_grad(log_params, x, m):
    p, q, v = np.exp(log_params)
    px = p * x
    ll = _gg_individual_ll(p, q, v, x, m)
    log_vxm = np.log(v + x * m)
    psi_pxq = digamma(px + q)
    d_p = x * (psi_pxq - digamma(px) + np.log(m) + np.log(x) - log_vxm)
    d_q = psi_pxq - digamma(q) + np.log(v) - log_vxm
    d_v = q / v - (px + q) / (v + x * m)
    n = x.size
    grad = -np.array([d_p.sum(), d_q.sum(), d_v.sum()]) * np.array([p, q, v]) / n
    return -ll.sum() / n, grad


def fit_gamma_gamma(
    frequency: Any, monetary: Any, *, initial: ParamsLike | None = None
) -> dict[str, float]:
    """Fit the Gamma-Gamma spend model by maximum likelihood on customers with frequency > 0.

    Parameters
    ----------
    frequency : array_like of int
        Number of repeat transactions per customer (>= 0); zero-frequency rows are ignored.
    monetary : array_like of float
        Average value of each customer's repeat transactions, in currency units.
    initial : mapping or sequence, optional
        Starting values ``{"p", "q", "v"}``; defaults to all ones.

    Returns
    -------
    dict
        ``{"p", "q", "v"}``: transaction values are ``Gamma(shape p, rate nu)`` and
        ``nu ~ Gamma(shape q, rate v)``, so ``v`` is in currency units and the population mean
        transaction value is ``p * v / (q - 1)`` (for ``q > 1``).

    Notes
    -----
    The model assumes spend is independent of the transaction process; check that the
    correlation between ``frequency`` and ``monetary`` is weak before relying on it.
    """
    x, m = _monetary(frequency, monetary)
    keep = np.atleast_1d(x > 0)
    x, m = np.atleast_1d(x)[keep], np.atleast_1d(m)[keep]
    if x.size == 0:
        raise ValueError("fit_gamma_gamma needs at least one customer with frequency > 0")
    log_params = _minimize(
        lambda lp: _gg_neg_ll_and_grad(lp, x, m),
        _initial(initial, GAMMA_GAMMA_PARAMS, "Gamma-Gamma"),
        "Gamma-Gamma",
    )
    return dict(zip(GAMMA_GAMMA_PARAMS, (float(v) for v in np.exp(log_params)), strict=True))


def expected_average_value(params: ParamsLike, frequency: Any, monetary: Any) -> np.ndarray | float:
    """Conditional expected average transaction value (Gamma-Gamma).

    ``E[M | p, q, v, m, x] = p (v + x m) / (p x + q - 1)``, a weighted average of the population
    mean ``p v / (q - 1)`` and the customer's observed average ``m``. Customers with
    ``frequency == 0`` get the population mean.

    Parameters
    ----------
    params : mapping or sequence
        Fitted Gamma-Gamma parameters (see :func:`fit_gamma_gamma`); requires ``q > 1``.
    frequency : array_like of int
        Number of repeat transactions (>= 0).
    monetary : array_like of float
        Average value of the repeat transactions, in currency units.

    Returns
    -------
    ndarray or float
        Expected value per future transaction, in the currency unit of ``monetary``.
    """
    p, q, v = _params(params, GAMMA_GAMMA_PARAMS, "Gamma-Gamma")
    if q <= 1:
        raise ValueError(f"expected_average_value needs q > 1 (finite mean spend), got q={q}")
    x, m = _monetary(frequency, monetary)
    m = np.where(x > 0, m, 0.0)
    return _scalar_or_array(np.asarray(p * (v + x * m) / (p * x + q - 1), dtype=float))


# --------------------------------------------------------------------------------------------
# CLV
# --------------------------------------------------------------------------------------------


def discounted_purchases(
    bgnbd_params: ParamsLike,
    frequency: Any,
    recency: Any,
    T: Any,
    *,
    horizon: float,
    discount_rate: float,
    step: float = 1,
) -> np.ndarray | float:
    """Expected number of transactions in the next ``horizon`` time units, each discounted to
    today: ``sum_k (E[Y(t_k)] - E[Y(t_{k-1})]) / (1 + discount_rate) ** t_k`` (see
    :func:`clv`, which multiplies it by the expected transaction value). Useful on its own
    when the value per transaction comes from elsewhere (e.g. when Gamma-Gamma does not fit:
    ``q <= 1``)."""
    horizon = float(horizon)
    discount_rate = float(discount_rate)
    step = float(step)
    if not math.isfinite(horizon) or horizon <= 0:
        raise ValueError(f"horizon must be finite and > 0, got {horizon}")
    if not math.isfinite(step) or step <= 0:
        raise ValueError(f"step must be finite and > 0, got {step}")
    if not math.isfinite(discount_rate) or discount_rate < 0:
        raise ValueError(f"discount_rate must be finite and >= 0, got {discount_rate}")
    x, t_x, age = _rfm(frequency, recency, T)
    n_steps = math.ceil(horizon / step - 1e-9)
    if n_steps > 100_000:
        raise ValueError(f"horizon / step gives {n_steps} steps; use a larger step")
    bounds = np.minimum(np.arange(1, n_steps + 1) * step, horizon)
    bounds[-1] = horizon
    total = np.zeros(np.shape(x))
    previous = np.zeros(np.shape(x))
    for t_k in bounds:
        current = np.asarray(expected_purchases(bgnbd_params, t_k, x, t_x, age), dtype=float)
        total = total + (current - previous) / (1.0 + discount_rate) ** t_k
        previous = current
    return _scalar_or_array(np.asarray(total, dtype=float))


def clv(
    bgnbd_params: ParamsLike,
    gg_params: ParamsLike,
    frequency: Any,
    recency: Any,
    T: Any,
    monetary: Any,
    *,
    horizon: float,
    discount_rate: float,
    step: float = 1,
) -> np.ndarray | float:
    """Expected discounted customer lifetime value over the next ``horizon`` time units.

    The horizon is cut into steps ending at ``t_k = min(k * step, horizon)``; the expected
    number of transactions in step ``k``, ``E[Y(t_k)] - E[Y(t_{k-1})]`` (see
    :func:`expected_purchases`), is discounted to today at ``(1 + discount_rate) ** -t_k``
    (transactions are valued at the end of their step) and multiplied by the customer's
    expected average transaction value (:func:`expected_average_value`)::

        CLV = E[M] * sum_k (E[Y(t_k)] - E[Y(t_{k-1})]) / (1 + discount_rate) ** t_k

    Parameters
    ----------
    bgnbd_params : mapping or sequence
        Fitted BG/NBD parameters.
    gg_params : mapping or sequence
        Fitted Gamma-Gamma parameters (``q > 1``).
    frequency, recency, T : array_like
        Customer summary, time in the BG/NBD model's unit.
    monetary : array_like of float
        Average repeat transaction value, in currency units.
    horizon : float
        Forecast horizon (> 0) in the model's time unit, e.g. 52 for one year in weeks.
    discount_rate : float
        Discount rate *per time unit* (>= 0), e.g. ``1.10 ** (1 / 52) - 1`` for 10 % a year
        with weekly data.
    step : float, default 1
        Length of a discounting step in time units (> 0). If it does not divide ``horizon``
        the last step is shorter.

    Returns
    -------
    ndarray or float
        Expected discounted value per customer, in the currency unit of ``monetary``. This is
        the value of *future* transactions only; it excludes anything already observed.
    """
    x_m, m = _monetary(frequency, monetary)
    _same_shape({"frequency": x_m, "monetary": m})
    value = np.asarray(expected_average_value(gg_params, x_m, m), dtype=float)
    total = np.asarray(
        discounted_purchases(
            bgnbd_params, frequency, recency, T,
            horizon=horizon, discount_rate=discount_rate, step=step,
        ),
        dtype=float,
    )  # fmt: skip
    return _scalar_or_array(np.asarray(total * value, dtype=float))
