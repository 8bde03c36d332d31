"""The ipywidgets control panel: a bot session on the kernel's event loop, watched and acted on."""

from gpttrader.panel.session import BotSession, Phase
from gpttrader.panel.widgets import ControlPanel

__all__ = ["BotSession", "ControlPanel", "Phase"]
