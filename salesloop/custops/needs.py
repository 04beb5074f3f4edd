"""Tags of customer needs: one spelling per tag, so the weekly report counts them together."""

import unicodedata

from django.utils.translation import gettext as _

MAX_TAGS = 10
MAX_TAG_LENGTH = 40


def normalise_tag(tag: str) -> str:
    """NFKC (full-width → half-width), trimmed, inner spaces collapsed, lower case."""
    text = unicodedata.normalize("NFKC", str(tag)).strip().lower()
    return " ".join(text.split())


def normalise_tags(tags) -> list[str]:
    """Distinct normalised tags in their first order; raises ``ValueError`` with a message."""
    if tags in (None, ""):
        return []
    if isinstance(tags, str):
        tags = tags.replace("，", ",").split(",")
    if not isinstance(tags, list | tuple):
        raise ValueError(_("A list of tags."))
    seen: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            raise ValueError(_("Tags are text."))
        clean = normalise_tag(tag)
        if not clean:
            continue
        if len(clean) > MAX_TAG_LENGTH:
            raise ValueError(_("A tag has at most %(n)s characters.") % {"n": MAX_TAG_LENGTH})
        if clean not in seen:
            seen.append(clean)
    if len(seen) > MAX_TAGS:
        raise ValueError(_("At most %(n)s tags.") % {"n": MAX_TAGS})
    return seen
