from django.apps import AppConfig


class DataioConfig(AppConfig):
    name = "salesloop.dataio"
    label = "dataio"
