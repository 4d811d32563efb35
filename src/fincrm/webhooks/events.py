"""What the rest of fincrm calls: ``events.emit(events.Event.X, [payload, ...])``."""

from .models import Event
from .services import emit

__all__ = ["Event", "emit"]
