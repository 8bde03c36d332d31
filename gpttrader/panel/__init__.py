"""The ipywidgets control panel: a bot session on the kernel's event loop, watched and acted on. The session
(`gpttrader.panel.session.BotSession`) is imported at the first Start, so the panel shows at once."""

from gpttrader.panel.phase import Phase
from gpttrader.panel.widgets import ControlPanel

__all__ = ["ControlPanel", "Phase"]
