from salesloop.forecasting.urls_commit import urlpatterns as commit_patterns
from salesloop.forecasting.urls_forecasts import urlpatterns as forecast_patterns

app_name = "forecasting"
urlpatterns = [*forecast_patterns, *commit_patterns]
