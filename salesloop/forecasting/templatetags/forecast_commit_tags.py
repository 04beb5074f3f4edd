"""``{% forecast_category_panel obj %}``: the deal page's forecast-category selector (issue #7 §4 (c)).

The panel is shown to whoever may read the deal (the page checked that); the selector only to
the deal's owner and their managers, and only while the deal is open. Posting the selector goes to
``forecasting:commit_deal_category`` with ``panel=deal``, which answers with this panel again.
"""

from __future__ import annotations

from django import template

from salesloop.forecasting import commit
from salesloop.forecasting.models import Category
from salesloop.org.models import User
from salesloop.pipeline.models import Opportunity

register = template.Library()

#: Category choices offered for an open deal, in the order a rep thinks about them.
OPEN_CHOICES = [(c.value, c.label) for c in (Category.COMMIT, Category.BEST_CASE, Category.PIPELINE, Category.OMITTED)]


def category_panel_context(user: User, deal: Opportunity) -> dict:
    row = getattr(deal, "forecast_category", None)
    category = commit.effective_category(deal)
    return {
        "deal": deal,
        "category": category,
        "category_label": Category(category).label if category else "",
        "version": row.version if row is not None else "",
        "editable": not deal.stage.is_closed and commit.may_categorise(user, deal.owner),
        "is_lost": deal.stage.is_lost,
        "choices": OPEN_CHOICES,
        "error": "",
    }


@register.inclusion_tag("forecasting/commit_deal_panel.html", takes_context=True)
def forecast_category_panel(context, deal: Opportunity) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    out = category_panel_context(user, deal)
    out["request"] = request
    return out
