"""Customer-operations benchmark: RFM + segments, BG/NBD + Gamma-Gamma fit and scoring.

Run against the size-M PostgreSQL database (``manage.py demo --size M`` into ``salesloop_bench``):

    .venv/bin/python bench/custops_bench.py            # or: make bench-custops

What it measures, each phase in a fresh child process so that its peak memory (max RSS, read
with ``os.wait4``) is its own:

1. ``rfm`` — the full RFM + quintile scores + both segment schemes + segment-change history +
   upsert of ``custops_accountrfm``: the four set-based statements of
   ``salesloop.analytics.queries.rfm`` in one transaction;
2. ``churn`` — the customer-base query, BG/NBD and Gamma-Gamma maximum-likelihood fits, scoring
   of every buyer and the bulk upsert of ``custops_accountchurn`` (``custops.scoring``);
3. ``fit-ours`` / ``fit-lifetimes`` — the same fit-and-score work on the *same* exported arrays,
   by our code and by the ``lifetimes`` 0.11.3 library running in its own virtualenv
   (``var/venvs/lifetimes``: numpy 1.26, pandas 2.2, scipy 1.13, autograd 1.7 — it does not run on
   current stacks, REFERENCES.md), so the ratio compares like with like.

The two libraries' parameters are printed side by side (they must agree: same likelihood).
Results go to stdout as a Markdown table and to ``bench/results/custops.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "var" / "venvs" / "lifetimes"
EXPORT = ROOT / "var" / "bench" / "custops_base.npz"
RESULTS = ROOT / "bench" / "results" / "custops.json"
LIFETIMES_PINS = [
    "numpy==1.26.*",
    "pandas==2.2.*",
    "scipy==1.13.*",
    "autograd==1.7.*",
    "setuptools<82",
    "lifetimes==0.11.3",
]
HORIZON_WEEKS = 90 / 7.0


def _django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesloop.settings")
    os.environ.setdefault("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/salesloop_bench")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    import django

    django.setup()


# Child phases ----------------------------------------------------------------------


def phase_rfm(as_of) -> dict:
    _django()
    from django.db import transaction

    from salesloop.custops.models import CustomerOpsPolicy, GridSegment, RuleSegment, ScoringRun

    started = time.perf_counter()
    with transaction.atomic():
        policy = CustomerOpsPolicy.current()
        rules = list(RuleSegment.objects.filter(is_active=True).order_by("precedence", "id"))
        grid = list(GridSegment.objects.filter(is_active=True))
        from django.utils import timezone

        from salesloop.analytics.queries import rfm
        from salesloop.org.models import OrgSettings

        run = ScoringRun.objects.create(as_of=as_of, policy={"bench": True})
        outcome = rfm.recompute(
            rfm.RfmRequest(
                as_of=run.as_of,
                run_id=run.pk,
                window_days=policy.rfm_window_days,
                currency=OrgSettings.current().currency,
                monetary_from_payments=False,
                rules=[
                    rfm.RuleSpec(
                        r.code,
                        r.kind,
                        r.recency_min_days,
                        r.recency_max_days,
                        r.frequency_min,
                        r.frequency_max,
                        r.monetary_min,
                        r.monetary_max,
                        r.value_rank,
                    )
                    for r in rules
                ],
                grid=[
                    rfm.GridSpec(
                        g.code,
                        g.recency_score_min,
                        g.recency_score_max,
                        g.frequency_score_min,
                        g.frequency_score_max,
                        g.value_rank,
                    )
                    for g in grid
                ],
            )
        )
        run.accounts = outcome.accounts
        run.segment_changes = outcome.rule_changes + outcome.grid_changes
        run.finished_at = timezone.now()
        run.seconds = time.perf_counter() - started
        run.save()
    return {
        "seconds": time.perf_counter() - started,
        "accounts": outcome.accounts,
        "segment_changes": outcome.rule_changes + outcome.grid_changes,
    }


def phase_churn(as_of) -> dict:
    _django()
    import numpy as np
    from django.db import transaction
    from django.utils import timezone

    from salesloop.analytics.queries.customer_base import customer_base
    from salesloop.custops.models import CustomerOpsPolicy, ScoringRun
    from salesloop.custops.scoring import fit_models, score, write_scores
    from salesloop.org.models import OrgSettings

    times = {}
    t0 = time.perf_counter()
    with transaction.atomic():
        policy = CustomerOpsPolicy.current()
        currency = OrgSettings.current().currency
        run = ScoringRun.objects.create(as_of=as_of, policy={"bench": True})
        base = customer_base(as_of=run.as_of, currency=currency)
        times["query"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        fits = fit_models(base, policy)
        times["fit"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        scores = score(base, fits, policy)
        times["score"] = time.perf_counter() - t2
        t3 = time.perf_counter()
        flagged = write_scores(run=run, base=base, scores=scores, currency=currency)
        times["write"] = time.perf_counter() - t3
        run.bgnbd, run.gamma_gamma = fits.as_json()
        run.flagged = flagged
        run.finished_at = timezone.now()
        run.save()
    EXPORT.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        EXPORT,
        x=base.x,
        t_x=base.t_x(),
        T=base.T(),
        m=np.nan_to_num(base.mean_repeat_value(), nan=0.0),
    )
    return {
        "seconds": time.perf_counter() - t0,
        **times,
        "customers": len(base),
        "repeat_buyers": int((base.x > 0).sum()),
        "flagged": flagged,
        "bgnbd": run.bgnbd,
        "gamma_gamma": run.gamma_gamma,
    }


def phase_fit_ours(path: Path) -> dict:
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from salesloop.analytics.clv import bgnbd, gammagamma

    data = np.load(path)
    x, t_x, T, m = data["x"], data["t_x"], data["T"], data["m"]
    started = time.perf_counter()
    bg = bgnbd.fit(x, t_x, T)
    p_alive = bgnbd.p_alive(bg.params, x, t_x, T)
    expected = bgnbd.conditional_expected_purchases(bg.params, HORIZON_WEEKS, x, t_x, T)
    paying = (x > 0) & (m > 0)
    gg = gammagamma.fit(x[paying], m[paying])
    spend = gammagamma.conditional_expected_spend(gg.params, np.where(m > 0, x, 0), m)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "bgnbd_used": bgnbd.is_interior(bg.converged, bg.params.as_array()),
        "bgnbd": vars(bg.params),
        "ll": bg.log_likelihood,
        "gamma_gamma": vars(gg.params),
        "checksum": float(p_alive.sum() + expected.sum() + spend[paying].sum()),
    }


_LIFETIMES_CHILD = r"""
import json, sys, time, warnings
import numpy as np, pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import ConvergenceError
warnings.simplefilter("ignore")
data = np.load(sys.argv[1]); horizon = float(sys.argv[2])
x, t_x, T, m = data["x"], data["t_x"], data["T"], data["m"]
started = time.perf_counter()
bgf = BetaGeoFitter(penalizer_coef=0.0)
try:
    bgf.fit(pd.Series(x), pd.Series(t_x), pd.Series(T))
