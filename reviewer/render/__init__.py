"""Rendering of figures for people: the HTML report and its SVG charts.

Pure functions from domain figures to text; no database, no Qt. The app's charts
(``reviewer.ui.charts``) draw the same SVG primitives.
"""
