"""Settings read by every layer: config → memory → consolidation → agent."""

from config.errors import UserError
from config.settings import Settings, load_settings

__all__ = ["Settings", "UserError", "load_settings"]
