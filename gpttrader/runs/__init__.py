"""Notebooks run headless: the papermill runner, its parameter checks and the run registry."""

from gpttrader.runs.parameters import ParameterError, check_parameters, notebook_parameters
from gpttrader.runs.runner import available_notebooks, run_notebook

__all__ = ["ParameterError", "available_notebooks", "check_parameters", "notebook_parameters", "run_notebook"]
