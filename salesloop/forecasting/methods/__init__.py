"""The four ways to call a period (seed 001 销售预测技巧), one small module each.

Every method returns a :class:`~salesloop.forecasting.methods.base.MethodResult`: an amount (or
none, with the reason), the currency, and the inputs that explain the number.
"""
