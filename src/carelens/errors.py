"""The one exception type for user errors: bad files, bad config, unknown names."""


class CarelensError(Exception):
    """A user error. The message says what went wrong and where (file:line or config key).

    The CLI prints it without a traceback and exits with code 2.
    """

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)