except ConvergenceError as exc:
    failed = str(exc).strip().splitlines()[0]
    print(json.dumps({"failed": failed, "seconds": time.perf_counter() - started}))
    sys.exit(0)
p_alive = bgf.conditional_probability_alive(x, t_x, T)
expected = bgf.conditional_expected_number_of_purchases_up_to_time(horizon, x, t_x, T)
paying = (x > 0) & (m > 0)
ggf = GammaGammaFitter(penalizer_coef=0.0)
ggf.fit(pd.Series(x[paying]), pd.Series(m[paying]))
spend = ggf.conditional_expected_average_profit(pd.Series(x[paying]), pd.Series(m[paying]))
p = bgf.params_; g = ggf.params_
print(json.dumps({"seconds": time.perf_counter() - started,
    "bgnbd": {k: float(p[k]) for k in ("r", "alpha", "a", "b")},
    "gamma_gamma": {"p": float(g["p"]), "q": float(g["q"]), "gamma": float(g["v"])},
    "checksum": float(np.sum(p_alive) + np.sum(expected) + np.sum(spend))}))
"""


def simulate_twin(path: Path, out: Path) -> int:
    """Arrays of the same size and observation lengths as ``path``, drawn from BG/NBD with the
    CDNOW estimates and Gamma-Gamma spend (p=6.25, q=3.74, γ=15.44 scaled to the data's mean
    spend): data on which the model is identified, to time both libraries where both converge."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from salesloop.analytics.clv import bgnbd, gammagamma

    data = np.load(path)
    rng = np.random.default_rng(2005)
    T = data["T"]
    x, t_x = bgnbd.simulate(bgnbd.BgNbdParams(0.243, 4.414, 0.793, 2.426), T, rng)
    scale = float(np.mean(data["m"][data["m"] > 0])) / (15.44 * 6.25 / 2.74)
    spend = gammagamma.GammaGammaParams(6.25, 3.74, 15.44 * scale)
    m = np.where(x > 0, gammagamma.simulate(spend, np.maximum(x, 1), rng), 0.0)
    np.savez(out, x=x, t_x=t_x, T=T, m=m)
    return int(T.size)


def ensure_lifetimes_venv() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *LIFETIMES_PINS], check=True)
    return python


# Parent: run each phase as a child and read its peak memory ---------------------------------------


