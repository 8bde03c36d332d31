"""Notebooks run headless: the papermill runner, its parameter checks and the run registry."""

from gpttrader.runs.parameters import ParameterError, check_parameters, notebook_parameters, read_parameters
from gpttrader.runs.runner import available_notebooks, notebook_path, run_notebook

__all__ = [
    "ParameterError",
    "available_notebooks",
    "check_parameters",
    "notebook_parameters",
    "notebook_path",
    "read_parameters",
    "run_notebook",
]
