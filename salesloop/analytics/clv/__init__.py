"""Customer-base models from the marketing-science literature (no Django in here).

* :mod:`.bgnbd` — BG/NBD (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way"):
  how many purchases a customer will make and the probability they are still active.
* :mod:`.gammagamma` — Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"):
  the expected value of a customer's future transactions.

Why a pure-numpy package: the models are fitted by maximum likelihood on aggregated
``(x, t_x, T)`` arrays, so they are tested against published results without a database, and the
Django side (``salesloop.custops``) only builds the arrays with one set-based query. The package is
called ``clv`` rather than ``models`` so it never looks like a Django ``models`` module.
"""
