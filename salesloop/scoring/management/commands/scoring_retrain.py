"""``manage.py scoring_retrain``: train and validate the win-probability model, rescore open deals."""

from django.core.management.base import BaseCommand

from salesloop.scoring.services import model_retrain


def _f(value) -> str:
    return "—" if value is None else f"{value:.3f}"


class Command(BaseCommand):
    help = "Train the win-probability model on closed deals (out-of-time validation) and score every open deal."

    def handle(self, *args, **options):
        r = model_retrain(force=True)
        if r["trained"]:
            self.stdout.write(
                f"model #{r['model_id']} trained on {r['n_train']} deals, validated out of time on "
                f"{r['n_validation']}: AUC {_f(r['auc'])} (baseline {_f(r['baseline_auc'])}), "
                f"Brier {_f(r['brier'])} (baseline {_f(r['baseline_brier'])}); active={r['active']}"
            )
        else:
            self.stdout.write(f"no model activated ({r['status']}): {r['reason']}")
            if r["auc"] is not None:
                self.stdout.write(
                    f"validation AUC {_f(r['auc'])} (baseline {_f(r['baseline_auc'])}), "
                    f"Brier {_f(r['brier'])} (baseline {_f(r['baseline_brier'])})"
                )
        self.stdout.write(f"{r['scored']} open deals scored; {r['n_closed']} closed deals; {r['seconds']:.1f} s")
