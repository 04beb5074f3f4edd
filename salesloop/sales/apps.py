from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "salesloop.sales"
    label = "sales"
