"""Blinded clinician review of responses: rating rounds, the rating web app, and agreement.

``packets`` draws a round's items from a run, ``masking`` hides demographic mentions in posts, ``db``
stores the round, ``app`` serves it, ``export`` writes the ``ratings`` table, ``agreement`` computes
inter-rater agreement and the scorer's validity, ``commands`` is the ``carelens review`` CLI.
"""
