from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "salesloop.demo"
    label = "demo"
