"""Vectorised draws for the demo book: valid identifiers (credit codes and resident ID numbers
python-stdnum accepts), names, mobiles, office-hour times and the NumPy helpers every part of
the book uses. Pure: no database; every draw comes from the generator it is given."""

from __future__ import annotations

from functools import cache

import numpy as np
import polars as pl
from stdnum.cn import ric

from fincrm.customers.geo import CITIES

from . import names

UTC_OFFSET = np.timedelta64(8, "h")
FIRST_BIRTH_YEAR, LAST_BIRTH_YEAR = 1960, 1997
#: County codes valid for every birthday the demo uses (Beijing Chaoyang, Shanghai Huangpu...).
FALLBACK_COUNTIES = ("110105", "310101", "310104")
MOBILE_PREFIXES = ("13", "15", "17", "18", "19")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = np.array((1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28))


# --- identifiers -------------------------------------------------------------------------


def _valid(county: str, year: int) -> bool:
    body = f"{county}{year}0101001"
    try:  # stdnum raises KeyError (not a validation error) for some unknown codes
        return ric.is_valid(body + ric.calc_check_digit(body + "0"))
    except KeyError:
        return False


@cache
def counties_by_year() -> dict[tuple[str, int], tuple[str, ...]]:
    """County codes python-stdnum accepts, per (city area code, birth year)."""
    years = range(FIRST_BIRTH_YEAR, LAST_BIRTH_YEAR + 1)
    found: dict[tuple[str, int], list[str]] = {(c.area_code, y): [] for c in CITIES for y in years}
    for city in CITIES:
        for suffix in range(1, 40):
            county = f"{city.area_code}{suffix:02d}"
            # Counties are created and merged rarely: probe a few years, all when they differ.
            probes = {_valid(county, year) for year in (1960, 1970, 1980, 1990, 1997)}
            if probes == {True}:
                valid = years
            elif probes == {False}:
                valid = ()
            else:
                valid = [year for year in years if _valid(county, year)]
            for year in valid:
                found[city.area_code, year].append(county)
    return {key: tuple(codes) for key, codes in found.items()}


def uscc_codes(regions: np.ndarray, serials: np.ndarray) -> list[str]:
    """Valid unified social credit codes ``91`` + region (6 digits) + serial (9 digits)."""
    bodies = [f"91{r}{s:09d}" for r, s in zip(regions, serials, strict=True)]
    digits = np.frombuffer("".join(bodies).encode(), dtype=np.uint8).reshape(-1, 17) - ord("0")
    check = (31 - (digits.astype(np.int64) @ USCC_WEIGHTS) % 31) % 31
    return [b + USCC_ALPHABET[c] for b, c in zip(bodies, check.tolist(), strict=True)]


def ric_number(county: str, birthday: str, sequence: int) -> str:
    """A resident ID number: county, birthday (YYYYMMDD), sequence and check digit."""
    body = f"{county}{birthday}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


# --- vector helpers ------------------------------------------------------------------------


def spread(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ``counts[i]`` children of each parent i: each child's parent and its position."""
    parent = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return parent, np.arange(len(parent)) - starts[parent]


def pick(rng: np.random.Generator, options, n: int, p=None) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.choice(len(options), size=n, p=p)]


def money(values: np.ndarray) -> np.ndarray:
    return np.round(np.maximum(values, 0.0), 2)


def half_up(values: np.ndarray) -> np.ndarray:
    """Cents rounded half up, as ``Decimal.quantize(ROUND_HALF_UP)`` in the schedules (the
    small epsilon absorbs binary fractions such as 0.125 stored as 0.12499…)."""
    return np.floor(np.asarray(values) * 100 + 0.5 + 1e-7) / 100


def add_months(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """``days`` + ``months`` calendar months, the day of month capped at 28."""
    month = days.astype("datetime64[M]")
    day = np.minimum((days - month.astype("datetime64[D]")).astype(np.int64), 27)
    return (month + months).astype("datetime64[D]") + day


def office_time(rng: np.random.Generator, days: np.ndarray, *, on_the_hour: bool = False):
    """A time on each of ``days`` during office hours in Shanghai, as naive UTC."""
    n = len(days)
    hours = rng.integers(9, 18, n)
    minutes = np.zeros(n, dtype=np.int64) if on_the_hour else rng.integers(0, 60, n)
    local = days.astype("datetime64[s]") + hours * 3600 + minutes * 60
    return local - UTC_OFFSET


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    surnames, weights = zip(*names.SURNAMES, strict=True)
    surname = pick(rng, surnames, n, p=np.array(weights) / sum(weights))
    chars = np.array(list(names.GIVEN_CHARS), dtype=object)
    first = chars[rng.integers(0, len(chars), n)]
    second = np.where(rng.random(n) < 0.35, "", chars[rng.integers(0, len(chars), n)])
    return (surname + first + second).tolist()


def mobiles(rng: np.random.Generator, n: int) -> list[str]:
    prefix = pick(rng, MOBILE_PREFIXES, n)
    rest = rng.integers(0, 1_000_000_000, n)
    return [f"{p}{r:09d}" for p, r in zip(prefix, rest.tolist(), strict=True)]


def uniform_from(rng: np.random.Generator, pools: list[tuple], which: np.ndarray) -> list:
    """One item per row from ``pools[which[row]]``, uniformly."""
    sizes = np.array([len(pool) for pool in pools])[which]
    index = (rng.random(len(which)) * sizes).astype(np.int64)
    return [pools[w][i] for w, i in zip(which.tolist(), index.tolist(), strict=True)]


def dates(values: np.ndarray) -> pl.Series:
    return pl.Series(values.astype("datetime64[D]"), dtype=pl.Date)


def times(values: np.ndarray) -> pl.Series:
    return pl.Series(values.astype("datetime64[us]"), dtype=pl.Datetime("us"))
