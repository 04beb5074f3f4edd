from salesloop.intel.urls_analytics import urlpatterns as analytics_patterns
from salesloop.intel.urls_pages import urlpatterns as page_patterns

app_name = "intel"
urlpatterns = [*page_patterns, *analytics_patterns]
