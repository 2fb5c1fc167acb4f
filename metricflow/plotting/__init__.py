"""Figures drawn from the plain data that the library and the experiments return.

Presentation only: matplotlib with the Agg backend, written atomically by
:func:`metricflow.io.save_figure_atomic`.  No library package imports from here.
"""
