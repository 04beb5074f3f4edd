"""Template helpers of opportunity scoring: the score card on a deal page and number filters."""

from __future__ import annotations

from django import template
from django.utils.formats import number_format

from salesloop.scoring import reasons, selectors, services
from salesloop.scoring.api import baseline_message

register = template.Library()


@register.filter
def num(value, digits: int = 3) -> str:
    if value is None:
        return "—"
    # number_format cuts a float's decimals off; round first so 0.6806 shows as 0.681.
    return number_format(round(float(value), int(digits)), int(digits))


@register.filter
def pct(value, digits: int = 0) -> str:
    """A probability (0–1) as a percentage."""
    if value is None:
        return "—"
    return f"{number_format(round(100 * float(value), int(digits)), int(digits))}%"


@register.inclusion_tag("scoring/_deal_score.html", takes_context=True)
def deal_score(context, opportunity) -> dict:
    """The win probability and its top reasons, for a deal the page already showed to the viewer.

    The page itself checked that the viewer may read the deal; we check again through
    ``org.access`` so the card can never leak a score if it is included elsewhere.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    if opportunity is None or user is None or not user.is_authenticated:
        return {"show": False}
    from django.http import Http404

    try:
        deal = selectors.visible_opportunity(user, opportunity.pk)
    except Http404:
        return {"show": False}
    if deal.stage.is_closed:
        return {"show": False}
    score = services.current_score(deal)
    if score is None:
        return {"show": True, "score": None}
    names = selectors.stage_names()
    rows = [
        {"text": reasons.sentence(r, names), "effect": r["effect"], "raises": r["effect"] > 0} for r in score.reasons
    ]
    return {
        "show": True,
        "score": score,
        "reasons": rows,
        "baseline_message": baseline_message(score),
        "can_read_model": selectors.can_read_model(user),
    }
