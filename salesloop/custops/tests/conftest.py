"""Shared fixtures: fast password hashing, and the CDNOW data read from the ``lifetimes`` wheel.

The CDNOW files are not committed (REFERENCES.md): the wheel is fetched once with
``pip download`` into ``var/cache/`` (ignored by git) and read with ``zipfile``; nothing of
``lifetimes`` is installed or imported.
"""

import csv
import datetime as dt
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings as django_settings

LIFETIMES_VERSION = "0.11.3"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """The org fixture makes a dozen users; PBKDF2 at production strength would dominate."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def lifetimes_wheel() -> Path:
    """The cached wheel, downloaded on first use (atomic rename: parallel workers may race)."""
    cache = Path(django_settings.VAR_DIR) / "cache" / "wheels"
    cache.mkdir(parents=True, exist_ok=True)
    found = [
        p
        for p in cache.glob("*.whl")
        if p.name.lower().startswith(f"lifetimes-{LIFETIMES_VERSION}-")
    ]
    if found:
        return found[0]
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                f"lifetimes=={LIFETIMES_VERSION}",
                "--no-deps",
                "--only-binary=:all:",
                "-q",
                "-d",
                tmp,
            ],
            check=True,
        )
        (wheel,) = Path(tmp).glob("*.whl")
        target = cache / wheel.name
        os.replace(wheel, target)
    return target


@dataclass(frozen=True)
class Cdnow:
    """The CDNOW sample (2,357 customers) as Fader, Hardie & Lee used it."""

    summary_id: np.ndarray
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    #: sample id → {day: dollars}, every transaction of 1997-01-01 … 1998-06-30 summed per day.
    days: dict[int, dict[dt.date, float]]

    CALIBRATION_END = dt.date(1997, 9, 30)  # 39 weeks from 1997-01-01, inclusive

    def repeat_buyers(self) -> tuple[np.ndarray, np.ndarray]:
        """(x, mean repeat spend) of the calibration period's repeat buyers."""
        xs, means = [], []
        for per_day in self.days.values():
            calibration = sorted((d, v) for d, v in per_day.items() if d <= self.CALIBRATION_END)
            if len(calibration) > 1:
                repeat = [v for _d, v in calibration[1:]]
                xs.append(len(repeat))
                means.append(sum(repeat) / len(repeat))
        return np.array(xs, float), np.array(means, float)


@pytest.fixture(scope="session")
def cdnow() -> Cdnow:
    with zipfile.ZipFile(lifetimes_wheel()) as wheel:
        summary = list(
            csv.DictReader(
                io.TextIOWrapper(
                    wheel.open("lifetimes/datasets/cdnow_customers_summary.csv"), "utf-8"
                )
            )
        )
        sample = wheel.read("lifetimes/datasets/CDNOW_sample.txt").decode()
    days: dict[int, dict[dt.date, float]] = defaultdict(lambda: defaultdict(float))
    for line in sample.splitlines():
        if line.strip():
            _master, sample_id, day, _cds, dollars = line.split()
            date = dt.date(int(day[:4]), int(day[4:6]), int(day[6:]))
            days[int(sample_id)][date] += float(dollars)
    return Cdnow(
        summary_id=np.array([int(r["ID"]) for r in summary]),
        x=np.array([float(r["frequency"]) for r in summary]),
        t_x=np.array([float(r["recency"]) for r in summary]),
        T=np.array([float(r["T"]) for r in summary]),
        days={k: dict(v) for k, v in days.items()},
    )
