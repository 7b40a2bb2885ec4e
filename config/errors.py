"""The one exception type for user mistakes: the CLI prints its message on one line, no trace."""


class UserError(Exception):
    """Bad input or state the user can fix (missing file, corrupt adapter, bad config)."""
