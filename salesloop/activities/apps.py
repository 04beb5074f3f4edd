from django.apps import AppConfig


class ActivitiesConfig(AppConfig):
    name = "salesloop.activities"
    label = "activities"
