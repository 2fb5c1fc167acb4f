"""Figures drawn from the plain data that the library and the experiments return."""
