from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "salesloop.customers"
    label = "customers"
