"""Blinded clinician review of responses: rating rounds, the rating web app, and agreement.

``packets`` draws a round's items from a run, ``masking`` hides demographic mentions in posts, ``db``
stores the round, ``app`` serves it, ``export`` writes the ``ratings`` table, ``ratings`` reads and
checks answers, ``reliability`` holds kappa and alpha under an N/A convention, ``validity`` compares the
scorer with clinicians, ``agreement`` computes every figure of a round, ``commands`` is the
``carelens review`` CLI.
"""
