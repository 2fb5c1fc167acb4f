"""The paper's results and the project's showcases as functions that return plain data."""
