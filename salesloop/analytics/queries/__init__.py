"""Set-based SQL for analyses: one module per analysis (actuals, attribution, ...)."""
