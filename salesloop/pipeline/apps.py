from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "salesloop.pipeline"
    label = "pipeline"
