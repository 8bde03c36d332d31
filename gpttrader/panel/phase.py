"""Where a panel session is, in a module of its own: the panel reads it to show itself, long before a
session (and the engine it imports) is started."""

from enum import StrEnum


class Phase(StrEnum):
    IDLE = "idle"
    CONNECTING = "connecting"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    STOPPED = "stopped"
    REFUSED = "refused"  # the live gate said no
    ERROR = "error"
