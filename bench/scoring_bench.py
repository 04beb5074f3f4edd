"""Opportunity-scoring benchmark (issue #7 §8): training and scoring every open deal on size M.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/salesloop_bench .venv/bin/python bench/scoring_bench.py --runs 3

What it measures, printing small tables (server time through Django's handler, ``_harness``):

1. the two feature queries alone (every closed deal as of its featurisation point; every open deal
   as of now): wall time and rows;
2. ``POST /api/scoring/retrain`` as the admin — features, out-of-time validation of the model and
   the baseline, refit on every closed deal, scoring and storing every open deal: p50/p95 over
   ``--runs`` runs and the SQL queries of one run;
3. ``score_open_deals()`` alone (rescoring every open deal with the active model), p50/p95;
4. ``GET /api/scoring/opportunities/{id}`` (a stored score) and ``GET /api/scoring/model``;
5. the validation metrics of the last run: AUC and Brier of the model against the frequency
   baseline on the out-of-time set, with its size.

Only the scoring tables are written (a model row per run, one score per open deal). Load average and
data size are printed with the results: the machine is shared, read the figures with them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import _harness  # noqa: F401  (sets up Django)
from _harness import describe_database, measure, percentile, print_table
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from salesloop.analytics.queries.scoring_features import closed_deal_features, open_deal_features
from salesloop.org.models import ApiToken, Role, User
from salesloop.pipeline.models import Opportunity
from salesloop.scoring.models import OpportunityScore, ScoringModel
from salesloop.scoring.services import score_open_deals


def timed(fn, runs: int) -> tuple[float, float, int, object]:
    times, queries, result = [], 0, None
    for i in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - start)
        if i == 0:
            queries = len(ctx.captured_queries)
    return statistics.median(times) * 1000, percentile(times, 0.95) * 1000, queries, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    print(describe_database())
    print(
        f"opportunities={Opportunity.objects.count()}, "
        f"closed={Opportunity.objects.filter(closed_at__isnull=False).count()}; "
        f"load average before: {os.getloadavg()[0]:.2f}"
    )
    now = timezone.now()

    print("\n## Feature queries\n")
    print("| query | rows | seconds |")
    print("|---|---|---|")
    for name, fn in (
        ("closed deals (training)", lambda: closed_deal_features(now)),
        ("open deals", lambda: open_deal_features(now)),
    ):
        start = time.perf_counter()
        frame = fn()
        print(f"| {name} | {len(frame)} | {time.perf_counter() - start:.2f} |")

    admin = (
        User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk").first()
        or User.objects.filter(is_superuser=True).first()
    )
    _token, key = ApiToken.issue(user=admin, name="scoring-bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")

    rows = []
    p50, p95, queries, response = timed(lambda: client.post("/api/scoring/retrain"), args.runs)
    rows.append(
        (
            "POST /api/scoring/retrain (train + validate + score all open)",
            response.status_code,
            p50,
            p95,
            queries,
            args.runs,
        )
    )
    p50, p95, queries, scored = timed(lambda: score_open_deals(now=timezone.now()), args.runs)
    rows.append((f"score_open_deals() ({scored} deals)", 200, p50, p95, queries, args.runs))
    print("\n## Training and scoring\n")
    print("| operation | status | p50 ms | p95 ms | SQL queries | runs |")
    print("|---|---|---|---|---|---|")
    for name, status, a, b, q, n in rows:
        print(f"| {name} | {status} | {a:.0f} | {b:.0f} | {q} | {n} |")

    some = OpportunityScore.objects.order_by("opportunity_id").values_list("opportunity_id", flat=True).first()
    results = [
        measure(client, "GET /api/scoring/model", "/api/scoring/model", runs=20),
    ]
    if some is not None:
        results.append(
            measure(client, "GET /api/scoring/opportunities/{id}", f"/api/scoring/opportunities/{some}", runs=20)
        )
    print_table("Reads", results)

    run = ScoringModel.objects.filter(is_active=True).order_by("-trained_at").first()
    print("\n## Out-of-time validation of the active model\n")
    if run is None or run.auc is None:
        print(f"no trained model: {run.status if run else '—'} {run.reason if run else ''}")
    else:
        print("| | model | frequency baseline |")
        print("|---|---|---|")
        print(f"| AUC | {run.auc:.3f} | {run.baseline_auc:.3f} |")
        print(f"| Brier | {run.brier:.4f} | {run.baseline_brier:.4f} |")
        print(f"| log loss | {run.log_loss:.4f} | {run.baseline_log_loss:.4f} |")
        print(
            f"\ntrain={run.n_train}, validation={run.n_validation} (closed since {run.cutoff:%Y-%m-%d}), "
            f"observed win rate {run.validation_win_rate:.3f}, mean predicted {run.mean_predicted:.3f}"
        )
    if run is not None:
        print(f"\nphases of the last run (s): {run.settings_used.get('timings', {})}")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")
    ApiToken.objects.filter(user=admin, name="scoring-bench").delete()


if __name__ == "__main__":
    main()