def run_child(argv: list[str], env: dict | None = None) -> tuple[dict, float, float]:
    """Run a child, return (its JSON result, wall seconds, max RSS in MiB)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env or os.environ.copy()
    )
    out = proc.stdout.read()
    err = proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed:\n{err.decode()[-3000:]}")
    return json.loads(out.decode().strip().splitlines()[-1]), wall, usage.ru_maxrss / 1024.0


def last_order_day() -> str:
    _django()
    from django.db.models import Max

    from salesloop.sales.models import Order

    return Order.objects.aggregate(day=Max("order_date"))["day"].isoformat()


def describe() -> str:
    _django()
    from django.db import connection

    from salesloop.customers.models import Account
    from salesloop.sales.models import Order

    return (
        f"{connection.vendor} database {connection.settings_dict['NAME']}: "
        f"{Account.objects.count():,} accounts, {Order.objects.count():,} orders"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--phase", choices=["rfm", "churn", "fit-ours"])
    parser.add_argument("--arrays", type=Path, default=EXPORT)
    parser.add_argument(
        "--as-of",
        help="Scoring date (default: the day of the last order, so that generated demo data "
        "is scored as of its own end rather than as of today).",
    )
    parser.add_argument("--skip-lifetimes", action="store_true")
    parser.add_argument(
        "--arrays-only",
        action="store_true",
        help="Only the fit-and-score comparison, on the arrays the last full run exported.",
    )
    args = parser.parse_args()
    if args.phase:
        if args.phase == "fit-ours":
            result = phase_fit_ours(args.arrays)
        else:
            as_of = dt.date.fromisoformat(args.as_of)
            result = {"rfm": phase_rfm, "churn": phase_churn}[args.phase](as_of)
        print(json.dumps(result, default=str))
        return

    me = [sys.executable, str(Path(__file__).resolve())]
    where = "arrays of the last full run" if args.arrays_only else describe()
    print(f"# Customer-operations benchmark\n\n{where}; machine: {os.cpu_count()} cores\n")
    rows, results = [], {}
    phases = (
        ()
        if args.arrays_only
        else (
            ("rfm", "RFM + scores + segments + history (SQL)"),
            ("churn", "customer base + BG/NBD & GG fit + scoring + upsert"),
        )
    )
    as_of = args.as_of or (None if args.arrays_only else last_order_day())
    if as_of:
        print(f"Scoring date: {as_of}\n")
    for phase, label in phases:
        result, wall, rss = run_child([*me, "--phase", phase, "--as-of", str(as_of)])
        results[phase] = {**result, "max_rss_mib": rss}
        rows.append((label, result["seconds"], rss))
    twin = EXPORT.with_name("custops_simulated.npz")
    simulate_twin(EXPORT, twin)
    python = None if args.skip_lifetimes else ensure_lifetimes_venv()
    compared = []
    for name, path in (("demo data", EXPORT), ("simulated BG/NBD, same size", twin)):
        ours, _wall, ours_rss = run_child([*me, "--phase", "fit-ours", "--arrays", str(path)])
        entry = {"ours": {**ours, "max_rss_mib": ours_rss}}
        rows.append((f"fit + score ({name}): salesloop.analytics.clv", ours["seconds"], ours_rss))
        if python is not None:
            theirs, _wall, theirs_rss = run_child(
                [str(python), "-c", _LIFETIMES_CHILD, str(path), str(HORIZON_WEEKS)],
                env={"PATH": os.environ["PATH"]},
            )
            entry["lifetimes"] = {**theirs, "max_rss_mib": theirs_rss}
            label = f"fit + score ({name}): lifetimes 0.11.3"
            if "failed" in theirs:
                label += f" — FAILED: {theirs['failed']}"
            rows.append((label, theirs["seconds"], theirs_rss))
        results[f"compare: {name}"] = entry
        compared.append((name, entry))

    churn = results.get("churn")
    if churn:
        print(
            f"Buyers: {churn['customers']:,} ({churn['repeat_buyers']:,} repeat), "
            f"accounts scored: {results['rfm']['accounts']:,}, flagged: {churn['flagged']:,}; "
            f"BG/NBD used: {churn['bgnbd'].get('used')}\n"
        )
    print("| phase | seconds | peak RSS (MiB) |\n|---|---|---|")
    for label, seconds, rss in rows:
        print(f"| {label} | {seconds:.2f} | {rss:.0f} |")
    if churn:
        print(
            f"\nchurn phase split: query {churn['query']:.2f} s, fit {churn['fit']:.2f} s, "
            f"score {churn['score']:.2f} s, write {churn['write']:.2f} s"
        )
    for name, entry in compared:
        ours, theirs = entry["ours"], entry.get("lifetimes")
        print(f"\n### {name}: BG/NBD estimate usable by our checks: {ours['bgnbd_used']}")
        if theirs is None or "failed" in theirs:
            continue
        print(
            f"lifetimes / ours: time × {theirs['seconds'] / ours['seconds']:.1f}, "
            f"peak RSS × {theirs['max_rss_mib'] / ours['max_rss_mib']:.1f}\n"
        )
        print("| parameter | ours | lifetimes |\n|---|---|---|")
        for key in ("r", "alpha", "a", "b"):
            print(f"| BG/NBD {key} | {ours['bgnbd'][key]:.4f} | {theirs['bgnbd'][key]:.4f} |")
        for key in ("p", "q", "gamma"):
            print(
                f"| Gamma-Gamma {key} | {ours['gamma_gamma'][key]:.4f} "
                f"| {theirs['gamma_gamma'][key]:.4f} |"
            )
        print(
            f"| checksum Σ(P(alive) + E[Y] + E[M]) | {ours['checksum']:.2f} "
            f"| {theirs['checksum']:.2f} |"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    target = RESULTS.with_name("custops_arrays.json") if args.arrays_only else RESULTS
    target.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
