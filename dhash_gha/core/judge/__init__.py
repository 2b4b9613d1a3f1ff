"""Statistical judges: SLO burn-rate alerting and the canary-versus-baseline rank-sum judge.

``burn_rate``: multiwindow, multi-burn-rate SLO alerts over counters, with the
post-deploy windows capped at the deploy, and the error budget left.
``rank_sum``: the Wilcoxon rank-sum test as R computes it, and a Kayenta-style
classifier and judgment over several metrics. Pure: no I/O.
"""
