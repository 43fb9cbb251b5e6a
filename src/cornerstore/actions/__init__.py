"""The next best action: for each customer, what to do now and why, in words.

:mod:`cornerstore.actions.rules` decides from plain facts (pure); :mod:`cornerstore.actions.service`
gathers the facts (learned scores, moments, orders, open complaints, consents, contact caps,
suggestions) and serves the API, CLI, console and campaigns alike.
"""
