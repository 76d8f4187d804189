"""Audit reports: parameterised notebooks run by papermill, published as offline HTML.

The notebooks hold the narrative; the analysis, statistics, charts and publishing rules
live here, in tested modules, so every report follows the same rules.
"""
