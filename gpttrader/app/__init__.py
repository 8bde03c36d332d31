"""Front door of the package: the service container and the `gpttrader` command."""

from gpttrader.app.container import ApplicationContainer

__all__ = ["ApplicationContainer"]
