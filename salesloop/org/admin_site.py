"""Who may enter the Django admin.

The admin reads and writes rows directly, without the book scoping of ``org.access``: a rep or a
sales leader let in would see every book. So besides Django's ``is_staff`` the person's role must
not be scoped to a book: administrators and the support functions (finance corrects payments
here, legal contracts, ...) may be staff; the sales line may not, unless a superuser.
"""

from django.contrib.admin import AdminSite
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class SalesloopAdminSite(AdminSite):
    site_header = _("Salesloop administration")
    site_title = _("Salesloop admin")
    index_title = _("Data administration")

    def has_permission(self, request) -> bool:
        from salesloop.org.models import LEADING_ROLES, Role  # the app registry is ready by now

        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return user.is_superuser or user.role not in {Role.REP, *LEADING_ROLES}


class SalesloopAdminConfig(AdminConfig):
    """``django.contrib.admin`` with :class:`SalesloopAdminSite` as ``admin.site``."""

    default_site = "salesloop.org.admin_site.SalesloopAdminSite"
