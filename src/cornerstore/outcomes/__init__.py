"""Outcome metrics of the contact centre: whether and when a customer's problem was solved.

``model`` holds the plain records the metrics read and the figures they return, ``estimates``
the Wilson interval and quantiles, ``metrics`` the definitions and ``afterwards`` what customers
did in the 90 days after a resolved case against comparable customers without one.
"""
